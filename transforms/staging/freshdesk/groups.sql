-- Freshdesk groups; `schedule_id`: the business calendar the group's tickets follow (NULL:
-- the account's default). Grain: (source, group_id).
SELECT
    'freshdesk' AS source,
    CAST(id AS text) AS group_id,
    name,
    false AS is_deleted,
    CAST(business_hour_id AS text) AS schedule_id,
    created_at,
    updated_at
FROM raw_freshdesk.groups
