"""Intercom source constants: endpoints, limits, landed columns (no logic here)."""

from __future__ import annotations

from connectors.http import RateLimitHeaders

SOURCE_NAME = "intercom"
#: US-hosted workspaces; EU and Australian ones are served from `https://api.eu.intercom.io`
#: and `https://api.au.intercom.io` (the source's `base_url`).
DEFAULT_BASE_URL = "https://api.intercom.io"
CREDENTIALS_HINT = (
    "INTERCOM_ACCESS_TOKEN (an Intercom access token with read access to conversations, "
    "admins, teams, contacts and companies) and, for an EU or Australian workspace, "
    "INTERCOM_BASE_URL"
)
#: The REST API version every request asks for (`Intercom-Version` header): the landed
#: shapes below are version 2.11's.
API_VERSION = "2.11"

# Endpoints (REST API 2.11).
SEARCH_CONVERSATIONS_PATH = "/conversations/search"
#: One conversation with its parts; `{id}` is filled in per request. Quarantined records of
#: a conversation or its parts name this template as their endpoint (the record names the
#: conversation).
CONVERSATION_PATH = "/conversations/{id}"
ADMINS_PATH = "/admins"
TEAMS_PATH = "/teams"
#: Every company, a page at a time: the first request without a parameter, the next ones
#: with the `scroll_param` of the answer before; a page with an empty `data` ends the scroll.
#: Only one scroll may be open per app, and a parameter unused for a minute expires.
COMPANIES_SCROLL_PATH = "/companies/scroll"
#: One contact (user or lead) with its companies; `{id}` is filled in per request.
CONTACT_PATH = "/contacts/{id}"

#: Search pages hold at most 150 conversations (`pagination.per_page`; default 20).
MAX_PAGE_SIZE = 150
DEFAULT_PAGE_SIZE = 150
#: Retrieving a conversation returns at most this many parts ("There is a limit of 500
#: parts"); `conversation_parts.total_count` says how many it has.
MAX_PARTS_RETURNED = 500
#: Conversation details (`GET /conversations/{id}`: search results carry no parts) fetched
#: at a time. Intercom's default limit is 10,000 requests a minute per app, spread over
#: 10-second windows; a 429 waits for the window's reset.
DETAIL_WORKERS = 8
#: Intercom counts its rate limit over 10-second windows: a 429 that carries neither
#: `Retry-After` nor `X-RateLimit-Reset` is waited out for that long.
RATE_LIMIT_WINDOW_SECONDS = 10.0
#: Every answer says how many requests the window has left and when it resets: the client
#: waits for the reset once no more than the detail requests in flight are left.
RATE_LIMIT_HEADERS = RateLimitHeaders("X-RateLimit-Remaining", "X-RateLimit-Reset",
                                      reserve=DETAIL_WORKERS)

#: A scroll that fails part-way with an error saying it expired or must be restarted is
#: restarted from its first page this many times (Intercom: "It is not possible to continue
#: from a specific point when using scroll"); the companies already landed are not repeated.
MAX_SCROLL_RESTARTS = 1
#: Words that, with "scroll", in an error answer's body (lower case) mean the scroll is
#: closed already: a `scroll_param` unused for a minute (404 `not_found` "scroll parameter
#: not found", or a message saying it expired).
SCROLL_EXPIRED_WORDS = ("expired", "not found")
#: ... or that it must be started again: those, or the 500 "Request failed due to an
#: internal network error. Please restart the scroll operation." (the scroll may be open).
SCROLL_RESTART_WORDS = (*SCROLL_EXPIRED_WORDS, "restart")
#: A scroll parameter unused this long (seconds) expires ("If the scroll isn't used for 1
#: minute, it expires"): a restart not told that its scroll expired waits for it.
SCROLL_EXPIRY_SECONDS = 61.0
#: Contacts fetched (`CONTACT_PATH`, `DETAIL_WORKERS` at a time) per landed page.
CONTACT_BATCH_SIZE = 150

CONVERSATIONS_TABLE = "conversations"
PARTS_TABLE = "conversation_parts"
CONTACTS_TABLE = "contacts"
COMPANIES_TABLE = "companies"
#: The part type of the row each conversation's opening message (`source`) lands as, and
#: the prefix of its id (`source-<conversation id>`): a source message's id and a part's id
#: are counted separately by Intercom, so the source's own id could equal a part's.
SOURCE_PART_TYPE = "source"
SOURCE_PART_ID_PREFIX = "source-"

