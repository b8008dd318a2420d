-- Agent groups (teams). Grain: (source, group_id).
SELECT
    'zendesk' AS source,
    CAST(id AS text) AS group_id,
    name,
    coalesce(deleted, false) AS is_deleted,
    created_at,
    updated_at
FROM raw_zendesk.groups
