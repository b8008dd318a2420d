"""Rate limiting and fault injection for the sandbox server.

Rate limits are sliding one-minute windows, as Zendesk describes them: an
account-wide limit (700 requests/minute by default) and the incremental-export
limit (10/minute). A rejected request gets 429 with ``Retry-After`` (seconds).

Faults are queued per path prefix: the next ``times`` matching requests get the
fault instead of an answer. A :class:`Fault` carries a ``kind`` so later fault
types (connection resets, timeouts, truncated bodies, bad records) can be added
without changing callers.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

WINDOW_SECONDS = 60.0

DEFAULT_FAULT_BODIES = {
    429: {"error": "APIRateLimitExceeded",
          "description": "Number of allowed API requests per minute exceeded"},
    500: {"error": "InternalServerError", "description": "Something went wrong"},
    502: {"error": "BadGateway", "description": "Bad gateway"},
    503: {"error": "ServiceUnavailable",
          "description": "The service is temporarily unavailable, please retry"},
    504: {"error": "GatewayTimeout", "description": "Gateway timeout"},
}


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
                wait = self._hits[0] + self.window - now
                return False, 0, max(1, math.ceil(wait))
            self._hits.append(now)
            reset = self._hits[0] + self.window - now
            return True, self.limit - len(self._hits), max(1, math.ceil(reset))

    def reset(self) -> None:
        """Forget all recorded requests."""
        with self._lock:
            self._hits.clear()


@dataclass
class Fault:
    """One queued fault: the next ``times`` requests under ``path_prefix`` get it."""

    path_prefix: str
    status: int
    times: int = 1
    retry_after: int | None = None
    body: str | None = None
    kind: str = "status"

    def response_body(self, defaults: dict[int, Any] | None = None) -> bytes:
        """The body to send: the given one, else the vendor's default for the status
        (``defaults``, from the CRM APIs), else a Zendesk-style JSON error."""
        if self.body is not None:
            return self.body.encode()
        if defaults and self.status in defaults:
            return json.dumps(defaults[self.status]).encode()
        default = DEFAULT_FAULT_BODIES.get(
            self.status, {"error": "Error", "description": f"HTTP {self.status}"})
        return json.dumps(default).encode()

    def to_json(self) -> dict[str, object]:
        """JSON form (for the control endpoint)."""
        return asdict(self)


class FaultRegistry:
    """Thread-safe queue of faults, matched by path prefix in insertion order."""

    KINDS = ("status",)

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Queue a fault."""
        if fault.kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        if not 100 <= fault.status <= 599:
            raise ValueError(f"invalid HTTP status {fault.status}")
        if fault.times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, path: str) -> Fault | None:
        """Consume one use of the first fault matching ``path``, if any."""
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
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
