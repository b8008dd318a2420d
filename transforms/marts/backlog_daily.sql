-- Backlog at the end of each day (METRICS.md, marts.backlog_daily): tickets in an unsolved
-- status at 23:59:59.999 local time, reconstructed from the status history, so a ticket
-- solved today still counts in last week's backlog. Deleted tickets are left out.
-- Grain: (date, source, channel, status), one row per key even when the count is zero.
-- A partition recomputes its own days (:range_start <= date < :range_end).
WITH days AS (
    SELECT date, day_start, day_end
    FROM staging.reporting_days
    WHERE date >= :range_start AND date < :range_end
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
    SELECT d.date, c.source, c.channel, s.status
    FROM days AS d
    CROSS JOIN (SELECT DISTINCT source, channel FROM live_tickets) AS c
    CROSS JOIN unsolved_statuses AS s
),

-- The status period that contains the end of the day: it started before midnight and
-- ended at or after it (or is still running).
end_of_day_backlog AS (
    SELECT
        d.date,
        t.source,
        t.channel,
        i.status,
        CAST(extract(epoch FROM (d.day_end - t.created_at)) AS double precision) / 3600
            AS age_hours
    FROM staging.ticket_status_intervals AS i
    INNER JOIN days AS d
        ON i.started_at < d.day_end AND (i.is_current OR i.ended_at >= d.day_end)
    INNER JOIN live_tickets AS t
        ON t.source = i.source AND t.ticket_id = i.ticket_id
    WHERE i.status IN ('new', 'open', 'pending', 'hold')
),

counts AS (
    SELECT
        date,
        source,
        channel,
        status,
        count(*) AS open_tickets,
        CAST(CAST(avg(age_hours) AS numeric(24, 6)) AS double precision) AS avg_age_hours,
        count(*) FILTER (WHERE age_hours > 7 * 24) AS tickets_older_than_7d
    FROM end_of_day_backlog
    GROUP BY date, source, channel, status
)

SELECT
    s.date,
    s.source,
    s.channel,
    s.status,
    coalesce(c.open_tickets, 0) AS open_tickets,
    c.avg_age_hours,
    coalesce(c.tickets_older_than_7d, 0) AS tickets_older_than_7d
FROM spine AS s
LEFT JOIN counts AS c
    ON c.date = s.date AND c.source = s.source AND c.channel = s.channel
    AND c.status = s.status
