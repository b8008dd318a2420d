-- Intercom's teammates (admins) as agents. Customers (contacts) are not listed: a message's
-- author type already says a user or lead wrote it (staging/intercom/messages.sql).
-- Grain: (source, user_id).
SELECT
    'intercom' AS source,
    CAST(id AS text) AS user_id,
    'agent' AS role,
    type AS source_role,
    CAST(NULL AS text) AS organization_id,
    true AS is_active,
    CAST(NULL AS timestamptz) AS created_at,
    CAST(NULL AS timestamptz) AS updated_at
FROM raw_intercom.admins
