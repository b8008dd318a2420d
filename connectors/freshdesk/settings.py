"""Freshdesk source constants: endpoints, limits, landed columns (no logic here)."""

from __future__ import annotations

from connectors.http import RateLimitHeaders

SOURCE_NAME = "freshdesk"
#: An account's API is served from its own domain; the source's `base_url` overrides it.
DOMAIN_BASE_URL = "https://{domain}.freshdesk.com"
CREDENTIALS_HINT = (
    "FRESHDESK_API_KEY (an agent's API key: Profile settings > View API key; the ticket "
    "activities export needs an admin's) and FRESHDESK_DOMAIN or FRESHDESK_BASE_URL"
)

# Endpoints (API v2).
TICKETS_PATH = "/api/v2/tickets"
#: One ticket's conversations; `{id}` is filled in per request. Quarantined conversations
#: name this template as their endpoint (the record names the ticket).
CONVERSATIONS_PATH = "/api/v2/tickets/{id}/conversations"
ACTIVITIES_EXPORT_PATH = "/api/v2/export/ticket_activities"
#: The endpoint quarantined activities name: the export file (its URL is pre-signed, so it
#: is never stored or logged).
ACTIVITIES_FILE_ENDPOINT = "ticket activities export file"
SATISFACTION_RATINGS_PATH = "/api/v2/surveys/satisfaction_ratings"
AGENTS_PATH = "/api/v2/agents"
GROUPS_PATH = "/api/v2/groups"
COMPANIES_PATH = "/api/v2/companies"
TICKET_FIELDS_PATH = "/api/v2/ticket_fields"
SURVEYS_PATH = "/api/v2/surveys"
TIME_ENTRIES_PATH = "/api/v2/time_entries"
BUSINESS_HOURS_PATH = "/api/v2/business_hours"

#: List endpoints return at most 100 records a page (`per_page`, default 30).
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 100
#: The page number at which the ticket list is queried again from the last `updated_at`
#: seen, instead of asking for a further page: Freshdesk refuses deep page numbers on the
#: ticket list (the connector never relies on a page beyond this).
MAX_TICKET_LIST_PAGE = 300
#: Tickets whose conversations are read at a time (each ticket: one or more requests).
CONVERSATION_WORKERS = 4
#: Freshdesk counts its rate limit per minute and says what is left in
#: `X-RateLimit-Remaining` (with `X-RateLimit-Total`), with no reset time; a 429 carries
#: `Retry-After` (seconds). Once no more than the requests in flight are left, the client
#: waits a minute.
RATE_LIMIT_WINDOW_SECONDS = 60.0
RATE_LIMIT_HEADERS = RateLimitHeaders("X-RateLimit-Remaining", reserve=CONVERSATION_WORKERS,
                                      window_seconds=RATE_LIMIT_WINDOW_SECONDS)
#: The ticket list's filter for deleted tickets (`filter=deleted`).
DELETED_FILTER = "deleted"
#: The ticket list leaves out spam and deleted tickets unless asked for with `filter`:
#: the window's tickets are read in three scans.
TICKET_SCANS = (None, "spam", DELETED_FILTER)
#: The export's time format (`"21-03-2024 09:33:38 +0000"`); ISO 8601 is read too.
EXPORT_TIME_FORMAT = "%d-%m-%Y %H:%M:%S %z"
#: Hex digits of the activity's content hash in a `ticket_activities.id`.
ACTIVITY_HASH_CHARS = 12
#: Where an admin turns the export on (Freshdesk's admin menu wording).
ACTIVITY_EXPORT_SETTING = "Admin > Account > Scheduled Export > Ticket activity export"

TICKETS_TABLE = "tickets"
CONVERSATIONS_TABLE = "conversations"
ACTIVITIES_TABLE = "ticket_activities"
RATINGS_TABLE = "satisfaction_ratings"
AGENTS_TABLE = "agents"
GROUPS_TABLE = "groups"
COMPANIES_TABLE = "companies"
STATUSES_TABLE = "ticket_statuses"
SURVEY_SCALE_TABLE = "survey_scale"
TIME_ENTRIES_TABLE = "time_entries"
BUSINESS_HOURS_TABLE = "business_hours"

# Landed columns: (name, landed type). Freshdesk's ids are integers and land as bigint;
# times are ISO 8601 UTC. The free-text columns are always there, NULL unless
# land_free_text.
TICKET_COLUMNS = {
    "id": "bigint",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "subject": "text",
    "status": "bigint",
    "priority": "bigint",
    "source": "bigint",
    "type": "text",
    "requester_id": "bigint",
    "responder_id": "bigint",
    "group_id": "bigint",
    "company_id": "bigint",
    "product_id": "bigint",
    "tags": "json",
    "spam": "bool",
    "deleted": "bool",
    "is_escalated": "bool",
    "fr_escalated": "bool",
    "due_by": "timestamp",
    "fr_due_by": "timestamp",
    "stats_first_responded_at": "timestamp",
    "stats_agent_responded_at": "timestamp",
    "stats_requester_responded_at": "timestamp",
    "stats_resolved_at": "timestamp",
    "stats_closed_at": "timestamp",
    "stats_reopened_at": "timestamp",
    "stats_status_updated_at": "timestamp",
    "stats_pending_since": "timestamp",
}
#: Ticket fields landed under their own name, by type.
TICKET_IDS = ("requester_id", "responder_id", "group_id", "company_id", "product_id")
TICKET_CODES = ("status", "priority", "source")
TICKET_FLAGS = ("spam", "deleted", "is_escalated", "fr_escalated")
TICKET_TIMES = ("created_at", "updated_at", "due_by", "fr_due_by")
#: `stats` (`include=stats`) times landed as `stats_<name>`.
TICKET_STATS_TIMES = (
    "first_responded_at",
    "agent_responded_at",
    "requester_responded_at",
    "resolved_at",
    "closed_at",
    "reopened_at",
    "status_updated_at",
    "pending_since",
)

