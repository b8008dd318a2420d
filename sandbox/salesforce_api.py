"""The simulated Salesforce REST API: SOQL queries and describes of Account and Opportunity.

Transport-free; :mod:`sandbox.server` routes paths under ``/services/data/``
here. Served, per Salesforce's REST API developer guide:

* ``GET /services/data/vNN.N/query?q=<SOQL>`` and ``.../queryAll?q=<SOQL>``
  (``queryAll`` also returns deleted records, ``IsDeleted = true``) →
  ``{"totalSize", "done", "records": [{"attributes": {"type", "url"}, ...}]}``
  with ``nextRecordsUrl`` (``/services/data/vNN.N/query/<locator>-<offset>``,
  relative to the instance URL, ``query`` even for queryAll) while ``done`` is
  false. Batches of up to 2,000 records (``Sforce-Query-Options:
  batchSize=N`` asks for fewer, 200..2000); the locator is a snapshot.
* A SOQL subset, parsed properly: ``SELECT f1, f2 FROM Account|Opportunity
  [WHERE cond AND cond ...] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...]
  [LIMIT n]`` where ``cond`` is ``field op literal`` (``= != <> < <= > >=``),
  literals typed by field (datetime ``2024-03-04T00:00:00Z``, date
  ``2024-03-04``, ``TRUE``/``FALSE``, numbers, ``'strings'``, ``NULL``).
  Syntax errors → 400 ``MALFORMED_QUERY``; unknown fields → 400
  ``INVALID_FIELD``; unknown objects → 400 ``INVALID_TYPE``.
* ``GET /services/data/vNN.N/sobjects/{Account|Opportunity}/describe`` (also with
  a trailing slash) → the sObject Describe: ``{"name", "label", "labelPlural",
  "keyPrefix", "custom", ..., "fields": [{"name", "label", "type", "soapType",
  "length", "precision", "scale", "custom", "nillable", "referenceTo",
  "picklistValues", ...}], "urls"}`` with Salesforce's field types (``id``,
  ``reference``, ``string``, ``url``, ``picklist``, ``currency``, ``double``,
  ``date``, ``datetime``, ``boolean``); another object → 404 ``NOT_FOUND``.
  ``custom_fields=False`` is an org without the custom field
  ``Opportunity.Contract_Term_Months__c``: describe omits it, SOQL naming it →
  400 ``INVALID_FIELD``.
* Auth ``Authorization: Bearer <token>``; otherwise 401
  ``[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]``.
* The org's rolling 24-hour API request limit: every answer carries
  ``Sforce-Limit-Info: api-usage=N/LIMIT``; over it → 403
  ``REQUEST_LIMIT_EXCEEDED``. Injected 503s get Salesforce's error list body.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sandbox.crm_common import (
    CrmRequest,
    VendorResponse,
    bearer_token,
    company_updated,
    deal_updated,
    utc,
)
from sandbox.limits import SlidingWindowLimiter
from sandbox.world import CrmCompany, Deal, World

DEFAULT_SALESFORCE_TOKEN = "00DSB0000000001!AQ4AQSandboxSessionToken.f3b1c9"  # noqa: S105 - fake
MAX_BATCH = 2000
MIN_BATCH = 200
#: Key prefixes of the standard objects.
KEY_PREFIXES = {"Account": "001", "Opportunity": "006"}
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

@dataclass(frozen=True, slots=True)
class FieldDescribe:
    """One field as the sObject Describe resource lists it (the properties the sandbox sets)."""

    type: str  # Salesforce's field type: id, reference, string, url, picklist, currency, ...
    label: str
    length: int = 0  # text types only
    precision: int = 0  # numbers only
    scale: int = 0
    nillable: bool = True
    system: bool = False  # set by Salesforce: neither createable nor updateable
    reference_to: str | None = None
    picklist: tuple[str, ...] = ()


#: Account's standard Industry values and Opportunity's default sales-process stages.
INDUSTRIES = ("Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals",
              "Communications", "Construction", "Consulting", "Education", "Electronics",
              "Energy", "Engineering", "Entertainment", "Environmental", "Finance",
              "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance",
              "Machinery", "Manufacturing", "Media", "Not For Profit", "Other", "Recreation",
              "Retail", "Shipping", "Technology", "Telecommunications", "Transportation",
              "Utilities")
STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
          "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
          "Negotiation/Review", "Closed Won", "Closed Lost")
_AUDIT = {"CreatedDate": FieldDescribe("datetime", "Created Date", nillable=False, system=True),
          "LastModifiedDate": FieldDescribe("datetime", "Last Modified Date", nillable=False,
                                            system=True),
          "SystemModstamp": FieldDescribe("datetime", "System Modstamp", nillable=False,
                                          system=True),
          "IsDeleted": FieldDescribe("boolean", "Deleted", nillable=False, system=True)}
#: The fields of each object, named and typed as Salesforce's Object Reference and Field
#: Reference Guide give them (canonical casing is what records use). ``__c`` fields are
#: the org's custom fields.
DESCRIBE: dict[str, dict[str, FieldDescribe]] = {
    "Account": {"Id": FieldDescribe("id", "Account ID", 18, nillable=False, system=True),
                "Name": FieldDescribe("string", "Account Name", 255, nillable=False),
                "Website": FieldDescribe("url", "Website", 255),
                "Industry": FieldDescribe("picklist", "Industry", 255, picklist=INDUSTRIES),
                **_AUDIT},
    "Opportunity": {"Id": FieldDescribe("id", "Opportunity ID", 18, nillable=False, system=True),
                    "AccountId": FieldDescribe("reference", "Account ID", 18,
                                               reference_to="Account"),
                    "Name": FieldDescribe("string", "Name", 120, nillable=False),
                    "Amount": FieldDescribe("currency", "Amount", precision=18, scale=2),
                    "CloseDate": FieldDescribe("date", "Close Date", nillable=False),
                    "StageName": FieldDescribe("picklist", "Stage", 255, nillable=False,
                                               picklist=STAGES),
                    "IsWon": FieldDescribe("boolean", "Won", nillable=False, system=True),
                    "IsClosed": FieldDescribe("boolean", "Closed", nillable=False, system=True),
                    "Contract_Term_Months__c": FieldDescribe("double", "Contract Term (Months)",
                                                             precision=18),
                    **_AUDIT},
}
LABELS = {"Account": ("Account", "Accounts"), "Opportunity": ("Opportunity", "Opportunities")}
_SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "string": "xsd:string",
               "url": "xsd:string", "picklist": "xsd:string", "currency": "xsd:double",
               "double": "xsd:double", "date": "xsd:date", "datetime": "xsd:dateTime",
               "boolean": "xsd:boolean"}
#: How a SOQL literal is typed, by field type (any other type takes a quoted string).
_LITERAL_KINDS = {"currency": "number", "double": "number", "date": "date",
                  "datetime": "datetime", "boolean": "boolean"}


def org_fields(custom_fields: bool = True) -> dict[str, dict[str, FieldDescribe]]:
    """The fields an org has, per object: all of :data:`DESCRIBE`, or without the custom
    (``__c``) ones, as in an org that never added them."""
    return {obj: {name: spec for name, spec in fields.items()
                  if custom_fields or not name.endswith("__c")}
            for obj, fields in DESCRIBE.items()}


def literal_kinds(fields: dict[str, dict[str, FieldDescribe]]) -> dict[str, dict[str, str]]:
    """Field name → how SOQL types its literals (``string``, ``number``, ``date``, ...)."""
    return {obj: {name: _LITERAL_KINDS.get(spec.type, "string") for name, spec in specs.items()}
            for obj, specs in fields.items()}


#: Field name → literal kind, per object, in the default org (every field).
FIELDS: dict[str, dict[str, str]] = literal_kinds(DESCRIBE)


def describe_field(name: str, spec: FieldDescribe) -> dict[str, Any]:
    """A field as the Describe resource lists it (a subset of Salesforce's properties)."""
    text = spec.type in ("id", "reference", "string", "url", "picklist")
    return {"name": name, "label": spec.label, "type": spec.type,
            "soapType": _SOAP_TYPES[spec.type], "length": spec.length,
            "byteLength": spec.length * (1 if spec.type in ("id", "reference") else 3)
            if text else 0,
            "digits": 0, "precision": spec.precision, "scale": spec.scale,
            "custom": name.endswith("__c"), "nillable": spec.nillable, "calculated": False,
            "createable": not spec.system, "updateable": not spec.system,
            "defaultedOnCreate": spec.system, "filterable": True, "sortable": True,
            "nameField": name == "Name", "idLookup": spec.type == "id", "externalId": False,
            "unique": False, "referenceTo": [spec.reference_to] if spec.reference_to else [],
            "relationshipName": spec.reference_to,
            "picklistValues": [{"active": True, "defaultValue": False, "label": value,
                                "validFor": None, "value": value} for value in spec.picklist]}


def describe_sobject(object_name: str, fields: dict[str, FieldDescribe],
                     version: str) -> dict[str, Any]:
    """The sObject Describe answer: the object's metadata and its fields."""
    base = f"/services/data/v{version}/sobjects/{object_name}"
    label, plural = LABELS[object_name]
    return {"name": object_name, "label": label, "labelPlural": plural,
            "keyPrefix": KEY_PREFIXES[object_name], "custom": False, "customSetting": False,
            "createable": True, "deletable": True, "updateable": True, "queryable": True,
            "retrieveable": True, "searchable": True, "replicateable": True,
            "undeletable": True, "triggerable": True, "layoutable": True,
            "fields": [describe_field(name, spec) for name, spec in fields.items()],
            "childRelationships": [], "recordTypeInfos": [],
            "urls": {"sobject": base, "describe": f"{base}/describe",
                     "rowTemplate": f"{base}/{{ID}}"}}


#: HubSpot internal stage id → Salesforce StageName.
STAGE_NAMES = {"appointmentscheduled": "Prospecting", "qualifiedtobuy": "Qualification",
               "presentationscheduled": "Needs Analysis",
               "decisionmakerboughtin": "Id. Decision Makers",
               "contractsent": "Negotiation/Review", "closedwon": "Closed Won",
               "closedlost": "Closed Lost"}


def salesforce_id(object_name: str, world_id: int) -> str:
    """Deterministic 18-character Id (key prefix, padding, base-62 world id, checksum)."""
    digits = ""
    n = world_id
    while True:
        n, r = divmod(n, 62)
        digits = _B62[r] + digits
        if n == 0:
            break
    id15 = KEY_PREFIXES[object_name] + "5g00" + digits.rjust(8, "0")
    if len(id15) != 15:
        raise ValueError(f"id {world_id} too large for a Salesforce Id")
    suffix = ""
    for k in range(3):
        chunk = id15[5 * k:5 * k + 5]
        bits = sum(1 << j for j, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _CHECKSUM[bits]
    return id15 + suffix


def sf_datetime(moment: datetime) -> str:
    """Salesforce's JSON datetime: ``2024-03-04T14:00:00.000+0000``."""
    moment = utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def website(domain: str | None) -> str | None:
    """An Account ``Website`` for a domain (``www.acme.example``)."""
    return None if not domain else f"www.{domain}"


def account_fields(company: CrmCompany) -> dict[str, Any]:
    """Typed field values of an Account."""
    updated = company_updated(company)
    return {"Id": salesforce_id("Account", company.id), "Name": company.name,
            "Website": website(company.domain), "Industry": company.industry,
            "CreatedDate": utc(company.created_at), "LastModifiedDate": utc(updated),
            "SystemModstamp": utc(updated), "IsDeleted": company.archived}


def opportunity_fields(deal: Deal) -> dict[str, Any]:
    """Typed field values of an Opportunity."""
    updated = deal_updated(deal)
    return {"Id": salesforce_id("Opportunity", deal.id),
            "AccountId": None if deal.company_id is None
            else salesforce_id("Account", deal.company_id),
            "Name": deal.name, "Amount": None if deal.amount is None else float(deal.amount),
            "CloseDate": deal.close_date, "StageName": STAGE_NAMES.get(deal.stage, "Prospecting"),
            "IsWon": deal.stage == "closedwon",
            "IsClosed": deal.stage in ("closedwon", "closedlost"),
            "Contract_Term_Months__c": None if deal.term_months is None
            else float(deal.term_months),
            "CreatedDate": utc(deal.created_at), "LastModifiedDate": utc(updated),
            "SystemModstamp": utc(updated), "IsDeleted": deal.archived}


def errors(code: str, message: str) -> list[dict[str, str]]:
    """Salesforce's error list body."""
    return [{"message": message, "errorCode": code}]


class SoqlError(Exception):
    """A query Salesforce would refuse (400 with an error code)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.body = errors(code, message)


# -- SOQL ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:
    (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[,()])
  | (?P<word>[A-Za-z0-9_.:+\-]+)
)""", re.VERBOSE)
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:?\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "ORDER", "BY", "ASC", "DESC",
            "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "GROUP", "HAVING", "IN", "LIKE",
            "INCLUDES", "EXCLUDES", "USING", "WITH", "FOR", "TYPEOF"}


