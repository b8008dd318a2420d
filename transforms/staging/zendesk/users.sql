-- Helpdesk users and the role that decides who is who in a conversation: Zendesk agents and
-- admins are `agent`, everyone else `end_user` (METRICS.md). Grain: (source, user_id).
SELECT
    'zendesk' AS source,
    CAST(id AS text) AS user_id,
    CASE WHEN role IN ('agent', 'admin') THEN 'agent' ELSE 'end_user' END AS role,
    role AS source_role,
    CAST(organization_id AS text) AS organization_id,
    active AS is_active,
    created_at,
    updated_at
FROM raw_zendesk.users
