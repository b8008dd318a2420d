-- Messages of Intercom conversations (METRICS.md, "Who is who"): the opening message (the
-- conversation's `source`, landed as part `source`, `is_first_message`) and every part that
-- carries a message: comments, notes, and a reply sent with an assignment, close or snooze
-- (a part of that type with a body). Notes are private. Author role: a `bot` author is
-- `system` (Intercom's Operator / Fin), an `admin` who is in the workspace's admin list is
-- `agent`, users and leads are `end_user`; a `team` author, or an admin id the list does not
-- hold, is `system` too (no person wrote it). Grain: (source, message_id).
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
    p.part_type NOT IN ('note', 'note_and_reopen') AS is_public,
    p.part_type = 'source' AS is_first_message,
    p.part_type AS source_channel
FROM parts AS p
LEFT JOIN (
    SELECT user_id
    FROM staging.users
    WHERE source = 'intercom' AND role = 'agent'
) AS u
    ON u.user_id = CAST(p.author_id AS text)
