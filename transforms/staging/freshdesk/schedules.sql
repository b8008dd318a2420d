{% from "staging/time_zones.jinja" import time_zone_ctes %}
-- Freshdesk business calendars as schedules (raw_freshdesk.business_hours). Freshdesk names
-- time zones the Rails way, as Zendesk does: `time_zone` is the IANA name
-- (staging/time_zones.jinja), NULL when unknown (the schedule's business minutes are then
-- NULL). The default is the calendar Freshdesk marks `is_default`; a group may assign its
-- tickets another (staging.groups.schedule_id). Freshdesk's API lists no holidays.
-- Grain: (source, schedule_id).
WITH {{ time_zone_ctes() }}

SELECT
    'freshdesk' AS source,
    CAST(b.id AS text) AS schedule_id,
    b.name,
    b.time_zone AS rails_time_zone,
    coalesce(rtz.iana_name, wtz.name) AS time_zone,
    coalesce(b.is_default, false) AS is_default,
    b.created_at,
    b.updated_at
FROM raw_freshdesk.business_hours AS b
LEFT JOIN rails_time_zones AS rtz
    ON rtz.rails_name = b.time_zone
LEFT JOIN warehouse_time_zones AS wtz
    ON wtz.name = b.time_zone
