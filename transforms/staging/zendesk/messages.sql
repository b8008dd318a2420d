-- Messages (comments) on tickets with their author role and public flag (METRICS.md, "Who is
-- who"): `system` for triggers and automations (author -1 or via channel rule), `agent` when
-- the author is an agent or admin in the user list, else `end_user`. The ticket's first
-- comment is its description (`is_first_message`), never a reply. Grain: (source, message_id).
WITH comments AS (
    SELECT
        id,
        ticket_id,
        created_at,
        author_id,
        is_public,
        via_channel,
        row_number() OVER (PARTITION BY ticket_id ORDER BY created_at, id) AS position
    FROM raw_zendesk.ticket_child_events
    WHERE event_type = 'Comment' AND {{ raw_ticket_scope('zendesk', 'ticket_id', 'bigint') }}
)

SELECT
    'zendesk' AS source,
    CAST(c.id AS text) AS message_id,
    CAST(c.ticket_id AS text) AS ticket_id,
    c.created_at,
    CAST(c.author_id AS text) AS author_id,
    CASE
        WHEN c.author_id = -1 OR lower(c.via_channel) = 'rule' THEN 'system'
        WHEN u.role = 'agent' THEN 'agent'
        ELSE 'end_user'
    END AS author_role,
    coalesce(c.is_public, false) AS is_public,
    c.position = 1 AS is_first_message,
    c.via_channel AS source_channel
FROM comments AS c
-- Zendesk's user ids are integers (staging.users holds them as text): the few users are cast
-- back, so the millions of comments join on their integer author id as landed.
LEFT JOIN (
    SELECT CAST(user_id AS bigint) AS user_key, role
    FROM staging.users
    WHERE source = 'zendesk'
) AS u
    ON u.user_key = c.author_id
