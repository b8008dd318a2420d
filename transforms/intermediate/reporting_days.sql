-- The reporting calendar: every complete local day (REPORTING_TIMEZONE) from the first
-- ticket's day to the as-of time, with the day's bounds as UTC instants. Daily marts read
-- their days from here, so day boundaries (and daylight-saving days of 23 or 25 hours) are
-- decided in one place. Grain: (date).
WITH bounds AS (
    SELECT
        CAST(min(created_at) AT TIME ZONE :reporting_timezone AS date) AS first_day,
        CAST(CAST(:as_of AS timestamptz) AT TIME ZONE :reporting_timezone AS date) AS last_day
    FROM staging.tickets
),

days AS (
    SELECT CAST(series.day AS date) AS date
    FROM bounds
    CROSS JOIN generate_series(
        CAST(bounds.first_day AS timestamp), CAST(bounds.last_day AS timestamp), INTERVAL '1 day'
    ) AS series (day)
),

bounded_days AS (
    SELECT
        date,
        CAST(date AS timestamp) AT TIME ZONE :reporting_timezone AS day_start,
        (CAST(date AS timestamp) + INTERVAL '1 day') AT TIME ZONE :reporting_timezone AS day_end
    FROM days
)

SELECT date, day_start, day_end
FROM bounded_days
WHERE day_end <= CAST(:as_of AS timestamptz)
