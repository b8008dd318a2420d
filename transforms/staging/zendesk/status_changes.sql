-- The status history of every ticket, from Zendesk's ticket events: the status set at
-- creation (from_status NULL) and every later change. Zendesk records no event when a
-- ticket is deleted, so a deleted ticket gets one change to `deleted` at its last update.
-- Grain: (source, status_change_id).
WITH status_events AS (
    SELECT
        id,
        ticket_id,
        created_at,
        previous_value,
        value,
        author_id
    FROM raw_zendesk.ticket_child_events
    WHERE field_name = 'status' AND {{ raw_ticket_scope('zendesk', 'ticket_id', 'bigint') }}
),

deleted_tickets AS (
    SELECT id AS ticket_id, updated_at
    FROM raw_zendesk.tickets
    WHERE status = 'deleted' AND {{ raw_ticket_scope('zendesk', 'id', 'bigint') }}
),

-- The last status event of each deleted ticket (only those: ranking every ticket's events
-- would sort the whole history for a handful of deletions).
last_events AS (
    SELECT
        e.ticket_id,
        e.value,
        row_number() OVER (PARTITION BY e.ticket_id ORDER BY e.created_at DESC, e.id DESC)
            AS recency
    FROM status_events AS e
    INNER JOIN deleted_tickets AS d
        ON d.ticket_id = e.ticket_id
),

deletions AS (
    SELECT
        t.ticket_id,
        t.updated_at AS changed_at,
        last_event.value AS from_status
    FROM deleted_tickets AS t
    LEFT JOIN last_events AS last_event
        ON last_event.ticket_id = t.ticket_id AND last_event.recency = 1
    WHERE coalesce(last_event.value, '') <> 'deleted'
)

SELECT
    'zendesk' AS source,
    CAST(id AS text) AS status_change_id,
    CAST(ticket_id AS text) AS ticket_id,
    created_at AS changed_at,
    previous_value AS from_status,
    value AS to_status,
    CAST(author_id AS text) AS changed_by
FROM status_events

UNION ALL

SELECT
    'zendesk' AS source,
    'deleted-' || CAST(ticket_id AS text) AS status_change_id,
    CAST(ticket_id AS text) AS ticket_id,
    changed_at,
    from_status,
    'deleted' AS to_status,
    CAST(NULL AS text) AS changed_by
FROM deletions
