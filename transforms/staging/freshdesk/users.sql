-- Freshdesk's agents (full-time and occasional; a deactivated one stays an agent, inactive).
-- Customers (contacts) are not listed: whoever is not an agent is a customer
-- (staging/freshdesk/messages.sql). Grain: (source, user_id).
SELECT
    'freshdesk' AS source,
    CAST(id AS text) AS user_id,
    'agent' AS role,
    coalesce(type, 'support_agent') AS source_role,
    CAST(NULL AS text) AS organization_id,
    coalesce(active, true) AS is_active,
    created_at,
    updated_at
FROM raw_freshdesk.agents
