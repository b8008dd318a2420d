-- Freshdesk's business calendars as schedules (raw_freshdesk.business_hours), their Rails
-- time-zone names mapped to IANA as Zendesk's (staging/time_zones.jinja). The default is the
-- calendar Freshdesk marks `is_default` (the lowest id of them, should a calendar deleted
-- while default still be landed beside the new one); a group may assign its tickets another
-- (staging.groups.schedule_id). Freshdesk's API lists no holidays.
-- Grain: (source, schedule_id).
{% from "staging/time_zones.jinja" import rails_zone_schedules -%}
{{ rails_zone_schedules(
    'freshdesk', 'raw_freshdesk.business_hours',
    'coalesce(s.id = min(CASE WHEN s.is_default THEN s.id END) OVER (), false)') }}