@dataclass(frozen=True, slots=True)
class Condition:
    """``field op value`` (value already typed)."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class SoqlQuery:
    """A parsed query of the supported subset."""

    fields: tuple[str, ...]
    object_name: str
    where: tuple[Condition, ...] = ()
    order_by: tuple[tuple[str, bool, bool], ...] = ()  # (field, descending, nulls_last)
    limit: int | None = None


def tokenize(soql: str) -> list[tuple[str, str]]:
    """``(kind, text)`` tokens; anything unrecognised is a ``MALFORMED_QUERY``."""
    tokens: list[tuple[str, str]] = []
    pos, text = 0, soql.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[pos:pos + 20]}'")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _Parser:
    def __init__(self, soql: str, fields: dict[str, dict[str, str]]) -> None:
        self.soql = soql
        self.fields = fields
        self.tokens = tokenize(soql)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].upper() in words:
            self.pos += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            found = self.peek()
            raise SoqlError("MALFORMED_QUERY", f"expecting '{word}', found "
                            f"'{found[1] if found else '<EOF>'}'")

    def next(self, what: str) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected end of query, expecting {what}")
        self.pos += 1
        return token

    def identifier(self) -> str:
        kind, text = self.next("a field name")
        if kind != "word" or text.upper() in KEYWORDS or not re.fullmatch(r"[A-Za-z]\w*", text):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text}'")
        return text

    def parse(self) -> SoqlQuery:
        self.expect_keyword("SELECT")
        raw_fields = [self.identifier()]
        while self.peek() == ("punct", ","):
            self.pos += 1
            raw_fields.append(self.identifier())
        self.expect_keyword("FROM")
        object_raw = self.identifier()
        object_name = next((o for o in self.fields if o.lower() == object_raw.lower()), None)
        if object_name is None:
            raise SoqlError("INVALID_TYPE", f"sObject type '{object_raw}' is not supported. "
                            "(The sandbox serves Account and Opportunity.)")
        fields = tuple(self.field(object_name, f) for f in raw_fields)
        where: list[Condition] = []
        if self.keyword("WHERE"):
            where.append(self.condition(object_name))
            while self.keyword("AND"):
                where.append(self.condition(object_name))
            if (token := self.peek()) and token[1].upper() == "OR":
                raise SoqlError("MALFORMED_QUERY", "OR is not supported by the sandbox's SOQL "
                                "subset (use AND)")
        order: list[tuple[str, bool, bool]] = []
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            while True:
                name = self.field(object_name, self.identifier())
                descending = self.keyword("DESC")
                if not descending:
                    self.keyword("ASC")
                nulls_last = descending
                if self.keyword("NULLS"):
                    if self.keyword("LAST"):
                        nulls_last = True
                    else:
                        self.expect_keyword("FIRST")
                        nulls_last = False
                order.append((name, descending, nulls_last))
                if self.peek() != ("punct", ","):
                    break
                self.pos += 1
        limit = None
        if self.keyword("LIMIT"):
            kind, text = self.next("a number")
            if kind != "word" or not text.isdigit():
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text}'")
            limit = int(text)
        if (token := self.peek()) is not None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token[1]}'")
        return SoqlQuery(fields, object_name, tuple(where), tuple(order), limit)

    def field(self, object_name: str, raw: str) -> str:
        name = next((f for f in self.fields[object_name] if f.lower() == raw.lower()), None)
        if name is None:
            raise SoqlError("INVALID_FIELD", f"No such column '{raw}' on entity "
                            f"'{object_name}'. If you are attempting to use a custom field, be "
                            "sure to append the '__c' after the custom field name. Please "
                            "reference your WSDL or the describe call for the appropriate "
                            "names.")
        return name

    def condition(self, object_name: str) -> Condition:
        if self.keyword("NOT"):
            raise SoqlError("MALFORMED_QUERY", "NOT is not supported by the sandbox's SOQL subset")
        name = self.field(object_name, self.identifier())
        kind, op = self.next("an operator")
        if kind != "op":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{op}' (expecting an "
                            "operator: = != <> < <= > >=)")
        kind, text = self.next("a value")
        value = literal(self.fields[object_name][name], name, kind, text)
        op = "!=" if op == "<>" else op
        if value is None and op not in ("=", "!="):
            raise SoqlError("MALFORMED_QUERY", f"NULL can only be compared with = or != ({name})")
        return Condition(name, op, value)


def parse_soql(soql: str, fields: dict[str, dict[str, str]] | None = None) -> SoqlQuery:
    """Parse the supported SOQL subset over ``fields`` (object → field → literal kind;
    default :data:`FIELDS`); raises :class:`SoqlError`."""
    if not soql or not soql.strip():
        raise SoqlError("MALFORMED_QUERY", "A query is required (q)")
    return _Parser(soql, FIELDS if fields is None else fields).parse()


def parse_datetime_literal(text: str) -> datetime | None:
    """A SOQL datetime literal (``2024-03-04T10:00:00Z``, ``...:00.000+0000``,
    ``...:00+01:00``), or ``None``."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        return None
    y, mo, d, h, mi, s, frac, zone = match.groups()
    tz = UTC
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    micro = int((frac or "0").ljust(3, "0")) * 1000
    try:
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=tz)
    except ValueError:
        return None