CONVERSATION_COLUMNS = {
    "id": "bigint",
    "ticket_id": "bigint",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "user_id": "bigint",
    "incoming": "bool",
    "private": "bool",
    "source": "bigint",
    "support_email": "text",
    "body_text": "text",
}

ACTIVITY_COLUMNS = {
    "id": "text",
    "ticket_id": "bigint",
    "performed_at": "timestamp",
    "performer_type": "text",
    "performer_id": "bigint",
    "new_ticket": "bool",
    "status": "text",
    "priority": "bigint",
    "agent_id": "bigint",
    "group": "text",
    "note_id": "bigint",
    "note_type": "bigint",
    "automation_rule": "text",
    "activity": "json",
    "export_date": "date",
}

RATING_COLUMNS = {
    "id": "bigint",
    "ticket_id": "bigint",
    "survey_id": "bigint",
    "user_id": "bigint",
    "agent_id": "bigint",
    "group_id": "bigint",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "rating": "bigint",
    "ratings": "json",
    "feedback": "text",
}
#: The key of the overall rating in a rating's `ratings` (the survey's default question).
DEFAULT_QUESTION = "default_question"

AGENT_COLUMNS = {
    "id": "bigint",
    "type": "text",
    "occasional": "bool",
    "available": "bool",
    "ticket_scope": "bigint",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "name": "text",
    "active": "bool",
}

GROUP_COLUMNS = {
    "id": "bigint",
    "name": "text",
    "business_hour_id": "bigint",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}

COMPANY_COLUMNS = {
    "id": "bigint",
    "name": "text",
    "domains": "json",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}

STATUS_COLUMNS = {
    "id": "bigint",
    "name": "text",
    "customer_label": "text",
}
#: The default ticket field whose `choices` are the statuses.
STATUS_FIELD = "status"

#: One row per answer a survey's default question accepts (`accepted_ratings`), worst first:
#: `position` 1..`points` places a rating on its survey's scale.
SURVEY_SCALE_COLUMNS = {
    "id": "text",
    "survey_id": "bigint",
    "rating": "bigint",
    "position": "bigint",
    "points": "bigint",
}

#: `time_spent` as Freshdesk gives it (`hh:mm`), and in seconds (`time_spent_seconds`).
TIME_ENTRY_COLUMNS = {
    "id": "bigint",
    "ticket_id": "bigint",
    "agent_id": "bigint",
    "company_id": "bigint",
    "billable": "bool",
    "timer_running": "bool",
    "time_spent": "text",
    "time_spent_seconds": "bigint",
    "executed_at": "timestamp",
    "start_time": "timestamp",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "note": "text",
}

#: A business calendar's weekdays, Sunday first (staging counts its week from Sunday 00:00).
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
#: One row per business calendar: each weekday's opening as minutes of the local day
#: (`monday_start_minute` 480 and `monday_end_minute` 1020 for 08:00-17:00; Freshdesk's
#: `11:59:59 pm` closes at 1440), both NULL on a closed weekday. `time_zone` is Freshdesk's
#: (a Rails name, as Zendesk's).
BUSINESS_HOURS_COLUMNS = {
    "id": "bigint",
    "name": "text",
    "is_default": "bool",
    "time_zone": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    **{f"{day}_{end}_minute": "bigint" for day in WEEKDAYS for end in ("start", "end")},
}

#: Per table: the free-text columns (NULL unless land_free_text).
FREE_TEXT_COLUMNS = {
    TICKETS_TABLE: frozenset({"subject"}),
    CONVERSATIONS_TABLE: frozenset({"body_text"}),
    ACTIVITIES_TABLE: frozenset({"activity"}),
    RATINGS_TABLE: frozenset({"feedback"}),
    AGENTS_TABLE: frozenset(),
    GROUPS_TABLE: frozenset(),
    COMPANIES_TABLE: frozenset(),
    STATUSES_TABLE: frozenset(),
    SURVEY_SCALE_TABLE: frozenset(),
    TIME_ENTRIES_TABLE: frozenset({"note"}),
    BUSINESS_HOURS_TABLE: frozenset(),
}

#: Keys removed (at any depth) from a record stored in `_quarantine` unless land_free_text:
#: subjects, descriptions, bodies, feedback, custom field values, names, e-mail addresses,
#: phone numbers, signatures and attachment URLs.
QUARANTINE_PRIVATE_KEYS = frozenset(
    {
        "subject", "description", "description_text", "body", "body_text", "feedback",
        "custom_fields", "name", "email", "to_emails", "from_email", "cc_emails",
        "bcc_emails", "fwd_emails", "reply_cc_emails", "ticket_cc_emails", "support_email",
        "phone", "mobile", "signature", "job_title", "attachments", "activity", "note",
    }
)