# Landed columns: (name, landed type). Ids land as text (Intercom's ids are strings, some
# numeric ones are sent as integers), times as timestamptz from Unix seconds. The free-text
# columns are always there, NULL unless land_free_text.
CONVERSATION_COLUMNS = {
    "id": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "title": "text",
    "state": "text",
    "open": "bool",
    "read": "bool",
    "priority": "text",
    "admin_assignee_id": "text",
    "team_assignee_id": "text",
    "waiting_since": "timestamp",
    "snoozed_until": "timestamp",
    "source_type": "text",
    "source_id": "text",
    "source_delivered_as": "text",
    "source_author_type": "text",
    "source_author_id": "text",
    "contact_id": "text",
    "contact_ids": "json",
    "tags": "json",
    "first_contact_reply_at": "timestamp",
    "stat_first_contact_reply_at": "timestamp",
    "stat_first_assignment_at": "timestamp",
    "stat_first_admin_reply_at": "timestamp",
    "stat_first_close_at": "timestamp",
    "stat_last_assignment_at": "timestamp",
    "stat_last_assignment_admin_reply_at": "timestamp",
    "stat_last_contact_reply_at": "timestamp",
    "stat_last_admin_reply_at": "timestamp",
    "stat_last_close_at": "timestamp",
    "stat_last_closed_by_id": "text",
    "stat_time_to_assignment": "bigint",
    "stat_time_to_admin_reply": "bigint",
    "stat_time_to_first_close": "bigint",
    "stat_time_to_last_close": "bigint",
    "stat_median_time_to_reply": "bigint",
    "stat_count_reopens": "bigint",
    "stat_count_assignments": "bigint",
    "stat_count_conversation_parts": "bigint",
    "rating": "bigint",
    "rating_created_at": "timestamp",
    "rating_contact_id": "text",
    "rating_teammate_id": "text",
    "rating_remark": "text",
    "parts_total_count": "bigint",
    "parts_landed": "bigint",
}
#: `statistics` fields landed as `stat_<name>`, by type.
STATISTICS_TIMES = (
    "first_contact_reply_at",
    "first_assignment_at",
    "first_admin_reply_at",
    "first_close_at",
    "last_assignment_at",
    "last_assignment_admin_reply_at",
    "last_contact_reply_at",
    "last_admin_reply_at",
    "last_close_at",
)
STATISTICS_COUNTS = (
    "time_to_assignment",
    "time_to_admin_reply",
    "time_to_first_close",
    "time_to_last_close",
    "median_time_to_reply",
    "count_reopens",
    "count_assignments",
    "count_conversation_parts",
)
#: A conversation rating's scale (`conversation_rating.rating`: "between 1 and 5").
RATING_RANGE = (1, 5)

PART_COLUMNS = {
    "id": "text",
    "conversation_id": "text",
    "position": "bigint",
    "part_type": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "notified_at": "timestamp",
    "author_type": "text",
    "author_id": "text",
    "assigned_to_type": "text",
    "assigned_to_id": "text",
    "redacted": "bool",
    "has_body": "bool",
    "body": "text",
    "conversation_updated_at": "timestamp",
}

ADMIN_COLUMNS = {
    "id": "text",
    "type": "text",
    "name": "text",
    "email": "text",
    "job_title": "text",
    "away_mode_enabled": "bool",
    "away_mode_reassign": "bool",
    "has_inbox_seat": "bool",
    "team_ids": "json",
}

TEAM_COLUMNS = {
    "id": "text",
    "name": "text",
    "admin_ids": "json",
}

CONTACT_COLUMNS = {
    "id": "text",
    "role": "text",
    "external_id": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "email": "text",
    "name": "text",
    "company_ids": "json",
    "company_count": "bigint",
    "has_more_companies": "bool",
}

COMPANY_COLUMNS = {
    "id": "text",
    "company_id": "text",
    "name": "text",
    "website": "text",
    "industry": "text",
    "size": "bigint",
    "monthly_spend": "double",
    "user_count": "bigint",
    "plan_name": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "remote_created_at": "timestamp",
}