def literal(field_type: str, name: str, kind: str, text: str) -> Any:
    """Type a literal for a field, as Salesforce does (quotes only for text)."""
    if kind == "word" and text.upper() == "NULL":
        return None
    if field_type == "datetime":
        if kind == "string":
            raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{name}' "
                            "must be of type dateTime and should not be enclosed in quotes")
        moment = parse_datetime_literal(text) if kind == "word" else None
        if moment is None:
            raise SoqlError("MALFORMED_QUERY", f"line 1: invalid dateTime literal '{text}' for "
                            f"field '{name}' (expected e.g. 2024-03-04T00:00:00Z)")
        return moment.astimezone(UTC)
    if field_type == "date":
        if kind == "string":
            raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{name}' "
                            "must be of type date and should not be enclosed in quotes")
        if kind != "word" or not _DATE.fullmatch(text):
            raise SoqlError("MALFORMED_QUERY", f"invalid date literal '{text}' for '{name}'")
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise SoqlError("MALFORMED_QUERY", f"invalid date literal '{text}'") from None
    if field_type == "boolean":
        if kind != "word" or text.upper() not in ("TRUE", "FALSE"):
            raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{name}' "
                            "must be of type boolean and should not be enclosed in quotes")
        return text.upper() == "TRUE"
    if field_type == "number":
        if kind != "word" or not _NUMBER.fullmatch(text):
            raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{name}' "
                            "must be of type double and should not be enclosed in quotes")
        return float(text)
    if kind != "string":
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text}' (text values are "
                        "quoted: 'value')")
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _compare(actual: Any, op: str, value: Any) -> bool:
    if value is None:
        return (actual is None) == (op == "=")
    if actual is None:
        return op == "!="
    if isinstance(actual, str) and isinstance(value, str):
        actual, value = actual.lower(), value.lower()
    return {"=": actual == value, "!=": actual != value, "<": actual < value,
            "<=": actual <= value, ">": actual > value, ">=": actual >= value}[op]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return sf_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(slots=True)
