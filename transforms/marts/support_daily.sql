-- Daily support KPIs (METRICS.md, marts.support_daily). Each figure belongs to the local day
-- its event completed, computed from what was known at the end of that day, so a day's row
-- never changes once the day is loaded: a ticket resolved on Monday and again on Friday
-- (after a reopen) counts in both days' resolution figures, each with the replies and
-- minutes up to that resolution. Deleted tickets are left out.
-- Grain: (date, source, channel), one row per key even when the counts are zero.
-- A partition recomputes its own days (:range_start <= date < :range_end).
--
-- An event belongs to the day of its local date (`AT TIME ZONE`, the same day boundaries as
-- staging.reporting_days), joined on that date: an equality join, where "day_start <= t <
-- day_end" would be a range join over days x events. Events outside the range's instants
-- are filtered out first, so a one-day partition reads few rows.
WITH days AS (
    SELECT date, day_start, day_end
    FROM staging.reporting_days
    WHERE date >= :range_start AND date < :range_end
),

range_bounds AS (
    SELECT min(day_start) AS starts_at, max(day_end) AS ends_at
    FROM days
),

live_tickets AS (
    SELECT source, ticket_id, channel, created_at
    FROM staging.tickets
    WHERE status <> 'deleted'
),

spine AS (
    SELECT d.date, d.day_end, c.source, c.channel
    FROM days AS d
    -- Read from the tables, not live_tickets: PostgreSQL estimates the few (source, channel)
    -- pairs from their column statistics (a CTE has none: it guessed 100,000 pairs, 45M
    -- spine rows, and compiled the query with JIT for 2 s).
    CROSS JOIN (
        SELECT DISTINCT source, channel FROM staging.tickets WHERE status <> 'deleted'
        UNION
        SELECT DISTINCT source, channel FROM staging.handle_time_records
    ) AS c
),

created AS (
    SELECT d.date, t.source, t.channel, count(*) AS tickets_created
    FROM live_tickets AS t
    CROSS JOIN range_bounds AS b
    INNER JOIN days AS d
        ON d.date = CAST(t.created_at AT TIME ZONE :reporting_timezone AS date)
    WHERE t.created_at >= b.starts_at AND t.created_at < b.ends_at
    GROUP BY d.date, t.source, t.channel
),

day_transitions AS (
    SELECT d.date, d.day_end, t.source, t.ticket_id, t.channel, t.created_at, x.changed_at,
           x.is_resolution, x.is_reopen
    FROM staging.ticket_status_transitions AS x
    CROSS JOIN range_bounds AS b
    INNER JOIN days AS d
        ON d.date = CAST(x.changed_at AT TIME ZONE :reporting_timezone AS date)
    INNER JOIN live_tickets AS t
        ON t.source = x.source AND t.ticket_id = x.ticket_id
    WHERE (x.is_resolution OR x.is_reopen)
      AND x.changed_at >= b.starts_at AND x.changed_at < b.ends_at
),

transition_counts AS (
    SELECT
        date,
        source,
        channel,
        count(*) FILTER (WHERE is_resolution) AS tickets_solved,
        count(*) FILTER (WHERE is_reopen) AS tickets_reopened
    FROM day_transitions
    GROUP BY date, source, channel
),

-- The day's last resolution of each ticket that was still solved or closed at the end of
-- the day: the ticket's final resolution as far as that day knew.
day_final_resolutions AS (
    SELECT r.date, r.source, r.ticket_id, r.channel, r.created_at, r.resolved_at
    FROM (
        SELECT date, day_end, source, ticket_id, channel, created_at,
               max(changed_at) AS resolved_at
        FROM day_transitions
        WHERE is_resolution
        GROUP BY date, day_end, source, ticket_id, channel, created_at
    ) AS r
    INNER JOIN staging.ticket_status_intervals AS i
        ON i.source = r.source AND i.ticket_id = r.ticket_id
        AND i.started_at < r.day_end AND (i.is_current OR i.ended_at >= r.day_end)
    WHERE i.status IN ('solved', 'closed')
),

-- One row per resolution with its replies up to it (grouped on every column of the
-- resolution, so nothing needs joining back).
resolution_replies AS (
    SELECT f.date, f.source, f.ticket_id, f.channel, f.created_at, f.resolved_at,
           count(a.message_id) AS replies
    FROM day_final_resolutions AS f
    LEFT JOIN staging.ticket_agent_replies AS a
        ON a.source = f.source AND a.ticket_id = f.ticket_id AND a.created_at <= f.resolved_at
    GROUP BY f.date, f.source, f.ticket_id, f.channel, f.created_at, f.resolved_at
),

