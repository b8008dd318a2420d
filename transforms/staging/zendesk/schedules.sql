-- Business-hours schedules. Zendesk names time zones the Rails way ("Eastern Time (US &
-- Canada)"); the default schedule is the one with the lowest id. Grain: (source, schedule_id).
SELECT
    'zendesk' AS source,
    CAST(id AS text) AS schedule_id,
    name,
    time_zone AS rails_time_zone,
    id = min(id) OVER () AS is_default,
    created_at,
    updated_at
FROM raw_zendesk.schedules