#: Per table: the free-text columns (NULL unless land_free_text).
FREE_TEXT_COLUMNS = {
    CONVERSATIONS_TABLE: frozenset({"title", "rating_remark"}),
    PARTS_TABLE: frozenset({"body"}),
    "admins": frozenset({"email", "job_title"}),
    "teams": frozenset(),
    CONTACTS_TABLE: frozenset({"email", "name"}),
    COMPANIES_TABLE: frozenset(),
}

# --- new fields and the quarantine ----------------------------------------------------------

#: Per table: the documented top-level fields of its records (REST API 2.11 reference, and
#: later versions' additions) that are landed, read for a column, or deliberately left out.
#: Any other top-level field is new: it lands as a new column (free text excepted).
KNOWN_FIELDS = {
    CONVERSATIONS_TABLE: frozenset(
        {
            "type", "id", "title", "created_at", "updated_at", "waiting_since", "snoozed_until",
            "open", "state", "read", "priority", "admin_assignee_id", "team_assignee_id",
            "tags", "conversation_rating", "source", "contacts", "teammates",
            "custom_attributes", "first_contact_reply", "sla_applied", "statistics",
            "conversation_parts", "linked_objects", "ai_agent_participated", "ai_agent",
            "topics", "ticket", "company_id",
        }
    ),
    # A part's fields, and those of the source message, which lands as a part row too.
    PARTS_TABLE: frozenset(
        {
            "type", "id", "part_type", "body", "created_at", "updated_at", "notified_at",
            "assigned_to", "author", "attachments", "external_id", "redacted",
            "email_message_metadata", "metadata", "state", "tags", "event_details",
            "app_package_code", "delivered_as", "subject", "url",
        }
    ),
    "admins": frozenset(
        {*ADMIN_COLUMNS, "avatar", "team_priority_level", "email_verified", "app"}
    ),
    "teams": frozenset({*TEAM_COLUMNS, "type", "admin_priority_level"}),
    CONTACTS_TABLE: frozenset(
        {
            *CONTACT_COLUMNS, "type", "workspace_id", "email_domain", "phone",
            "formatted_phone", "owner_id", "has_hard_bounced", "marked_email_as_spam",
            "unsubscribed_from_emails", "signed_up_at", "last_seen_at", "last_replied_at",
            "last_contacted_at", "last_email_opened_at", "last_email_clicked_at",
            "language_override", "browser", "browser_version", "browser_language", "os",
            "android_app_name", "android_app_version", "android_device", "android_os_version",
            "android_sdk_version", "android_last_seen_at", "ios_app_name", "ios_app_version",
            "ios_device", "ios_os_version", "ios_sdk_version", "ios_last_seen_at",
            "custom_attributes", "avatar", "tags", "notes", "companies", "location",
            "social_profiles", "opted_out_subscription_types", "opted_in_subscription_types",
            "utm_campaign", "utm_content", "utm_medium", "utm_source", "utm_term", "referrer",
            "sms_consent", "unsubscribed_from_sms", "enabled_push_messaging",
        }
    ),
    COMPANIES_TABLE: frozenset(
        {
            *COMPANY_COLUMNS, "type", "app_id", "plan", "last_request_at", "session_count",
            "custom_attributes", "tags", "segments",
        }
    ),
}
#: Per table: free-text fields, never landed as a new column.
PRIVATE_FIELDS = {
    CONVERSATIONS_TABLE: frozenset({"title", "custom_attributes"}),
    PARTS_TABLE: frozenset({"body", "subject"}),
    "admins": frozenset({"email", "job_title"}),
    "teams": frozenset(),
    CONTACTS_TABLE: frozenset(
        {"email", "name", "phone", "formatted_phone", "custom_attributes", "avatar",
         "location", "social_profiles", "notes"}
    ),
    COMPANIES_TABLE: frozenset({"custom_attributes"}),
}
#: Keys removed (at any depth) from a record stored in `_quarantine` unless land_free_text:
#: message bodies and subjects, titles, rating remarks, custom attributes, and the names,
#: e-mail addresses, phone numbers and locations of contacts and admins (authors, contacts
#: and ratings carry them).
QUARANTINE_PRIVATE_KEYS = frozenset(
    {
        "title", "body", "subject", "remark", "rating_remark", "custom_attributes", "email",
        "name", "job_title", "attachments", "url", "phone", "formatted_phone", "location",
        "avatar", "social_profiles", "notes",
    }
)
