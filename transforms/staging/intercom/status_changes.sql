-- The status history of Intercom conversations, from their parts (METRICS.md: never from the
-- current state alone). A part that sets a state: a customer's opening message opens the
-- conversation (from_status NULL); `close` solves it; `snoozed` makes it pending; `open`,
-- `unsnoozed`, `timer_unsnooze` and the `*_and_reopen` / `*_and_unsnooze` parts reopen it; a
-- reply by the customer (a user or lead comment) reopens a closed or snoozed conversation,
-- as Intercom does. A part that leaves the state as it was is no change. A conversation a
-- teammate or a bot started (an outbound message: Intercom keeps it closed until the
-- customer answers) has no status until the customer's first reply opens it (from_status
-- NULL): an unanswered outbound message is never in the backlog and never resolved.
-- Statuses as in staging/intercom/tickets.sql (open, pending, solved).
-- Grain: (source, status_change_id).
WITH state_parts AS (
    SELECT
        id,
        conversation_id,
        created_at,
        position,
        author_id,
        CASE
            WHEN part_type = 'source' AND author_type IN ('user', 'lead', 'contact')
                THEN 'open'
            WHEN part_type = 'close' THEN 'solved'
            WHEN part_type = 'snoozed' THEN 'pending'
            WHEN part_type IN ('open', 'unsnoozed', 'timer_unsnooze', 'assign_and_reopen',
                               'note_and_reopen', 'assign_and_unsnooze')
                THEN 'open'
            WHEN part_type = 'comment' AND author_type IN ('user', 'lead', 'contact')
                THEN 'open'
        END AS to_status
    FROM raw_intercom.conversation_parts
    WHERE {{ raw_ticket_scope('intercom', 'conversation_id', 'text') }}
),

-- Parts in time order: a conversation of more than 500 parts is landed from answers that
-- each number their (most recent) parts from 1, so positions order parts of one answer only.
ordered AS (
    SELECT
        *,
        sum(CASE WHEN to_status = 'open' THEN 1 ELSE 0 END) OVER (
            PARTITION BY conversation_id ORDER BY created_at, position, id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS opens_so_far
    FROM state_parts
    WHERE to_status IS NOT NULL
),

-- Before the customer first opens an outbound conversation, a close or snooze changes
-- nothing (it was never open).
sequenced AS (
    SELECT
        *,
        lag(to_status) OVER (PARTITION BY conversation_id ORDER BY created_at, position, id)
            AS from_status
    FROM ordered
    WHERE opens_so_far > 0
)

SELECT
    'intercom' AS source,
    CAST(id AS text) AS status_change_id,
    CAST(conversation_id AS text) AS ticket_id,
    created_at AS changed_at,
    from_status,
    to_status,
    CAST(author_id AS text) AS changed_by
FROM sequenced
WHERE from_status IS DISTINCT FROM to_status
