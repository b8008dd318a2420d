"""Rate limiting and fault injection for the sandbox server.

Rate limits are sliding windows, as the vendors describe them (Zendesk: an
account-wide limit of 700 requests/minute and the incremental-export limit of
10/minute; the CRM APIs configure their own windows). A rejected request gets
429 with ``Retry-After`` (seconds).

Faults are queued per path prefix: the next ``times`` matching requests get the
fault. The kinds (``Fault.kind``) are the agreed fault interface between the
sandbox and the connectors (see docs/sandbox.md, "Faults"):

* ``status``: an HTTP error status with the vendor's own error body;
* ``reset``: the connection is dropped with a TCP RST, not a byte sent;
* ``timeout``: nothing is sent for ``delay`` seconds, then the connection closes;
* ``truncated``: the real answer, full ``Content-Length``, half the body;
* ``repeat_page``: the real answer with the previous page's records prepended;
* ``expired_cursor``: the vendor's stale-cursor error, only on cursor requests;
* ``bad_record``: the real answer with one record altered (``mode``).

This module holds what is vendor-neutral: the fault itself, its validation and
command-line spelling, the queue, and the record surgery. :mod:`sandbox.server`
knows the vendors (their record lists, error bodies and cursors).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

WINDOW_SECONDS = 60.0

DEFAULT_FAULT_BODIES = {
    401: {"error": "Couldn't authenticate you"},
    403: {"error": "Forbidden", "description": "You do not have access to this page. Please "
          "contact the account owner of this help desk for further help."},
    404: {"error": "InvalidEndpoint", "description": "Not found"},
    429: {"error": "APIRateLimitExceeded",
          "description": "Number of allowed API requests per minute exceeded"},
    500: {"error": "InternalServerError", "description": "Something went wrong"},
    502: {"error": "BadGateway", "description": "Bad gateway"},
    503: {"error": "ServiceUnavailable",
          "description": "The service is temporarily unavailable, please retry"},
    504: {"error": "GatewayTimeout", "description": "Gateway timeout"},
}

#: Every fault kind, in the order the docs describe them.
FAULT_KINDS = ("status", "reset", "timeout", "truncated", "repeat_page", "expired_cursor",
               "bad_record")
#: Kinds answered without asking the vendor API (the others alter its real answer).
IMMEDIATE_KINDS = frozenset({"status", "reset", "timeout", "expired_cursor"})
#: What ``bad_record`` can do to a record.
BAD_RECORD_MODES = ("missing_id", "bad_timestamp", "wrong_type", "new_field")
#: The value ``bad_timestamp`` writes.
BAD_TIMESTAMP = "not-a-timestamp"
#: Default ``timeout`` delay (seconds): longer than a short test timeout, shorter than a run.
DEFAULT_TIMEOUT_DELAY = 5.0
#: Default name and value of the field ``new_field`` adds.
NEW_FIELD_NAME = "x_new_field"
NEW_FIELD_VALUE = 42


class SlidingWindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds (``None`` disables it)."""

    def __init__(self, limit: int | None, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: deque[float] = deque()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._hits and self._hits[0] <= now - self.window:
            self._hits.popleft()

    def acquire(self) -> tuple[bool, int, int]:
        """Try to take a slot: ``(allowed, remaining, seconds_until_a_slot_frees)``."""
        if self.limit is None:
            return True, 0, 0
        with self._lock:
            now = self.clock()
            self._expire(now)
            if len(self._hits) >= self.limit:
                return False, 0, self._seconds_until_a_slot_frees(now)
            self._hits.append(now)
            return True, self.limit - len(self._hits), self._seconds_until_a_slot_frees(now)

    def _seconds_until_a_slot_frees(self, now: float) -> int:
        # The window minus the oldest hit's age, not `oldest + window - now`: in floating
        # point that came out a hair above the window for a hit made just now, which
        # rounded up to a reset of 61 s in a 60-second window.
        return max(1, math.ceil(self.window - (now - self._hits[0])))

    def reset(self) -> None:
        """Forget all recorded requests."""
        with self._lock:
            self._hits.clear()


@dataclass
class Fault:
    """One queued fault: the next ``times`` requests under ``path_prefix`` get it.

    Which fields matter depends on ``kind``: ``status``, ``retry_after`` and ``body``
    (``status``); ``delay`` (``timeout``); ``mode``, ``field``, ``value`` and
    ``record_index`` (``bad_record``). ``field``/``value`` left ``None`` mean the
    vendor's default (see :class:`FaultProfile`).
    """

    path_prefix: str
    status: int | None = None
    times: int = 1
    retry_after: int | None = None
    body: str | None = None
    kind: str = "status"
    delay: float = DEFAULT_TIMEOUT_DELAY
    mode: str | None = None
    field: str | None = None
    value: Any = None
    record_index: int = 0

    def validate(self) -> Fault:
        """Raise ``ValueError`` with a clear message when the fault cannot be served."""
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of "
                             f"{', '.join(FAULT_KINDS)}")
        if not isinstance(self.path_prefix, str) or not self.path_prefix.startswith("/"):
            raise ValueError(f"path_prefix must be a path starting with '/', got "
                             f"{self.path_prefix!r}")
        if self.times < 1:
            raise ValueError("times must be >= 1")
        if self.kind == "status":
            if self.status is None:
                raise ValueError("a 'status' fault needs status (an HTTP status, e.g. 503)")
            if not 100 <= self.status <= 599:
                raise ValueError(f"invalid HTTP status {self.status}")
            if self.retry_after is not None and self.retry_after < 0:
                raise ValueError("retry_after must be >= 0 seconds")
        else:
            for name in ("status", "retry_after", "body"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name} applies only to 'status' faults, not "
                                     f"{self.kind!r}")
        if self.kind == "timeout" and not 0 < self.delay <= 3600:
            raise ValueError("delay must be > 0 and <= 3600 seconds")
        if self.kind == "bad_record":
            if self.mode not in BAD_RECORD_MODES:
                raise ValueError(f"a 'bad_record' fault needs mode, one of "
                                 f"{', '.join(BAD_RECORD_MODES)}; got {self.mode!r}")
            if self.record_index < 0:
                raise ValueError("record_index must be >= 0")
            if self.field is not None and (not self.field or self.field.startswith(".")
                                           or self.field.endswith(".")):
                raise ValueError(f"invalid field {self.field!r}")
        elif self.mode is not None or self.field is not None or self.value is not None:
            raise ValueError(f"mode, field and value apply only to 'bad_record' faults, not "
                             f"{self.kind!r}")
        return self

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Fault:
        """A validated fault from JSON-like fields (the control endpoint, the CLI)."""
        if not isinstance(spec, Mapping):
            raise ValueError("a fault is a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s) {', '.join(unknown)}; expected "
                             f"{', '.join(sorted(known))}")
        if "path_prefix" not in spec:
            raise ValueError("path_prefix is required")
        values: dict[str, Any] = {"path_prefix": str(spec["path_prefix"])}
        for name, convert in (("status", int), ("times", int), ("retry_after", int),
                              ("delay", float), ("record_index", int)):
            raw = spec.get(name)
            if raw is None:
                continue
            if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                raise ValueError(f"{name} must be a number, got {raw!r}")
            try:
                values[name] = convert(raw)
            except ValueError:
                raise ValueError(f"{name} must be a number, got {raw!r}") from None
        for name in ("kind", "mode", "field", "body"):
            if spec.get(name) is not None:
                values[name] = str(spec[name])
        if "value" in spec:
            values["value"] = spec["value"]
        return cls(**values).validate()

    def to_json(self) -> dict[str, object]:
        """JSON form (for the control endpoint)."""
        return asdict(self)

    def response_body(self, defaults: Mapping[int, Any] | None = None) -> bytes:
        """The body of a ``status`` fault: the given one, else the vendor's default for the
        status (``defaults``, from the CRM APIs), else a Zendesk-style JSON error."""
        status = self.status or 500
        if self.body is not None:
            return self.body.encode()
        if defaults and status in defaults:
            return json.dumps(defaults[status]).encode()
        default = DEFAULT_FAULT_BODIES.get(
            status, {"error": "Error", "description": f"HTTP {status}"})
        return json.dumps(default).encode()


