-- Messages of Freshdesk tickets (METRICS.md, "Who is who"): the ticket's description (the
-- opening message: Freshdesk keeps it on the ticket, not among the conversations; message
-- id `description-<ticket id>`, `is_first_message`) and every conversation (replies,
-- notes, forwards, ...). The author's role is the one the agent list gives, whoever
-- requested the ticket: an agent (staging.users: full-time, occasional or deactivated) is
-- `agent`, anyone else `end_user` (Freshdesk's `incoming` flag only says a message came
-- from outside the helpdesk's web portal: a customer's portal reply is not `incoming`).
-- The description is the requester's, except on an outbound e-mail (source 10), which the
-- ticket's agent wrote to the customer. Public: everything but private notes.
-- Grain: (source, message_id).
WITH agents AS (
    SELECT CAST(user_id AS bigint) AS user_key
    FROM staging.users
    WHERE source = 'freshdesk' AND role = 'agent'
),

descriptions AS (
    SELECT id, created_at, CASE WHEN source = 10 THEN responder_id ELSE requester_id END
        AS author_id, source = 10 AS is_outbound
    FROM raw_freshdesk.tickets
    WHERE {{ raw_ticket_scope('freshdesk', 'id', 'bigint') }}
)

SELECT
    'freshdesk' AS source,
    'description-' || CAST(d.id AS text) AS message_id,
    CAST(d.id AS text) AS ticket_id,
    d.created_at,
    CAST(d.author_id AS text) AS author_id,
    CASE WHEN d.is_outbound OR a.user_key IS NOT NULL THEN 'agent' ELSE 'end_user' END
        AS author_role,
    true AS is_public,
    true AS is_first_message,
    'description' AS source_channel
FROM descriptions AS d
LEFT JOIN agents AS a
    ON a.user_key = d.author_id
UNION ALL
SELECT
    'freshdesk' AS source,
    CAST(c.id AS text) AS message_id,
    CAST(c.ticket_id AS text) AS ticket_id,
    c.created_at,
    CAST(c.user_id AS text) AS author_id,
    CASE WHEN a.user_key IS NOT NULL THEN 'agent' ELSE 'end_user' END AS author_role,
    NOT coalesce(c.private, false) AS is_public,
    false AS is_first_message,
    CASE c.source
        WHEN 0 THEN 'reply'
        WHEN 2 THEN 'note'
        WHEN 5 THEN 'tweet'
        WHEN 6 THEN 'survey_feedback'
        WHEN 7 THEN 'facebook'
        WHEN 8 THEN 'forwarded_email'
        WHEN 9 THEN 'phone'
        ELSE CAST(c.source AS text)
    END AS source_channel
FROM raw_freshdesk.conversations AS c
LEFT JOIN agents AS a
    ON a.user_key = c.user_id
WHERE {{ raw_ticket_scope('freshdesk', 'c.ticket_id', 'bigint') }}
