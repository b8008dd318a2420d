-- Messages of Freshdesk tickets (METRICS.md, "Who is who"): the ticket's description (the
-- opening message: Freshdesk keeps it on the ticket, not among the conversations; message
-- id `description-<ticket id>`, `is_first_message`) and every conversation (replies,
-- notes, forwards, ...). Freshdesk marks who is outside the helpdesk: an `incoming`
-- conversation came from the customer (`end_user`); so did one written by the ticket's
-- requester; any other is an agent's (`agent`: Freshdesk's conversations are written by
-- its agents or customers, a deactivated agent's too). The description is the requester's,
-- except on an outbound e-mail (source 10), which an agent wrote to the customer: its author
-- is the ticket's agent. Public: everything but private notes. Grain: (source, message_id).
SELECT
    'freshdesk' AS source,
    'description-' || CAST(id AS text) AS message_id,
    CAST(id AS text) AS ticket_id,
    created_at,
    CAST(CASE WHEN source = 10 THEN responder_id ELSE requester_id END AS text) AS author_id,
    CASE WHEN source = 10 THEN 'agent' ELSE 'end_user' END AS author_role,
    true AS is_public,
    true AS is_first_message,
    'description' AS source_channel
FROM raw_freshdesk.tickets
WHERE {{ raw_ticket_scope('freshdesk', 'id', 'bigint') }}
UNION ALL
SELECT
    'freshdesk' AS source,
    CAST(c.id AS text) AS message_id,
    CAST(c.ticket_id AS text) AS ticket_id,
    c.created_at,
    CAST(c.user_id AS text) AS author_id,
    CASE
        WHEN coalesce(c.incoming, false) OR c.user_id = t.requester_id THEN 'end_user'
        ELSE 'agent'
    END AS author_role,
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
LEFT JOIN raw_freshdesk.tickets AS t
    ON t.id = c.ticket_id
WHERE {{ raw_ticket_scope('freshdesk', 'c.ticket_id', 'bigint') }}