_OPTION_SPLIT = re.compile(r",(?=\s*[A-Za-z_]+\s*=)")


def parse_fault_option(text: str) -> Fault:
    """A fault from its command-line spelling ``KIND:PATH_PREFIX[:key=value,...]``.

    Example: ``status:/api/v2/incremental/tickets:status=429,retry_after=1,times=2``.
    ``value`` is read as JSON when it parses (``value=42``, ``value={"a":1}``), else as
    text; commas inside a value are kept unless followed by ``name=``.
    """
    kind, sep, rest = text.partition(":")
    if not sep or not kind or not rest:
        raise ValueError(f"fault {text!r}: expected KIND:PATH_PREFIX[:key=value,...]")
    prefix, _, options = rest.partition(":")
    spec: dict[str, Any] = {"kind": kind.strip(), "path_prefix": prefix.strip()}
    for item in _OPTION_SPLIT.split(options) if options.strip() else []:
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ValueError(f"fault {text!r}: option {item!r} is not key=value")
        if key in spec:
            raise ValueError(f"fault {text!r}: {key} given twice")
        if key == "value":
            try:
                spec[key] = json.loads(raw)
            except ValueError:
                spec[key] = raw
        else:
            spec[key] = raw.strip()
    try:
        return Fault.from_spec(spec)
    except ValueError as exc:
        raise ValueError(f"fault {text!r}: {exc}") from None


