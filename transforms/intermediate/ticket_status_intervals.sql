-- Every period a ticket spent in one status, from the status history.
-- Grain: one row per status change (source, status_change_id). A period ends at the next
-- change; the current period ends at the pipeline's as-of time (the end of the last loaded
-- window), never the wall clock, so re-running the same window gives the same minutes.
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
),

bounded AS (
    SELECT
        source,
        ticket_id,
        status_change_id,
        status,
        started_at,
        coalesce(next_changed_at, greatest(CAST(:as_of AS timestamptz), started_at)) AS ended_at,
        next_changed_at IS NULL AS is_current
    FROM ordered_changes
)

SELECT
    source,
    ticket_id,
    status_change_id,
    status,
    started_at,
    ended_at,
    is_current,
    CAST(
        extract(epoch FROM ended_at) - extract(epoch FROM started_at)
    AS double precision) / 60 AS minutes
FROM bounded
