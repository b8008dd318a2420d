-- The weekly open intervals of each Freshdesk business calendar, in minutes from Sunday
-- 00:00 local time: each weekday's opening (landed in minutes of its day) moved by its
-- day's place in the week (the connector rejects an opening that does not end after it
-- starts). A closed weekday has none. Grain: (source, schedule_id,
-- start_minute).
WITH openings (schedule_id, day_index, start_minute, end_minute) AS (
    SELECT id, 0, sunday_start_minute, sunday_end_minute FROM raw_freshdesk.business_hours
    UNION ALL
    SELECT id, 1, monday_start_minute, monday_end_minute FROM raw_freshdesk.business_hours
    UNION ALL
    SELECT id, 2, tuesday_start_minute, tuesday_end_minute FROM raw_freshdesk.business_hours
    UNION ALL
    SELECT id, 3, wednesday_start_minute, wednesday_end_minute
    FROM raw_freshdesk.business_hours
    UNION ALL
    SELECT id, 4, thursday_start_minute, thursday_end_minute FROM raw_freshdesk.business_hours
    UNION ALL
    SELECT id, 5, friday_start_minute, friday_end_minute FROM raw_freshdesk.business_hours
    UNION ALL
    SELECT id, 6, saturday_start_minute, saturday_end_minute FROM raw_freshdesk.business_hours
)

SELECT
    'freshdesk' AS source,
    CAST(schedule_id AS text) AS schedule_id,
    day_index * 1440 + start_minute AS start_minute,
    day_index * 1440 + end_minute AS end_minute
FROM openings
WHERE start_minute IS NOT NULL