resolution_stats AS (
    SELECT
        f.date,
        f.source,
        f.channel,
        CAST(CAST(
            avg(CAST(
                extract(epoch FROM f.resolved_at) - extract(epoch FROM f.created_at)
            AS double precision) / 60)
        AS numeric(24, 6)) AS double precision) AS resolution_avg_minutes,
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY CAST(
                extract(epoch FROM f.resolved_at) - extract(epoch FROM f.created_at)
            AS double precision)
                / 60
        ) AS resolution_median_minutes,
        avg(CAST(f.replies AS double precision)) AS replies_to_resolution_avg,
        avg(CASE WHEN f.replies = 1 THEN 1.0 ELSE 0.0 END) AS one_touch_rate
    FROM resolution_replies AS f
    GROUP BY f.date, f.source, f.channel
),

first_response_stats AS (
    SELECT
        d.date,
        m.source,
        m.channel,
        count(*) AS first_responses,
        CAST(CAST(avg(m.first_response_minutes) AS numeric(24, 6)) AS double precision) AS frt_avg_minutes,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY m.first_response_minutes)
            AS frt_median_minutes,
        percentile_cont(0.9) WITHIN GROUP (ORDER BY m.first_response_minutes)
            AS frt_p90_minutes,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY m.first_response_business_minutes)
            AS frt_business_median_minutes
    FROM marts.ticket_metrics AS m
    CROSS JOIN range_bounds AS b
    INNER JOIN days AS d
        ON d.date = CAST(m.first_response_at AT TIME ZONE :reporting_timezone AS date)
    WHERE m.status <> 'deleted'
      AND m.first_response_at >= b.starts_at AND m.first_response_at < b.ends_at
    GROUP BY d.date, m.source, m.channel
),

backlog AS (
    SELECT date, source, channel, sum(open_tickets) AS backlog_end_of_day
    FROM marts.backlog_daily
    WHERE date >= :range_start AND date < :range_end
    GROUP BY date, source, channel
),

handle_time AS (
    SELECT
        date,
        source,
        channel,
        sum(handled_contacts) AS handled_contacts,
        sum(handle_seconds) AS handle_seconds
    FROM marts.handle_time_daily
    WHERE date >= :range_start AND date < :range_end
    GROUP BY date, source, channel
),

-- A rating is received when it is answered (its last update); it belongs to the ticket's
-- channel. Satisfied = good, or 4-5 on a 1-5 scale (score fraction >= 0.75).
csat AS (
    SELECT
        d.date,
        t.source,
        t.channel,
        count(*) AS csat_responses,
        avg(CASE WHEN r.score_fraction >= 0.75 THEN 1.0 ELSE 0.0 END) AS csat_rate
    FROM staging.satisfaction_ratings AS r
    CROSS JOIN range_bounds AS b
    INNER JOIN days AS d
        ON d.date = CAST(r.updated_at AT TIME ZONE :reporting_timezone AS date)
    INNER JOIN live_tickets AS t
        ON t.source = r.source AND t.ticket_id = r.ticket_id
    WHERE r.score_fraction IS NOT NULL
      AND r.updated_at >= b.starts_at AND r.updated_at < b.ends_at
    GROUP BY d.date, t.source, t.channel
)

SELECT
    s.date,
    s.source,
    s.channel,
    coalesce(c.tickets_created, 0) AS tickets_created,
    coalesce(tc.tickets_solved, 0) AS tickets_solved,
    coalesce(tc.tickets_reopened, 0) AS tickets_reopened,
    coalesce(b.backlog_end_of_day, 0) AS backlog_end_of_day,
    coalesce(fr.first_responses, 0) AS first_responses,
    fr.frt_avg_minutes,
    fr.frt_median_minutes,
    fr.frt_p90_minutes,
    fr.frt_business_median_minutes,
    rs.resolution_avg_minutes,
    rs.resolution_median_minutes,
    rs.replies_to_resolution_avg,
    rs.one_touch_rate,
    coalesce(h.handled_contacts, 0) AS handled_contacts,
    coalesce(h.handle_seconds, 0) AS handle_seconds,
    CAST(h.handle_seconds AS double precision) / nullif(h.handled_contacts, 0) AS aht_seconds,
    coalesce(cs.csat_responses, 0) AS csat_responses,
    cs.csat_rate
FROM spine AS s
LEFT JOIN created AS c
    ON c.date = s.date AND c.source = s.source AND c.channel = s.channel
LEFT JOIN transition_counts AS tc
    ON tc.date = s.date AND tc.source = s.source AND tc.channel = s.channel
LEFT JOIN backlog AS b
    ON b.date = s.date AND b.source = s.source AND b.channel = s.channel
LEFT JOIN first_response_stats AS fr
    ON fr.date = s.date AND fr.source = s.source AND fr.channel = s.channel
LEFT JOIN resolution_stats AS rs
    ON rs.date = s.date AND rs.source = s.source AND rs.channel = s.channel
LEFT JOIN handle_time AS h
    ON h.date = s.date AND h.source = s.source AND h.channel = s.channel
LEFT JOIN csat AS cs
    ON cs.date = s.date AND cs.source = s.source AND cs.channel = s.channel
