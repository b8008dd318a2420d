-- Backlog at the end of each day (METRICS.md, marts.backlog_daily): tickets in an unsolved
-- status at 23:59:59.999 local time, reconstructed from the status history, so a ticket
-- solved today still counts in last week's backlog. Deleted tickets are left out.
-- Grain: (date, source, channel, status), one row per key even when the count is zero.
-- A partition recomputes its own days (:range_start <= date < :range_end).
--
-- A status period contains the end of every local day from the day it started (its local
-- date) to the day before the one it ended on (or to the last day, while still running).
-- Rather than joining periods x days (a range join as large as the backlog summed over all
-- days), each period adds +1 on its first day and -1 on its end day, and a running sum over
-- the days gives the count; the same for the tickets' creation times (average age) and for
-- tickets older than 7 days (from the first day that ends more than 7 x 24 hours after
-- creation). The work grows with periods + days, not with their product.
WITH days AS (
    SELECT date, day_start, day_end
    FROM staging.reporting_days
    WHERE date >= :range_start AND date < :range_end
),

range_bounds AS (
    SELECT min(date) AS first_day, min(day_end) AS first_day_end, max(day_end) AS ends_at
    FROM days
),

live_tickets AS (
    SELECT source, ticket_id, channel, created_at
    FROM staging.tickets
    WHERE status <> 'deleted'
),

unsolved_statuses AS (
    SELECT status
    FROM (VALUES ('new'), ('open'), ('pending'), ('hold')) AS statuses (status)
),

spine AS (
    SELECT d.date, d.day_end, c.source, c.channel, s.status
    FROM days AS d
    -- From the table, not live_tickets: PostgreSQL estimates the few pairs from its column
    -- statistics (a CTE has none; the guess of 100,000 made it compile the query with JIT).
    CROSS JOIN (
        SELECT DISTINCT source, channel FROM staging.tickets WHERE status <> 'deleted'
    ) AS c
    CROSS JOIN unsolved_statuses AS s
),

-- Unsolved periods that contain the end of at least one day of the range (cheap instant
-- comparisons first), with their first day, end day (exclusive; NULL while running) and the
-- first day on which the ticket is older than 7 days, all clipped to the range's first day.
periods AS (
    SELECT
        i.source,
        t.channel,
        i.status,
        CAST(extract(epoch FROM t.created_at) AS numeric(24, 6)) AS created_epoch,
        CAST(i.started_at AT TIME ZONE :reporting_timezone AS date) AS started_day,
        CASE WHEN NOT i.is_current
            THEN CAST(i.ended_at AT TIME ZONE :reporting_timezone AS date) END AS end_day,
        CAST((t.created_at + INTERVAL '604800 seconds') AT TIME ZONE :reporting_timezone AS date)
            AS older_day,
        b.first_day AS range_first_day
    FROM staging.ticket_status_intervals AS i
    CROSS JOIN range_bounds AS b
    INNER JOIN live_tickets AS t
        ON t.source = i.source AND t.ticket_id = i.ticket_id
    WHERE i.status IN ('new', 'open', 'pending', 'hold')
      AND i.started_at < b.ends_at
      AND (i.is_current OR i.ended_at >= b.first_day_end)
      -- The same bounds from the parameters (the range's local midnights; wider when the
      -- range runs past the reporting days): constants, so the periods are filtered as they
      -- are read (one day at 1M tickets: 27,000 of 4.7M) instead of 2.7M of them being
      -- joined with the bounds.
      AND i.started_at
          < CAST(CAST(:range_end AS date) AS timestamp) AT TIME ZONE :reporting_timezone
      AND (i.is_current OR i.ended_at
           >= CAST(CAST(:range_start AS date) + 1 AS timestamp) AT TIME ZONE :reporting_timezone)
),

clipped AS (
    SELECT
        source,
        channel,
        status,
        created_epoch,
        greatest(started_day, range_first_day) AS first_day,
        end_day,
        greatest(started_day, older_day, range_first_day) AS older_day
    FROM periods
),

deltas AS (
    SELECT source, channel, status, first_day AS date, 1 AS open_delta,
           created_epoch AS created_delta, 0 AS older_delta
    FROM clipped
    WHERE end_day IS NULL OR end_day > first_day
    UNION ALL
    SELECT source, channel, status, end_day, -1, -created_epoch, 0
    FROM clipped
    WHERE end_day > first_day
    UNION ALL
    SELECT source, channel, status, older_day, 0, 0, 1
    FROM clipped
    WHERE end_day IS NULL OR end_day > older_day
    UNION ALL
    SELECT source, channel, status, end_day, 0, 0, -1
    FROM clipped
    WHERE end_day > older_day
),

daily_deltas AS (
    SELECT
        date,
        source,
        channel,
        status,
        sum(open_delta) AS open_delta,
        sum(created_delta) AS created_delta,
        sum(older_delta) AS older_delta
    FROM deltas
    GROUP BY date, source, channel, status
),

running AS (
    SELECT
        s.date,
        s.day_end,
        s.source,
        s.channel,
        s.status,
        CAST(sum(coalesce(dd.open_delta, 0)) OVER keyed AS bigint) AS open_tickets,
        sum(coalesce(dd.created_delta, 0)) OVER keyed AS created_epoch_sum,
        CAST(sum(coalesce(dd.older_delta, 0)) OVER keyed AS bigint) AS tickets_older_than_7d
    FROM spine AS s
    LEFT JOIN daily_deltas AS dd
        ON dd.date = s.date AND dd.source = s.source AND dd.channel = s.channel
        AND dd.status = s.status
    WINDOW keyed AS (
        PARTITION BY s.source, s.channel, s.status ORDER BY s.date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
)

-- Average age: (open tickets x end of day - sum of their creation times) / open tickets,
-- in exact numeric arithmetic, rounded to 6 decimals.
SELECT
    date,
    source,
    channel,
    status,
    open_tickets,
    CASE WHEN open_tickets > 0 THEN CAST(CAST(
        (open_tickets * CAST(extract(epoch FROM day_end) AS numeric(24, 6)) - created_epoch_sum)
        / (open_tickets * CAST(3600 AS numeric(24, 6)))
    AS numeric(24, 6)) AS double precision) END AS avg_age_hours,
    tickets_older_than_7d
FROM running
