-- Every concrete open interval of every business-hours schedule, as UTC instants
-- [opens_at, closes_at), over the local days from the day before the earliest ticket to the
-- day after the pipeline's as-of time. The weekly intervals (minutes from Sunday 00:00 local
-- time) are laid on each local calendar day and converted with the schedule's IANA zone, so
-- a daylight-saving change moves the UTC instants, never the local opening hours. Holidays
-- close whole local days (start and end dates inclusive). A weekly interval that crosses
-- local midnight is cut at midnight, so each day's part follows that day's holiday and
-- offset. Schedules without a known time zone have no intervals.
-- Grain: (source, schedule_id, opens_at).
WITH calendar_bounds AS (
    -- Local dates differ from UTC dates by at most a day (offsets lie within +-14 h), so a
    -- day of margin on each side covers every local day the tickets can touch.
    SELECT
        CAST(min(created_at) AT TIME ZONE 'UTC' AS date) - 1 AS first_day,
        CAST(CAST(:as_of AS timestamptz) AT TIME ZONE 'UTC' AS date) + 1 AS last_day
    FROM staging.tickets
),

local_days AS (
    SELECT
        CAST(day_start AS date) AS local_date,
        CAST(extract(dow FROM day_start) AS integer) AS day_of_week
    FROM calendar_bounds,
        generate_series(
            CAST(calendar_bounds.first_day AS timestamp),
            CAST(calendar_bounds.last_day AS timestamp),
            INTERVAL '1 day'
        ) AS days (day_start)
),

-- One piece per local day an interval touches: day_index counts days from Sunday of the
-- interval's week (0-13, so an interval running past Saturday midnight wraps to Sunday).
daily_pieces AS (
    SELECT
        i.source,
        i.schedule_id,
        week_days.day_index % 7 AS day_of_week,
        greatest(i.start_minute, week_days.day_index * 1440) - week_days.day_index * 1440
            AS opens_minute_of_day,
        least(i.end_minute, (week_days.day_index + 1) * 1440) - week_days.day_index * 1440
            AS closes_minute_of_day
    FROM staging.schedule_intervals AS i
    INNER JOIN generate_series(0, 13) AS week_days (day_index)
        ON week_days.day_index * 1440 < i.end_minute
       AND (week_days.day_index + 1) * 1440 > i.start_minute
),

open_days AS (
    SELECT
        s.source,
        s.schedule_id,
        s.time_zone,
        d.local_date,
        d.day_of_week
    FROM staging.schedules AS s
    CROSS JOIN local_days AS d
    WHERE s.time_zone IS NOT NULL
      AND NOT EXISTS (
          SELECT 1
          FROM staging.holidays AS h
          WHERE h.source = s.source
            AND h.schedule_id = s.schedule_id
            AND d.local_date BETWEEN h.start_date AND h.end_date
      )
),

-- Naive local wall-clock times; closes at minute 1440 is the next day's local midnight.
local_intervals AS (
    SELECT
        od.source,
        od.schedule_id,
        od.time_zone,
        od.local_date,
        CAST(od.local_date AS timestamp) + p.opens_minute_of_day * INTERVAL '1 minute'
            AS opens_local,
        CAST(od.local_date AS timestamp) + p.closes_minute_of_day * INTERVAL '1 minute'
            AS closes_local
    FROM open_days AS od
    INNER JOIN daily_pieces AS p
        ON p.source = od.source
       AND p.schedule_id = od.schedule_id
       AND p.day_of_week = od.day_of_week
),

-- naive local timestamp AT TIME ZONE zone -> timestamptz, on DuckDB and PostgreSQL alike.
utc_intervals AS (
    SELECT
        source,
        schedule_id,
        time_zone,
        local_date,
        opens_local AT TIME ZONE time_zone AS opens_at,
        closes_local AT TIME ZONE time_zone AS closes_at
    FROM local_intervals
)

SELECT
    source,
    schedule_id,
    time_zone,
    local_date,
    opens_at,
    closes_at,
    CAST(
        extract(epoch FROM closes_at) - extract(epoch FROM opens_at)
    AS double precision) / 60 AS minutes
FROM utc_intervals
-- A piece covering only skipped wall-clock time (02:00-03:00 on a spring-forward day) is empty.
WHERE closes_at > opens_at
