-- Messages of Intercom conversations (METRICS.md, "Who is who"): the opening message (the
-- conversation's `source`, landed as part `source`, `is_first_message`) and every part that
-- carries a message: comments, notes, and any other part with a body (a customer's reply
-- that reopened the conversation, a reply sent with a close, a remark on an assignment or a
-- snooze). Public are the parts the customer sees: the opening message, comments, and the
-- bodies of `open` and `close` parts; notes, and a body on an assignment or a snooze (the
-- inbox shows it as a note), are private. Author role: a `bot` author is `system`
-- (Intercom's Operator / Fin), an `admin` who is an agent in staging.users (a teammate with
-- an inbox seat) is `agent`, users and leads are `end_user`; a `team` author, or an admin the
-- list does not hold as an agent (the bot writing as an admin), is `system` too.
-- Grain: (source, message_id).
WITH parts AS (
    SELECT
        id,
        conversation_id,
        created_at,
        part_type,
        author_type,
        author_id
    FROM raw_intercom.conversation_parts
    WHERE (part_type IN ('source', 'comment', 'note', 'note_and_reopen') OR has_body)
      AND {{ raw_ticket_scope('intercom', 'conversation_id', 'text') }}
)

SELECT
    'intercom' AS source,
    CAST(p.id AS text) AS message_id,
    CAST(p.conversation_id AS text) AS ticket_id,
    p.created_at,
    CAST(p.author_id AS text) AS author_id,
    CASE
        WHEN p.author_type IN ('user', 'lead', 'contact') THEN 'end_user'
        WHEN p.author_type = 'admin' AND u.user_id IS NOT NULL THEN 'agent'
        ELSE 'system'
    END AS author_role,
    p.part_type IN ('source', 'comment', 'open', 'close') AS is_public,
    p.part_type = 'source' AS is_first_message,
    p.part_type AS source_channel
FROM parts AS p
LEFT JOIN (
    SELECT user_id
    FROM staging.users
    WHERE source = 'intercom' AND role = 'agent'
) AS u
    ON u.user_id = CAST(p.author_id AS text)
