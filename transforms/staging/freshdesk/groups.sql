-- Freshdesk groups. Grain: (source, group_id).
SELECT
    'freshdesk' AS source,
    CAST(id AS text) AS group_id,
    name,
    false AS is_deleted,
    created_at,
    updated_at
FROM raw_freshdesk.groups
