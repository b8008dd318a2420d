-- Freshdesk's agents (full-time and occasional). Customers (contacts) are not listed: a
-- conversation's `incoming` flag already says the customer wrote it
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
