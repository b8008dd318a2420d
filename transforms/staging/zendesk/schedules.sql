{% from "staging/time_zones.jinja" import time_zone_ctes %}
-- Business-hours schedules. Zendesk names time zones the Rails way ("Eastern Time (US &
-- Canada)"); `time_zone` is the IANA name it stands for (staging/time_zones.jinja), NULL
-- when unknown, and then the schedule's business minutes are NULL (never a guessed zone).
-- The default schedule is the one with the lowest id.
-- Grain: (source, schedule_id).
WITH {{ time_zone_ctes() }}

SELECT
    'zendesk' AS source,
    CAST(s.id AS text) AS schedule_id,
    s.name,
    s.time_zone AS rails_time_zone,
    coalesce(rtz.iana_name, wtz.name) AS time_zone,
    s.id = min(s.id) OVER () AS is_default,
    s.created_at,
    s.updated_at
FROM raw_zendesk.schedules AS s
LEFT JOIN rails_time_zones AS rtz
    ON rtz.rails_name = s.time_zone
LEFT JOIN warehouse_time_zones AS wtz
    ON wtz.name = s.time_zone
