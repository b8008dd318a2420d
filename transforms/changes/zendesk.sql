-- Zendesk tickets with a row landed by a load window recorded after :since: the change log of
-- the incremental builds (transforms/incremental.py). One row per ticket (source, ticket_id)
-- with the newest `loaded_at` of those windows. Every windowed table is windowed on its
-- change time, so a row came with the window its change time falls in: tickets (and their
-- metric sets, same request and cursor) on generated_timestamp (Unix seconds), ticket events
-- on created_at, satisfaction ratings and calls on updated_at.
WITH windows AS (
    SELECT
        window_start,
        window_end,
        extract(epoch FROM window_start) AS start_epoch,
        extract(epoch FROM window_end) AS end_epoch,
        loaded_at
    FROM raw_zendesk._load_windows
    WHERE loaded_at > :since
),

changed AS (
    SELECT t.id AS ticket_id, w.loaded_at
    FROM raw_zendesk.tickets AS t
    INNER JOIN windows AS w
        ON t.generated_timestamp >= w.start_epoch AND t.generated_timestamp < w.end_epoch

    UNION ALL

    SELECT e.ticket_id, w.loaded_at
    FROM raw_zendesk.ticket_child_events AS e
    INNER JOIN windows AS w
        ON e.created_at >= w.window_start AND e.created_at < w.window_end

    UNION ALL

    SELECT r.ticket_id, w.loaded_at
    FROM raw_zendesk.satisfaction_ratings AS r
    INNER JOIN windows AS w
        ON r.updated_at >= w.window_start AND r.updated_at < w.window_end

    UNION ALL

    SELECT c.ticket_id, w.loaded_at
    FROM raw_zendesk.calls AS c
    INNER JOIN windows AS w
        ON c.updated_at >= w.window_start AND c.updated_at < w.window_end
)

SELECT 'zendesk' AS source, CAST(ticket_id AS text) AS ticket_id, max(loaded_at) AS loaded_at
FROM changed
WHERE ticket_id IS NOT NULL
GROUP BY ticket_id
