-- Freshdesk's agents (full-time and occasional; an agent once listed stays one: the list is
-- merged, so a deleted agent's replies stay an agent's).
-- Customers (contacts) are not listed: whoever is not an agent is a customer
-- (staging/freshdesk/messages.sql). Grain: (source, user_id).
SELECT
    'freshdesk' AS source,
    CAST(id AS text) AS user_id,
    'agent' AS role,
    coalesce(type, 'support_agent') AS source_role,
    CAST(NULL AS text) AS organization_id,
    true AS is_active,
    created_at,
    updated_at
FROM raw_freshdesk.agents
