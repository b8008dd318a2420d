-- Freshdesk tickets with a row landed by a load window recorded after :since: the change log
-- of the incremental builds (transforms/incremental.py). One row per ticket (source,
-- ticket_id) with the newest `loaded_at` of those windows. A window lands every ticket
-- updated since its start, its end or later (pipelines.resources.FreshdeskResource), with
-- its conversations; the activities of the whole UTC days from two days before the window's
-- start (72 hours back at most: the activities export of each day that has ended), the
-- ratings given in the window and the time entries updated in it (a timer stopped, an entry
-- logged and dated back: the window reads seven days of them) can land after the ticket's
-- own row did, so they count as changes of their tickets too.
WITH windows AS (
    SELECT window_start, loaded_at
    FROM raw_freshdesk._load_windows
    WHERE loaded_at > :since
),

touched AS (
    SELECT t.id AS ticket_id, w.loaded_at
    FROM raw_freshdesk.tickets AS t
    INNER JOIN windows AS w
        ON t.updated_at >= w.window_start
    UNION ALL
    SELECT a.ticket_id, w.loaded_at
    FROM raw_freshdesk.ticket_activities AS a
    INNER JOIN windows AS w
        ON a.performed_at >= w.window_start - INTERVAL '72 hours'
    UNION ALL
    SELECT r.ticket_id, w.loaded_at
    FROM raw_freshdesk.satisfaction_ratings AS r
    INNER JOIN windows AS w
        ON r.created_at >= w.window_start
    UNION ALL
    SELECT e.ticket_id, w.loaded_at
    FROM raw_freshdesk.time_entries AS e
    INNER JOIN windows AS w
        ON e.updated_at >= w.window_start
)

SELECT 'freshdesk' AS source, CAST(ticket_id AS text) AS ticket_id, max(loaded_at) AS loaded_at
FROM touched
WHERE ticket_id IS NOT NULL
GROUP BY ticket_id
