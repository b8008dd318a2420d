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
#: How long before a window an answered satisfaction rating may have been created (offered):
#: the survey goes out after the ticket is solved, and the rating can change until the
#: ticket closes, which Zendesk's automation does 4 days after solved by default and 28 at
#: most. The ratings list's `start_time` / `end_time` are documented as the times "of the
#: oldest / most recent satisfaction rating", which may be their creation: the ratings
#: received in these days before a window are asked for too, and the window keeps those
#: updated inside it.
RATING_ANSWER_SECONDS = 28 * 24 * 3600
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
#: How far back from the newest audit seen an audit or child event can still come again
#: (`first_occurrences`): the event export is ordered by time and repeats only the last
#: second of a page, or restarts from the latest time it handed over; a day is a wide margin.
REPEAT_HORIZON_SECONDS = 24 * 3600
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

# --- faults ---------------------------------------------------------------------------------

#: How Zendesk refuses an expired or invalid pagination cursor: HTTP 422 on the incremental
#: exports, 400 on cursor-paginated lists, with `{"error": "InvalidPaginationParameter"}`.
EXPIRED_CURSOR_STATUSES = frozenset({400, 422})
EXPIRED_CURSOR_ERROR = "InvalidPaginationParameter"
#: How often one export restarts from a start_time after expired cursors before giving up.
MAX_CURSOR_RESTARTS = 3

# --- new fields and the quarantine ----------------------------------------------------------

#: Per endpoint: documented fields the connector knows and deliberately does not land as
#: columns (links, id lists staging does not read, channel-specific settings, fields read
#: only to fill another column, e.g. `via` -> `via_channel`). Any other top-level field not
#: landed is new: it lands as a new column (free text excepted, see PRIVATE_FIELDS).
KNOWN_NOT_LANDED: dict[str, frozenset[str]] = {
    INCREMENTAL_TICKETS_PATH: frozenset(
        {
            "url", "via", "satisfaction_rating", "raw_subject", "recipient", "fields",
            "collaborator_ids", "follower_ids", "email_cc_ids", "followup_ids",
            "sharing_agreement_ids", "forum_topic_id", "allow_attachments",
            "allow_channelback", "from_messaging_channel", "encoded_id", "dates",
            "metric_set", "metric_sets", "comment_count",
        }
    ),
    # A metric set's durations `{name}_in_minutes` land flat; `url` is a link.
    METRIC_SETS_TABLE: frozenset(
        {"url", "generated_timestamp", *(f"{d}_in_minutes" for d in METRIC_SET_DURATIONS)}
    ),
    INCREMENTAL_TICKET_EVENTS_PATH: frozenset(
        {"child_events", "timestamp", "via", "metadata", "system", "merged_ticket_ids"}
    ),
    INCREMENTAL_USERS_PATH: frozenset(
        {
            "url", "alias", "photo", "signature", "shared", "shared_agent",
            "shared_phone_number", "moderator", "only_private_comments", "restricted_agent",
            "ticket_restriction", "two_factor_auth_enabled", "verified", "report_csv",
            "last_login_at", "locale_id", "tags", "user_fields",
        }
    ),
    INCREMENTAL_ORGANIZATIONS_PATH: frozenset({"url", "shared_tickets", "shared_comments"}),
    GROUPS_PATH: frozenset({"url"}),
    SCHEDULES_PATH: frozenset({"intervals"}),
    SATISFACTION_RATINGS_PATH: frozenset({"url", "reason_id"}),
    INCREMENTAL_CALLS_PATH: frozenset(
        {
            "call_charge", "call_recording_consent", "call_recording_consent_action",
            "call_recording_consent_keypress", "callback_source",
            "customer_requested_voicemail", "default_group", "ivr_action",
            "ivr_destination_group_name", "ivr_hops", "ivr_routed_to", "ivr_time_spent",
            "minutes_billed", "not_recording_time", "outside_business_hours", "overflowed",
            "overflowed_to", "phone_number", "phone_number_id", "quality_issues",
            "recording_control_interactions", "recording_time", "time_to_answer",
        }
    ),
}

#: Per endpoint: free-text fields, never landed (not even as a new column) unless
#: land_free_text: the free-text columns, and free text the connector never lands.
PRIVATE_FIELDS: dict[str, frozenset[str]] = {
    INCREMENTAL_TICKETS_PATH: frozenset({*TICKET_FREE_TEXT_COLUMNS, "raw_subject"}),
    INCREMENTAL_USERS_PATH: frozenset({*USER_FREE_TEXT_COLUMNS, "alias", "signature"}),
    INCREMENTAL_ORGANIZATIONS_PATH: frozenset(ORGANIZATION_FREE_TEXT_COLUMNS),
    GROUPS_PATH: frozenset(GROUP_FREE_TEXT_COLUMNS),
    SATISFACTION_RATINGS_PATH: frozenset(SATISFACTION_RATING_FREE_TEXT_COLUMNS),
}

#: Keys removed (at any depth) from a record stored in `_quarantine` unless land_free_text:
#: every free-text field of every endpoint, comment bodies and custom field values.
QUARANTINE_PRIVATE_KEYS = frozenset(
    {
        *(name for fields in PRIVATE_FIELDS.values() for name in fields),
        "body", "html_body", "plain_body", "custom_fields", "fields", "user_fields",
        "organization_fields", "recipient", "photo",
    }
)