class FaultRegistry:
    """Thread-safe queue of faults, matched by path prefix in insertion order."""

    KINDS = FAULT_KINDS

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Queue a fault (validated first: a bad one raises ``ValueError``)."""
        fault.validate()
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, path: str, carries_cursor: bool = False) -> Fault | None:
        """Consume one use of the first fault matching ``path``, if any.

        An ``expired_cursor`` fault only matches a request that carries a pagination
        cursor; other requests pass it by without using it up.
        """
        with self._lock:
            for fault in self._faults:
                if not path.startswith(fault.path_prefix):
                    continue
                if fault.kind == "expired_cursor" and not carries_cursor:
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def pending(self) -> list[Fault]:
        """Faults not yet used up."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Drop all queued faults."""
        with self._lock:
            self._faults.clear()


# -- what the faults do to an answer -----------------------------------------------------------


@dataclass(frozen=True)
class FaultProfile:
    """How one vendor's answers carry records, for the faults that alter them.

    ``record_keys``: keys of the record list in an answer body, first present wins.
    ``id_field``, ``timestamp_field``: what ``missing_id`` removes and ``bad_timestamp``
    spoils by default; ``wrong_type_fields``: candidates for ``wrong_type`` (the first
    the record has), set to ``wrong_type_value`` unless the fault gives a value.
    ``expired_cursor``: the vendor's (status, body) for a stale cursor on a path;
    ``carries_cursor``: whether a request (path, query, body) carries a pagination cursor.
    """

    vendor: str
    record_keys: tuple[str, ...]
    id_field: str
    timestamp_field: str
    wrong_type_fields: tuple[str, ...]
    wrong_type_value: Any
    expired_cursor: Callable[[str], tuple[int, Any]]
    carries_cursor: Callable[[str, Mapping[str, list[str]], bytes], bool]
    stream_key: Callable[[str, list[Any]], str] = field(
        default=lambda path, records: path)

    def record_list(self, body: Any) -> list[Any] | None:
        """The answer's record list (the list object itself), or ``None``."""
        if not isinstance(body, dict):
            return None
        for key in self.record_keys:
            if isinstance(body.get(key), list):
                return body[key]
        return None


def _dotted_get(record: Any, path: str) -> tuple[bool, Any]:
    node = record
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _dotted_set(record: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = record
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def alter_record(record: dict[str, Any], fault: Fault, profile: FaultProfile) -> str:
    """Apply a ``bad_record`` fault to one record in place; return what was done."""
    mode = fault.mode
    if mode == "missing_id":
        name = fault.field or profile.id_field
        record.pop(name, None)
        return f"removed {name}"
    if mode == "bad_timestamp":
        name = fault.field or profile.timestamp_field
        _dotted_set(record, name, BAD_TIMESTAMP if fault.value is None else fault.value)
        return f"{name}={BAD_TIMESTAMP}"
    if mode == "wrong_type":
        name = fault.field or next(
            (f for f in profile.wrong_type_fields if _dotted_get(record, f)[0]),
            profile.wrong_type_fields[-1])
        _dotted_set(record, name, profile.wrong_type_value if fault.value is None
                    else fault.value)
        return f"{name} has the wrong type"
    name = fault.field or NEW_FIELD_NAME
    record[name] = NEW_FIELD_VALUE if fault.value is None else fault.value
    return f"added {name}"
