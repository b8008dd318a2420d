"""Zendesk source constants: endpoints, page sizes, landed columns (no logic here)."""

from __future__ import annotations

SOURCE_NAME = "zendesk"
DEFAULT_BASE_URL_TEMPLATE = "https://{subdomain}.zendesk.com"
CREDENTIALS_HINT = "ZENDESK_EMAIL and ZENDESK_API_TOKEN (or ZENDESK_OAUTH_TOKEN)"

# Endpoints (Support API v2 and Talk API).
INCREMENTAL_TICKETS_PATH = "/api/v2/incremental/tickets/cursor.json"
INCREMENTAL_TICKET_EVENTS_PATH = "/api/v2/incremental/ticket_events.json"
INCREMENTAL_USERS_PATH = "/api/v2/incremental/users/cursor.json"
INCREMENTAL_ORGANIZATIONS_PATH = "/api/v2/incremental/organizations.json"
GROUPS_PATH = "/api/v2/groups.json"
SCHEDULES_PATH = "/api/v2/business_hours/schedules.json"
SCHEDULE_HOLIDAYS_PATH = "/api/v2/business_hours/schedules/{schedule_id}/holidays.json"
SATISFACTION_RATINGS_PATH = "/api/v2/satisfaction_ratings.json"
INCREMENTAL_CALLS_PATH = "/api/v2/channels/voice/stats/incremental/calls.json"

#: Incremental exports return at most 1000 items a page (`per_page`).
MAX_INCREMENTAL_PAGE_SIZE = 1000
#: Incremental exports refuse a start_time less than this many seconds ago (and hold back
#: changes that recent): a window starting later has nothing to export yet.
INCREMENTAL_MIN_AGE_SECONDS = 60
#: Endpoints with cursor pagination (`page[size]`) return at most 100 items a page.
MAX_CURSOR_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 1000

#: Sideload that puts whole comments (author, public flag, body) into ticket events.
TICKET_EVENTS_INCLUDE = "comment_events"
#: Sideload that adds each ticket's Ticket Metrics object (top-level `metric_sets`) to the
#: ticket export, so the helpdesk's own metrics arrive with the tickets they describe.
TICKETS_INCLUDE = "metric_sets"

#: Child-event types whose field name / value / previous value are landed.
FIELD_EVENT_TYPES = frozenset({"Create", "Change"})

#: Ticket fields whose values carry no free text: their Create/Change values are landed
#: even when free text is off. Any other field (subject, description, custom fields, which
#: may be free-text fields) lands with its name but a NULL value unless free text is on.
STRUCTURED_TICKET_FIELDS = frozenset(
    {
        "status",
        "custom_status_id",
        "priority",
        "type",
        "group_id",
        "assignee_id",
        "requester_id",
        "submitter_id",
        "organization_id",
        "brand_id",
        "ticket_form_id",
        "problem_id",
        "tags",
        "is_public",
        "due_at",
        "satisfaction_score",
    }
)

#: Keys of a Create/Change child event that describe the event rather than name the ticket
#: field it sets. (`type` is not one: on these events it is the ticket's type field; only
#: comments use `type` for the event type.)
CHILD_EVENT_META_KEYS = frozenset(
    {
        "id",
        "event_type",
        "via",
        "via_reference_id",
        "previous_value",
        "field_name",
        "value",
        "created_at",
        "audit_id",
        "author_id",
        "added_tags",
        "removed_tags",
        "comment_present",
        "comment_public",
        "public",
        "body",
        "html_body",
        "plain_body",
        "attachments",
    }
)

# Landed columns: (name, dlt data type). Free-text columns land only with land_free_text.
TICKET_COLUMNS = {
    "id": "bigint",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "generated_timestamp": "bigint",
    "status": "text",
    "custom_status_id": "bigint",
    "priority": "text",
    "type": "text",
    "via_channel": "text",
    "via_source_rel": "text",
    "requester_id": "bigint",
    "submitter_id": "bigint",
    "assignee_id": "bigint",
    "organization_id": "bigint",
    "group_id": "bigint",
    "brand_id": "bigint",
    "ticket_form_id": "bigint",
    "problem_id": "bigint",
    "has_incidents": "bool",
    "is_public": "bool",
    "due_at": "timestamp",
    "external_id": "text",
    "satisfaction_score": "text",
    "tags": "json",
}
TICKET_FREE_TEXT_COLUMNS = {
    "subject": "text",
    "description": "text",
    "custom_fields": "json",
}

