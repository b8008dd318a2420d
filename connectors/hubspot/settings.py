"""HubSpot source constants: endpoints, limits, properties and landed columns (no logic here)."""

from __future__ import annotations

SOURCE_NAME = "hubspot"
DEFAULT_BASE_URL = "https://api.hubapi.com"
CREDENTIALS_HINT = (
    "HUBSPOT_ACCESS_TOKEN (a private-app token with the crm.objects.companies.read and "
    "crm.objects.deals.read scopes, and crm.objects.contacts.read for survey responses)"
)

# Endpoints (CRM v3 objects API: list with `properties`, `associations`, `archived`, `after`).
COMPANIES_PATH = "/crm/v3/objects/companies"
DEALS_PATH = "/crm/v3/objects/deals"
#: Survey responses (NPS, CSAT, CES): read-only objects of HubSpot's Service Hub.
FEEDBACK_SUBMISSIONS_PATH = "/crm/v3/objects/feedback_submissions"
#: The scopes feedback submissions accept (either). A token with neither (or an account
#: without Service Hub's surveys) gets HTTP 403 `MISSING_SCOPES`: the surveys are then left
#: out with a warning, and companies and deals still land.
FEEDBACK_SUBMISSIONS_SCOPES = ("crm.objects.contacts.read", "crm.objects.feedback_submissions.read")
MISSING_SCOPES = "MISSING_SCOPES"
#: A survey response names its contact; the contact's primary company (its
#: `associatedcompanyid` property) is read in batches of at most 100 ids, which needs
#: `crm.objects.contacts.read` (without it the responses land without a company).
CONTACTS_BATCH_READ_PATH = "/crm/v3/objects/contacts/batch/read"
CONTACTS_SCOPE = "crm.objects.contacts.read"
CONTACT_COMPANY_PROPERTY = "associatedcompanyid"
MAX_BATCH_READ_INPUTS = 100
#: Association type of a deal's primary company in the v3 objects API (others are
#: `deal_to_company_unlabeled` or custom labels).
PRIMARY_COMPANY_ASSOCIATION = "deal_to_company"

#: The list endpoints return at most 100 objects a page (`limit`).
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 100
#: HubSpot's burst limit is counted over a rolling 10-second window: a 429 without a
#: `Retry-After` header is waited out for that long.
RATE_LIMIT_WINDOW_SECONDS = 10.0

#: Deal properties landed by default (DESIGN.md "Contracts from the CRM"); each is a setting.
DEFAULT_DEAL_PROPERTIES = (
    "dealname",
    "pipeline",
    "dealstage",
    "closedate",
    "amount",
    "hs_mrr",
    "contract_term_months",
)
#: Company properties landed by default.
DEFAULT_COMPANY_PROPERTIES = ("name", "domain", "industry")

#: Feedback-submission properties landed, with their types: the survey (`hs_survey_id`,
#: `hs_survey_name`, `hs_survey_type`: NPS, CSAT, CES or CUSTOM, `hs_survey_channel`), the
#: answer (`hs_value` on the survey's scale, HubSpot's `hs_response_group`: PROMOTER,
#: PASSIVE or DETRACTOR), when it was submitted and by which contact. The free-text answer
#: (`hs_content`) is not landed (PRIVATE_FIELDS).
SURVEY_PROPERTIES = {
    "hs_survey_id": "text",
    "hs_survey_name": "text",
    "hs_survey_type": "text",
    "hs_survey_channel": "text",
    "hs_value": "double",
    "hs_response_group": "text",
    "hs_submission_timestamp": "timestamp",
    "hs_contact_id": "text",
}
#: Extra column of `feedback_submissions`: the responding contact's primary company.
SURVEY_COLUMNS = {"company_id": "bigint"}
#: Answers outside their survey type's scale are quarantined. Only NPS's is fixed by
#: definition (0-10); the scales of CSAT and CES surveys are the account's configuration.
SURVEY_VALUE_RANGES = {"NPS": (0, 10)}

#: The properties staging reads, by the column they land in (DESIGN.md "Contracts from the
#: CRM"). Each is a setting: a configured property lands under this canonical column, so
#: staging's SQL never changes (e.g. a `term_length` property lands in
#: `contract_term_months`). The column's type is the canonical property's.
DEFAULT_CLOSE_DATE_PROPERTY = "closedate"
DEFAULT_CONTRACT_TERM_PROPERTY = "contract_term_months"
DEFAULT_MRR_PROPERTY = "hs_mrr"
DEFAULT_AMOUNT_PROPERTY = "amount"
DEFAULT_SEGMENT_PROPERTY = "industry"
#: Deal stage ids that make a deal a contract (`is_won`): `closedwon` of the default pipeline.
DEFAULT_WON_STAGES = ("closedwon",)
#: The deal property `is_won` is computed from (always requested).
STAGE_PROPERTY = "dealstage"

#: How known properties land (HubSpot sends every property value as a string). A property
#: not listed here lands as text unless the caller gives its type.
PROPERTY_TYPES = {
    "amount": "decimal",
    "hs_mrr": "decimal",
    "hs_acv": "decimal",
    "hs_arr": "decimal",
    "hs_tcv": "decimal",
    "amount_in_home_currency": "decimal",
    "closedate": "timestamp",
    "createdate": "timestamp",
    "hs_lastmodifieddate": "timestamp",
    "contract_term_months": "bigint",
    "hs_is_closed_won": "bool",
    "hs_is_closed": "bool",
    "numberofemployees": "bigint",
    "annualrevenue": "decimal",
}
#: The types a property can land as.
PROPERTY_TYPE_NAMES = frozenset(
    {"text", "decimal", "double", "bigint", "bool", "timestamp", "date"}
)

#: Columns every object table has, before its properties. `changed_at` is the window
#: cursor: `updatedAt`, or `archivedAt` when an archived object was archived later.
OBJECT_COLUMNS = {
    "id": "bigint",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "archived": "bool",
    "archived_at": "timestamp",
    "changed_at": "timestamp",
}
#: Extra columns of `deals`: the primary associated company, and whether the deal's stage
#: is one of the won stages (a setting).
DEAL_COLUMNS = {
    "company_id": "bigint",
    "is_won": "bool",
}

#: HubSpot's expected top-level fields of an object (v3 objects API): landed, read for a
#: column (`properties`, `associations`), or documented and deliberately left out (`url`,
#: `propertiesWithHistory`, `objectWriteTraceId`). Any other top-level field is new: it
#: lands as a new column. Properties are requested explicitly, so they stay as configured.
KNOWN_RECORD_FIELDS = frozenset(
    {
        "id", "properties", "createdAt", "updatedAt", "archived", "archivedAt",
        "associations", "url", "propertiesWithHistory", "objectWriteTraceId",
    }
)
#: Free-text fields: never landed as a new column, and taken out of quarantined records.
PRIVATE_FIELDS = frozenset({"description", "hs_notes", "notes", "hs_content"})
#: Time properties HubSpot returns on every object whatever is asked for; a value that does
#: not parse means a corrupt object, which is quarantined.
ALWAYS_RETURNED_TIMES = ("createdate", "hs_lastmodifieddate")
