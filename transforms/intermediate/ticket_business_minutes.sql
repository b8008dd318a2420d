-- Business minutes of each ticket's response and resolution times (METRICS.md, "Business
-- hours"): the minutes of [created_at, milestone) that fall inside the open intervals of the
-- ticket's schedule, for the first reply, the first and the final resolution. A ticket uses
-- its helpdesk's default schedule (staging.schedules.is_default); no landed source assigns a
-- ticket another one yet. No schedule, or one whose time zone is unknown: NULL, never a guess;
-- a milestone not reached: NULL. `schedule_id` is the schedule the minutes were counted in.
-- Grain: one row per ticket (source, ticket_id).
--
-- Each schedule has a business clock: the open minutes elapsed since its first interval. The
-- business minutes between two instants are the difference of their clock readings, so the
-- work grows with tickets + intervals, not tickets x intervals (a ticket open for a year
-- costs no more than one open for an hour).
WITH ticket_schedules AS (
    SELECT
        ms.source,
        ms.ticket_id,
        s.schedule_id,
        ms.created_at,
        ms.first_response_at,
        ms.first_resolved_at,
        ms.final_resolved_at
    FROM staging.ticket_milestones AS ms
    INNER JOIN staging.schedules AS s
        ON s.source = ms.source AND s.is_default AND s.time_zone IS NOT NULL
),

-- The instants whose clock readings are needed: creation and every milestone reached.
ticket_instants AS (
    SELECT source, schedule_id, ticket_id, 'created' AS instant, created_at AS read_at
    FROM ticket_schedules
    UNION ALL
    SELECT source, schedule_id, ticket_id, 'first_response', first_response_at
    FROM ticket_schedules
    WHERE first_response_at IS NOT NULL
    UNION ALL
    SELECT source, schedule_id, ticket_id, 'first_resolution', first_resolved_at
    FROM ticket_schedules
    WHERE first_resolved_at IS NOT NULL
    UNION ALL
    SELECT source, schedule_id, ticket_id, 'full_resolution', final_resolved_at
    FROM ticket_schedules
    WHERE final_resolved_at IS NOT NULL
),

open_intervals AS (
    SELECT
        source,
        schedule_id,
        opens_at,
        closes_at,
        coalesce(sum(minutes) OVER (
            PARTITION BY source, schedule_id ORDER BY opens_at
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ), 0) AS minutes_before
    FROM staging.schedule_open_intervals
),

-- Intervals and instants on one time line per schedule; at the same moment the interval
-- comes first.
time_line AS (
    SELECT
        source,
        schedule_id,
        opens_at AS read_at,
        0 AS sort_order,
        opens_at,
        closes_at,
        minutes_before,
        CAST(NULL AS text) AS ticket_id,
        CAST(NULL AS text) AS instant
    FROM open_intervals
    UNION ALL
    SELECT
        source,
        schedule_id,
        read_at,
        1 AS sort_order,
        CAST(NULL AS timestamptz) AS opens_at,
        CAST(NULL AS timestamptz) AS closes_at,
        CAST(NULL AS double precision) AS minutes_before,
        ticket_id,
        instant
    FROM ticket_instants
),

-- For each instant, the latest interval opened at or before it. Intervals do not overlap, so
-- that interval has the greatest opens_at, closes_at and minutes_before so far: running
-- maxima find it without a join.
latest_intervals AS (
    SELECT
        source,
        ticket_id,
        instant,
        read_at,
        max(opens_at) OVER running AS opens_at,
        max(closes_at) OVER running AS closes_at,
        max(minutes_before) OVER running AS minutes_before
    FROM time_line
    WINDOW running AS (
        PARTITION BY source, schedule_id ORDER BY read_at, sort_order
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),

-- Clock reading: minutes before the latest interval plus the part of it already elapsed;
-- 0 before the first interval.
clock_readings AS (
    SELECT
        source,
        ticket_id,
        instant,
        coalesce(
            minutes_before
            + CAST(extract(epoch FROM (least(read_at, closes_at) - opens_at)) AS double precision)
            / 60,
            0
        ) AS business_clock
    FROM latest_intervals
    WHERE ticket_id IS NOT NULL
),

readings_by_ticket AS (
    SELECT
        source,
        ticket_id,
        max(CASE WHEN instant = 'created' THEN business_clock END) AS created_clock,
        max(CASE WHEN instant = 'first_response' THEN business_clock END) AS first_response_clock,
        max(CASE WHEN instant = 'first_resolution' THEN business_clock END)
            AS first_resolution_clock,
        max(CASE WHEN instant = 'full_resolution' THEN business_clock END)
            AS full_resolution_clock
    FROM clock_readings
    GROUP BY source, ticket_id
)

-- A milestone before creation overlaps no business time: 0, not a negative number.
SELECT
    ms.source,
    ms.ticket_id,
    ts.schedule_id,
    CASE WHEN r.first_response_clock IS NOT NULL
        THEN greatest(r.first_response_clock - r.created_clock, 0) END
        AS first_response_business_minutes,
    CASE WHEN r.first_resolution_clock IS NOT NULL
        THEN greatest(r.first_resolution_clock - r.created_clock, 0) END
        AS first_resolution_business_minutes,
    CASE WHEN r.full_resolution_clock IS NOT NULL
        THEN greatest(r.full_resolution_clock - r.created_clock, 0) END
        AS full_resolution_business_minutes
FROM staging.ticket_milestones AS ms
LEFT JOIN ticket_schedules AS ts
    ON ts.source = ms.source AND ts.ticket_id = ms.ticket_id
LEFT JOIN readings_by_ticket AS r
    ON r.source = ms.source AND r.ticket_id = ms.ticket_id
