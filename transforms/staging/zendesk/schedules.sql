-- Zendesk's business-hours schedules, their Rails time-zone names mapped to IANA
-- (staging/time_zones.jinja). The default schedule is the one with the lowest id.
-- Grain: (source, schedule_id).
{% from "staging/time_zones.jinja" import rails_zone_schedules -%}
{{ rails_zone_schedules('zendesk', 'raw_zendesk.schedules', 's.id = min(s.id) OVER ()') }}
