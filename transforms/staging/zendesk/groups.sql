-- Agent groups (teams). Grain: (source, group_id).
SELECT
    'zendesk' AS source,
    CAST(id AS text) AS group_id,
    name,
    coalesce(deleted, false) AS is_deleted,
    -- Zendesk assigns schedules by trigger, not by group: its tickets use the default.
    CAST(NULL AS text) AS schedule_id,
    created_at,
    updated_at
FROM raw_zendesk.groups
