-- Intercom teams as agent groups. Grain: (source, group_id).
SELECT
    'intercom' AS source,
    CAST(id AS text) AS group_id,
    name,
    false AS is_deleted,
    CAST(NULL AS text) AS schedule_id,
    CAST(NULL AS timestamptz) AS created_at,
    CAST(NULL AS timestamptz) AS updated_at
FROM raw_intercom.teams