class _Cursor:
    records: list[dict[str, Any]]
    batch: int
    version: str


class SalesforceApi:
    """The Salesforce REST query and describe endpoints the sandbox serves, with its auth and
    limits. ``custom_fields=False`` serves an org without the custom fields (most real orgs
    never add ``Contract_Term_Months__c``): describe leaves them out and SOQL naming one is
    400 ``INVALID_FIELD``."""

    prefixes = ("/services/data/",)

    def __init__(self, world: World, token: str = DEFAULT_SALESFORCE_TOKEN,
                 daily_request_limit: int | None = 100_000, batch_size: int = MAX_BATCH,
                 clock: Callable[[], float] = time.monotonic, custom_fields: bool = True) -> None:
        self.world = world
        self.token = token
        self.describe_fields = org_fields(custom_fields)
        self.fields = literal_kinds(self.describe_fields)
        self.daily = SlidingWindowLimiter(daily_request_limit, window=86_400.0, clock=clock)
        self.batch_size = max(1, min(MAX_BATCH, batch_size))
        self.rows: dict[str, list[tuple[int, dict[str, Any]]]] = {
            "Account": [(c.id, account_fields(c))
                        for c in sorted(world.crm_companies, key=lambda c: c.id)],
            "Opportunity": [(d.id, opportunity_fields(d))
                            for d in sorted(world.deals, key=lambda d: d.id)],
        }
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.fault_bodies: dict[int, Any] = {
            401: errors("INVALID_SESSION_ID", "Session expired or invalid"),
            404: errors("NOT_FOUND", "The requested resource does not exist"),
            500: errors("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include "
                        "this ErrorId if you contact support: 1234567890-12345 (-123456789)"),
            502: errors("SERVER_UNAVAILABLE", "Bad gateway"),
            503: errors("SERVER_UNAVAILABLE", "Server unavailable: the server is down for "
                        "maintenance or overloaded; retry later"),
            504: errors("SERVER_UNAVAILABLE", "Gateway timeout"),
            403: errors("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        }

    # -- auth and limits ----------------------------------------------------------------------

    def authenticate(self, header: str | None) -> bool:
        """Whether the header is ``Bearer <the session token>``."""
        return bearer_token(header) == self.token

    def unauthorized(self) -> VendorResponse:
        """Salesforce's 401 answer."""
        return VendorResponse(401, errors("INVALID_SESSION_ID", "Session expired or invalid"))

    def reset_rate_limits(self) -> None:
        """Forget counted requests."""
        self.daily.reset()

    def rate_limit(self, request: CrmRequest) -> tuple[VendorResponse | None, dict[str, str]]:
        """Count a request against the rolling 24-hour limit (403 when over it)."""
        ok, remaining, _ = self.daily.acquire()
        limit = self.daily.limit
        if limit is None:
            return None, {}
        headers = {"Sforce-Limit-Info": f"api-usage={limit - remaining if ok else limit}/{limit}"}
        if not ok:
            return VendorResponse(403, errors("REQUEST_LIMIT_EXCEEDED",
                                              "TotalRequests Limit exceeded."), headers), headers
        return None, headers

    # -- routing ------------------------------------------------------------------------------

    _QUERY = re.compile(r"/services/data/v(\d+\.\d+)/(query|queryAll)")
    _MORE = re.compile(r"/services/data/v(\d+\.\d+)/(?:query|queryAll)/([A-Za-z0-9]+)-(\d+)")
    _DESCRIBE = re.compile(r"/services/data/v(\d+\.\d+)/sobjects/([^/]+)/describe")

    def handle(self, request: CrmRequest) -> VendorResponse:
        """Answer one request under ``/services/data/``."""
        path = request.path.rstrip("/")
        try:
            if (match := self._QUERY.fullmatch(path)) is not None:
                self._only_get(request)
                q = (request.query.get("q") or [""])[-1]
                return self.query(match.group(1), q, match.group(2) == "queryAll",
                                  self._batch(request.headers))
            if (match := self._MORE.fullmatch(path)) is not None:
                self._only_get(request)
                return self.more(match.group(2), int(match.group(3)))
            if (match := self._DESCRIBE.fullmatch(path)) is not None:
                self._only_get(request)
                return self.describe(match.group(1), match.group(2))
        except SoqlError as exc:
            return VendorResponse(exc.status, exc.body)
        return VendorResponse(404, errors("NOT_FOUND", "The requested resource does not exist"))

    @staticmethod
    def _only_get(request: CrmRequest) -> None:
        if request.method != "GET":
            raise SoqlError("METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. "
                            "Allowed are GET,HEAD", status=405)

    def _batch(self, headers: dict[str, str]) -> int:
        options = next((v for k, v in headers.items() if k.lower() == "sforce-query-options"), "")
        match = re.search(r"batchSize\s*=\s*(\d+)", options, re.IGNORECASE)
        if match is None:
            return self.batch_size
        return min(self.batch_size, max(MIN_BATCH, min(MAX_BATCH, int(match.group(1)))))

    # -- describe and queries -----------------------------------------------------------------

    def describe(self, version: str, object_raw: str) -> VendorResponse:
        """The sObject Describe of Account or Opportunity (names case-insensitive); any
        other object is 404 ``NOT_FOUND``, as Salesforce answers for one it does not have."""
        name = next((o for o in self.describe_fields if o.lower() == object_raw.lower()), None)
        if name is None:
            raise SoqlError("NOT_FOUND", "The requested resource does not exist", status=404)
        return VendorResponse(200, describe_sobject(name, self.describe_fields[name], version))

    def query(self, version: str, soql: str, include_deleted: bool, batch: int) -> VendorResponse:
        """Run a query; the first batch, plus a locator when there are more."""
        parsed = parse_soql(soql, self.fields)
        rows = [fields for _, fields in self.rows[parsed.object_name]
                if (include_deleted or not fields["IsDeleted"])
                and all(_compare(fields[c.field], c.op, c.value) for c in parsed.where)]
        for name, descending, nulls_last in reversed(parsed.order_by):
            present = sorted((r for r in rows if r[name] is not None), key=lambda r: r[name],
                             reverse=descending)
            missing = [r for r in rows if r[name] is None]
            rows = present + missing if nulls_last else missing + present
        if parsed.limit is not None:
            rows = rows[:parsed.limit]
        records = [self._record(parsed, row, version) for row in rows]
        locator = None
        if len(records) > batch:
            locator = f"01g{'SB'}{next(self._counter):013d}"
            with self._lock:
                self._cursors[locator] = _Cursor(records, batch, version)
                while len(self._cursors) > 500:
                    self._cursors.popitem(last=False)
        return VendorResponse(200, self._page(records, 0, batch, locator, version))

    def more(self, locator: str, offset: int) -> VendorResponse:
        """The next batch of a query (``nextRecordsUrl``)."""
        with self._lock:
            cursor = self._cursors.get(locator)
        if cursor is None or offset > len(cursor.records):
            raise SoqlError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return VendorResponse(200, self._page(cursor.records, offset, cursor.batch, locator,
                                              cursor.version))

    @staticmethod
    def _page(records: list[dict[str, Any]], offset: int, batch: int, locator: str | None,
              version: str) -> dict[str, Any]:
        stop = min(len(records), offset + batch)
        body: dict[str, Any] = {"totalSize": len(records), "done": stop >= len(records)}
        if stop < len(records):
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{stop}"
        body["records"] = records[offset:stop]
        return body

    @staticmethod
    def _record(parsed: SoqlQuery, row: dict[str, Any], version: str) -> dict[str, Any]:
        obj = parsed.object_name
        record: dict[str, Any] = {"attributes": {
            "type": obj, "url": f"/services/data/v{version}/sobjects/{obj}/{row['Id']}"}}
        for name in parsed.fields:
            record[name] = _json_value(row[name])
        return record
