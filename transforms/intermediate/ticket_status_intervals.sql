-- Every period a ticket spent in one status, from the status history.
-- Grain: one row per status change (source, status_change_id). A period ends at the next
-- change. The current period (`is_current`) has not ended: `ended_at` and `minutes` are NULL,
-- and whoever reads it ends it at the pipeline's as-of time (the end of the last loaded
-- window, never the wall clock), so a ticket's periods change only when the ticket does and
-- can be rebuilt for the changed tickets alone.
WITH ordered_changes AS (
    SELECT
        source,
        ticket_id,
        status_change_id,
        to_status AS status,
        changed_at AS started_at,
        lead(changed_at) OVER (
            PARTITION BY source, ticket_id ORDER BY changed_at, status_change_id
        ) AS next_changed_at
    FROM staging.status_changes
    WHERE {{ ticket_scope('source', 'ticket_id') }}
)

SELECT
    source,
    ticket_id,
    status_change_id,
    status,
    started_at,
    next_changed_at AS ended_at,
    next_changed_at IS NULL AS is_current,
    CAST(
        extract(epoch FROM next_changed_at) - extract(epoch FROM started_at)
    AS double precision) / 60 AS minutes
FROM ordered_changes
