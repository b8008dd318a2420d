-- The weekly open intervals of each schedule, in minutes from Sunday 00:00 local time
-- (Monday 09:00-17:00 is 1980-2460). Grain: (source, schedule_id, start_minute).
SELECT
    'zendesk' AS source,
    CAST(schedule_id AS text) AS schedule_id,
    start_time AS start_minute,
    end_time AS end_minute
FROM raw_zendesk.schedules__intervals
