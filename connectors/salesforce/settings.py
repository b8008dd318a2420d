"""Salesforce source constants: API paths, fields and their landed types (no logic here)."""

from __future__ import annotations

SOURCE_NAME = "salesforce"
CREDENTIALS_HINT = (
    "SALESFORCE_ACCESS_TOKEN (an OAuth access token / session id valid for "
    "SALESFORCE_INSTANCE_URL; they expire, so refresh it)"
)
DEFAULT_API_VERSION = "v60.0"

#: REST query endpoint that also returns deleted (recycle-bin) records, with `IsDeleted`.
QUERY_ALL_PATH = "/services/data/{api_version}/queryAll"
#: sObject Describe: the object's fields as the org has them and the integration user can
#: read them (a field it cannot read is refused in SOQL as one the org lacks).
DESCRIBE_PATH = "/services/data/{api_version}/sobjects/{sobject}/describe"
#: Error codes of a 403 that means "over the org's API request limit": retried, then an error.
RATE_LIMIT_ERROR_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED"})
#: `Sforce-Query-Options: batchSize=` accepts 200..2000 (a hint; Salesforce may page smaller).
MIN_BATCH_SIZE = 200
MAX_BATCH_SIZE = 2000

#: The window cursor: changes by users and by the system (e.g. deletion), indexed.
CURSOR_FIELD = "SystemModstamp"

#: Fields every row has, whatever the caller asks for.
ACCOUNT_REQUIRED_FIELDS = ("Id", "IsDeleted", "SystemModstamp", "CreatedDate")
OPPORTUNITY_REQUIRED_FIELDS = ("Id", "AccountId", "IsDeleted", "SystemModstamp", "CreatedDate")
#: Fields landed by default (DESIGN.md "Contracts from the CRM"); each is a setting.
DEFAULT_ACCOUNT_FIELDS = ("Name", "Website", "Industry")
DEFAULT_OPPORTUNITY_FIELDS = (
    "Name",
    "StageName",
    "CloseDate",
    "Amount",
    "IsWon",
    "Contract_Term_Months__c",
)

#: The fields staging reads that are settings, by their default (canonical) field: a
#: configured field lands under the canonical field's column and type, so staging's SQL
#: never changes (e.g. `Term__c` lands in `contract_term_months_c`; DESIGN.md).
DEFAULT_CONTRACT_TERM_FIELD = "Contract_Term_Months__c"
DEFAULT_SEGMENT_FIELD = "Industry"

#: For a field the org lacks (its column lands empty, with a warning): the setting that
#: names it and what staging then does, by canonical field; any other field comes from the
#: object's field list argument. A required field the org lacks fails the run.
FIELD_SETTINGS = {
    DEFAULT_CONTRACT_TERM_FIELD: ("SALESFORCE_CONTRACT_TERM_FIELD", "staging takes 12 months"),
    DEFAULT_SEGMENT_FIELD: ("SALESFORCE_SEGMENT_FIELD", "staging takes the segment 'unknown'"),
}
FIELD_LIST_ARGUMENTS = {"Account": "account_fields", "Opportunity": "opportunity_fields"}
REQUIRED_FIELDS = {"Account": ACCOUNT_REQUIRED_FIELDS, "Opportunity": OPPORTUNITY_REQUIRED_FIELDS}

#: How known fields land (the API sends JSON numbers, booleans and ISO text). A field not
#: listed here lands as text unless the caller gives its type.
FIELD_TYPES = {
    "Id": "text",
    "AccountId": "text",
    "IsDeleted": "bool",
    "SystemModstamp": "timestamp",
    "CreatedDate": "timestamp",
    "LastModifiedDate": "timestamp",
    "Name": "text",
    "Website": "text",
    "Industry": "text",
    "Type": "text",
    "StageName": "text",
    "CloseDate": "date",
    "Amount": "decimal",
    "ExpectedRevenue": "decimal",
    "AnnualRevenue": "decimal",
    "NumberOfEmployees": "bigint",
    "Probability": "double",
    "IsWon": "bool",
    "IsClosed": "bool",
    "Contract_Term_Months__c": "bigint",
}
#: The types a field can land as.
FIELD_TYPE_NAMES = frozenset({"text", "decimal", "double", "bigint", "bool", "timestamp", "date"})

#: How Salesforce refuses an expired query locator (a `nextRecordsUrl`): HTTP 400 with
#: `[{"errorCode": "INVALID_QUERY_LOCATOR", ...}]`. The query is then re-issued from the
#: last `SystemModstamp` landed, at most this many times.
EXPIRED_LOCATOR_ERROR = "INVALID_QUERY_LOCATOR"
MAX_QUERY_RESTARTS = 3
#: Top-level record fields besides the queried ones that are expected and not landed
#: (`attributes`: type and URL of the record). Any other is new: it lands as a new column.
KNOWN_RECORD_FIELDS = frozenset({"attributes"})
#: Free-text fields: never landed as a new column, and taken out of quarantined records
#: (unless queried as a landed field on purpose).
PRIVATE_FIELDS = frozenset({"Description", "Body", "Comments", "NextStep"})
