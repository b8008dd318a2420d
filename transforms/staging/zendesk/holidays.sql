-- Holidays: whole local days without business hours, start and end dates inclusive.
-- Grain: (source, holiday_id).
SELECT
    'zendesk' AS source,
    CAST(id AS text) AS holiday_id,
    CAST(schedule_id AS text) AS schedule_id,
    name,
    start_date,
    end_date
FROM raw_zendesk.schedule_holidays