METRIC_SETS_TABLE = "ticket_metric_sets"
#: Durations of a Ticket Metrics object, each `{name}_in_minutes: {calendar, business}`; they
#: land flat as `{name}_calendar_minutes` and `{name}_business_minutes`.
METRIC_SET_DURATIONS = (
    "reply_time",
    "first_resolution_time",
    "full_resolution_time",
    "agent_wait_time",
    "requester_wait_time",
    "on_hold_time",
)
#: `generated_timestamp` is the ticket's (the window cursor), so a metric set lands with its
#: ticket and never without it.
METRIC_SET_COLUMNS = {
    "id": "bigint",
    "ticket_id": "bigint",
    "generated_timestamp": "bigint",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "reply_time_calendar_minutes": "bigint",
    "reply_time_business_minutes": "bigint",
    "first_resolution_time_calendar_minutes": "bigint",
    "first_resolution_time_business_minutes": "bigint",
    "full_resolution_time_calendar_minutes": "bigint",
    "full_resolution_time_business_minutes": "bigint",
    "agent_wait_time_calendar_minutes": "bigint",
    "agent_wait_time_business_minutes": "bigint",
    "requester_wait_time_calendar_minutes": "bigint",
    "requester_wait_time_business_minutes": "bigint",
    "on_hold_time_calendar_minutes": "bigint",
    "on_hold_time_business_minutes": "bigint",
    "replies": "bigint",
    "reopens": "bigint",
    "group_stations": "bigint",
    "assignee_stations": "bigint",
    "solved_at": "timestamp",
    "initially_assigned_at": "timestamp",
    "assigned_at": "timestamp",
    "assignee_updated_at": "timestamp",
    "requester_updated_at": "timestamp",
    "status_updated_at": "timestamp",
    "custom_status_updated_at": "timestamp",
    "latest_comment_added_at": "timestamp",
}

TICKET_EVENT_COLUMNS = {
    "id": "bigint",
    "ticket_id": "bigint",
    "created_at": "timestamp",
    "updater_id": "bigint",
    "via_channel": "text",
    "event_type": "text",
}

CHILD_EVENTS_TABLE = "ticket_child_events"
CHILD_EVENT_COLUMNS = {
    "id": "bigint",
    "audit_id": "bigint",
    "ticket_id": "bigint",
    "created_at": "timestamp",
    "event_type": "text",
    "author_id": "bigint",
    "via_channel": "text",
    "field_name": "text",
    "value": "text",
    "previous_value": "text",
    "is_public": "bool",
}
CHILD_EVENT_FREE_TEXT_COLUMNS = {
    "body": "text",
}

USER_COLUMNS = {
    "id": "bigint",
    "name": "text",
    "role": "text",
    "role_type": "bigint",
    "custom_role_id": "bigint",
    "default_group_id": "bigint",
    "organization_id": "bigint",
    "active": "bool",
    "suspended": "bool",
    "time_zone": "text",
    "iana_time_zone": "text",
    "locale": "text",
    "external_id": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
USER_FREE_TEXT_COLUMNS = {
    "email": "text",
    "phone": "text",
    "details": "text",
    "notes": "text",
}

ORGANIZATION_COLUMNS = {
    "id": "bigint",
    "name": "text",
    "external_id": "text",
    "group_id": "bigint",
    "domain_names": "json",
    "tags": "json",
    "organization_fields": "json",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "deleted_at": "timestamp",
}
ORGANIZATION_FREE_TEXT_COLUMNS = {
    "details": "text",
    "notes": "text",
}

GROUP_COLUMNS = {
    "id": "bigint",
    "name": "text",
    "default": "bool",
    "deleted": "bool",
    "is_public": "bool",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
GROUP_FREE_TEXT_COLUMNS = {
    "description": "text",
}

SCHEDULE_COLUMNS = {
    "id": "bigint",
    "name": "text",
    "time_zone": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
SCHEDULE_INTERVALS_TABLE = "schedules__intervals"
SCHEDULE_INTERVAL_COLUMNS = {
    "schedule_id": "bigint",
    "start_time": "bigint",
    "end_time": "bigint",
}

HOLIDAY_COLUMNS = {
    "id": "bigint",
    "schedule_id": "bigint",
    "name": "text",
    "start_date": "date",
    "end_date": "date",
}

SATISFACTION_RATING_COLUMNS = {
    "id": "bigint",
    "ticket_id": "bigint",
    "assignee_id": "bigint",
    "group_id": "bigint",
    "requester_id": "bigint",
    "score": "text",
    "reason_code": "bigint",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
SATISFACTION_RATING_FREE_TEXT_COLUMNS = {
    "comment": "text",
    "reason": "text",
}

CALL_COLUMNS = {
    "id": "bigint",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "ticket_id": "bigint",
    "agent_id": "bigint",
    "customer_id": "bigint",
    "call_group_id": "bigint",
    "direction": "text",
    "call_channel": "text",
    "line_type": "text",
    "completion_status": "text",
    "duration": "bigint",
    "wait_time": "bigint",
    "talk_time": "bigint",
    "hold_time": "bigint",
    "wrap_up_time": "bigint",
    "consultation_time": "bigint",
    "exceeded_queue_wait_time": "bool",
    "voicemail": "bool",
    "callback": "bool",
}

#: Per resource: the free-text columns that land only with land_free_text.
FREE_TEXT_COLUMNS = {
    "tickets": TICKET_FREE_TEXT_COLUMNS,
    "users": USER_FREE_TEXT_COLUMNS,
    "organizations": ORGANIZATION_FREE_TEXT_COLUMNS,
    "groups": GROUP_FREE_TEXT_COLUMNS,
    "satisfaction_ratings": SATISFACTION_RATING_FREE_TEXT_COLUMNS,
}
