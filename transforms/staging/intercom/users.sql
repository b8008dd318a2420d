-- Intercom's teammates (admins) who can reply to customers, as agents: those with an inbox
-- seat. The workspace's bot (Operator, Fin) is listed among the admins without one, and
-- writes some parts as an `admin`: left out, its messages are `system`
-- (staging/intercom/messages.sql). Customers (contacts) are not listed: a message's author
-- type already says a user or lead wrote it. Grain: (source, user_id).
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
WHERE coalesce(has_inbox_seat, true)
