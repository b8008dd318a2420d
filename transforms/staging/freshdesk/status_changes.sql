-- The status history of Freshdesk tickets, from the ticket activities export (METRICS.md:
-- "Freshdesk activities"; docs/freshdesk-landed-tables.md). Every activity that names a
-- status (`status`: the status's name, "Open", "Waiting on Customer"...) sets it; the name
-- is matched (ignoring case and spaces) to raw_freshdesk.ticket_statuses for its id, then
-- normalised as in
-- staging/freshdesk/tickets.sql (`freshdesk_status`); a name the list no longer holds (a
-- custom status renamed or deleted since) is a custom status: `hold`. An activity that leaves the normalised
-- status as it was (Pending → Waiting on Customer: both `pending`) is no change. The
-- ticket's creation (`new_ticket`) has from_status NULL. A deleted (or spam) ticket gets
-- one change to `deleted` at its last update, as Zendesk's (the export has no deletion).
-- A ticket created before the account's exports (no `new_ticket` activity landed) starts
-- `open` at its creation (`initial-<id>`); one without any activity at all has its history
-- rebuilt from Freshdesk's `stats` as far as they go: open at creation, resolved at
-- `resolved_at` and closed at `closed_at` while it is resolved / closed, and its current
-- status at `status_updated_at` otherwise (`stats-<n>-<id>`).
-- Grain: (source, status_change_id).
{% from "staging/freshdesk/macros.jinja" import freshdesk_status -%}
WITH landed AS (
    SELECT
        a.id,
        a.ticket_id,
        a.performed_at,
        CASE WHEN a.performer_type = 'user' THEN a.performer_id END AS performer_id,
        coalesce({{ freshdesk_status('coalesce(s.id, d.id)', 's.customer_label') }}, 'hold')
            AS to_status
    FROM raw_freshdesk.ticket_activities AS a
    LEFT JOIN raw_freshdesk.ticket_statuses AS s
        ON lower(trim(s.name)) = lower(trim(a.status))
    -- The four default statuses by name, should the status list not name them.
    LEFT JOIN (VALUES (2, 'open'), (3, 'pending'), (4, 'resolved'), (5, 'closed'))
        AS d (id, name)
        ON d.name = lower(trim(a.status))
    WHERE a.status IS NOT NULL
      AND {{ raw_ticket_scope('freshdesk', 'a.ticket_id', 'bigint') }}
),

scoped_tickets AS (
    SELECT
        t.id, t.created_at, t.status, t.stats_resolved_at, t.stats_closed_at,
        t.stats_status_updated_at,
        {{ freshdesk_status('t.status', 's.customer_label') }} AS current_status,
        EXISTS (SELECT 1 FROM raw_freshdesk.ticket_activities AS a
                WHERE a.ticket_id = t.id AND a.new_ticket) AS has_creation,
        EXISTS (SELECT 1 FROM raw_freshdesk.ticket_activities AS a
                WHERE a.ticket_id = t.id) AS has_activities
    FROM raw_freshdesk.tickets AS t
    LEFT JOIN raw_freshdesk.ticket_statuses AS s
        ON s.id = t.status
    WHERE {{ raw_ticket_scope('freshdesk', 't.id', 'bigint') }}
),

-- History the export does not hold (see above).
rebuilt AS (
    SELECT 'initial-' || CAST(id AS text) AS id, id AS ticket_id, created_at AS performed_at,
           CAST(NULL AS bigint) AS performer_id, 'open' AS to_status
    FROM scoped_tickets
    WHERE NOT has_creation
    UNION ALL
    SELECT 'stats-1-' || CAST(id AS text), id, stats_resolved_at, NULL, 'solved'
    FROM scoped_tickets
    WHERE NOT has_activities AND status IN (4, 5) AND stats_resolved_at IS NOT NULL
    UNION ALL
    SELECT 'stats-2-' || CAST(id AS text), id, stats_closed_at, NULL, 'closed'
    FROM scoped_tickets
    WHERE NOT has_activities AND status = 5 AND stats_closed_at IS NOT NULL
    UNION ALL
    SELECT 'stats-3-' || CAST(id AS text), id, stats_status_updated_at, NULL, current_status
    FROM scoped_tickets
    WHERE NOT has_activities AND current_status NOT IN ('open', 'solved', 'closed')
      AND stats_status_updated_at IS NOT NULL
),

activities AS (
    SELECT id, ticket_id, performed_at, performer_id, to_status FROM landed
    UNION ALL
    SELECT id, ticket_id, performed_at, performer_id, to_status FROM rebuilt
),

sequenced AS (
    SELECT
        *,
        lag(to_status) OVER (PARTITION BY ticket_id ORDER BY performed_at, id) AS from_status
    FROM activities
),

changes AS (
    SELECT ticket_id, id, performed_at, from_status, to_status, performer_id
    FROM sequenced
    WHERE from_status IS DISTINCT FROM to_status
),

deleted_tickets AS (
    SELECT t.id, t.updated_at, last_change.to_status AS last_status
    FROM raw_freshdesk.tickets AS t
    LEFT JOIN (
        SELECT ticket_id, to_status,
               row_number() OVER (PARTITION BY ticket_id ORDER BY performed_at DESC, id DESC)
                   AS newest
        FROM changes
    ) AS last_change
        ON last_change.ticket_id = t.id AND last_change.newest = 1
    WHERE (coalesce(t.deleted, false) OR coalesce(t.spam, false))
      AND {{ raw_ticket_scope('freshdesk', 't.id', 'bigint') }}
)

SELECT
    'freshdesk' AS source,
    CAST(id AS text) AS status_change_id,
    CAST(ticket_id AS text) AS ticket_id,
    performed_at AS changed_at,
    from_status,
    to_status,
    CAST(performer_id AS text) AS changed_by
FROM changes
UNION ALL
SELECT
    'freshdesk' AS source,
    'deleted-' || CAST(id AS text) AS status_change_id,
    CAST(id AS text) AS ticket_id,
    updated_at AS changed_at,
    last_status AS from_status,
    'deleted' AS to_status,
    CAST(NULL AS text) AS changed_by
FROM deleted_tickets
