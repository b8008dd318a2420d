"""HTTP plumbing shared by the connectors: base-URL rule, auth, retries, specific errors.

Every vendor connector talks to its API through an `ApiClient`: one `requests` session,
bounded retries with backoff for 429, 5xx, dropped connections and truncated bodies
(honouring `Retry-After`, or a vendor's rate-limit reset header), and errors that name the
source, the endpoint and the cause but never a secret (no Authorization header, no token, no
credentials in any message).
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests
from requests.auth import AuthBase

from connectors.memory import fewer_collections
from connectors.typed_rows import PARSE_ERRORS

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Statuses worth another try: timeouts, rate limiting and any server-side trouble (5xx).
RETRYABLE_STATUSES = frozenset({408, 429, *range(500, 600)})
#: How much of an error body goes into an exception message (after redaction).
ERROR_BODY_EXCERPT_CHARS = 300
REDACTED = "***"
#: Seconds to wait for a connection, and by default for each read of an answer (a source's
#: `timeout_seconds` / `HTTP_TIMEOUT_SECONDS` sets the latter; a read that times out is
#: retried like a dropped connection).
CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_READ_TIMEOUT_SECONDS = 120.0


class ApiError(RuntimeError):
    """A vendor API request failed; the message names source, endpoint and cause."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        endpoint: str,
        status: int | None = None,
        error_code: str | None = None,
    ):
        super().__init__(message)
        self.source = source
        self.endpoint = endpoint
        self.status = status
        #: The vendor's short error identifier from the error body, when it has one (Zendesk
        #: `error`, Salesforce `errorCode`, HubSpot `category`): lets a connector react to
        #: one kind of 4xx (an expired cursor) without parsing the message.
        self.error_code = error_code


class ApiAuthError(ApiError):
    """The API refused the credentials (HTTP 401) or their permissions (HTTP 403)."""


class ApiRetriesExhaustedError(ApiError):
    """Every allowed attempt hit a retryable failure (429, 5xx, connection, bad body)."""


class ApiResponseError(ApiError):
    """The API answered successfully but with a body the connector cannot use."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is retried.

    `max_attempts` counts the first try. Waits grow as `backoff_seconds * 2**n` up to
    `max_backoff_seconds`, with jitter; a `Retry-After` header replaces the computed wait
    (capped at `max_retry_after_seconds`, so a hostile header cannot stall a run for days).
    `rate_limit_wait_seconds`, if set, is the wait after a 429 that carries no `Retry-After`
    (an API whose limit is a fixed window, e.g. HubSpot's 10 seconds, says how long).
    """

    max_attempts: int = 6
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    max_retry_after_seconds: float = 600.0
    rate_limit_wait_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based) without a header."""
        wait = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))
        return wait * random.uniform(0.5, 1.0)


class BearerAuth(AuthBase):
    """`Authorization: Bearer <token>`; its repr never shows the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


class BasicAuth(requests.auth.HTTPBasicAuth):
    """HTTP Basic auth whose repr never shows the password."""

    def __repr__(self) -> str:
        return "BasicAuth(<redacted>)"


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_base_url(url: str, setting: str) -> str:
    """Return `url` without a trailing slash if it is an acceptable API base URL.

    It must be `https://`, or `http://` to a loopback host (local sandboxes and tests).
    Raises ValueError naming `setting` (e.g. `ZENDESK_BASE_URL`) otherwise.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{setting} must be an absolute https:// URL, got {url!r}")
    if parts.username or parts.password:
        raise ValueError(f"{setting} must not carry credentials in the URL")
    if parts.query or parts.fragment:
        raise ValueError(f"{setting} must not have a query string or fragment, got {url!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(
            f"{setting} must use https:// (plain http:// is allowed only for loopback hosts "
            f"such as 127.0.0.1, localhost or ::1), got {url!r}"
        )
    return url.strip().rstrip("/")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except PARSE_ERRORS:
        pass
    try:
        # A huge zone offset (`+99999999999999999999`) raises OverflowError: unparsable too.
        when = email.utils.parsedate_to_datetime(value)
    except PARSE_ERRORS:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_reset_time(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait until a rate-limit reset header's time (Unix seconds, e.g. Intercom's
    `X-RateLimit-Reset`), or None if the header is absent or not a number. A time already
    past waits 0 s."""
    if not value:
        return None
    try:
        reset = float(value.strip())
    except PARSE_ERRORS:
        return None
    if reset != reset or reset in (float("inf"), float("-inf")):  # NaN, infinities
        return None
    return max(0.0, reset - (time.time() if now is None else now))


@dataclass(frozen=True)
class RateLimitHeaders:
    """Where a vendor's answers say how much of its rate-limit window is left: `remaining`
    (requests left) and `reset` (when the window resets, Unix seconds), as Intercom's
    `X-RateLimit-Remaining` / `X-RateLimit-Reset`. The client then paces itself: once an
    answer says `reserve` or fewer requests are left, every request waits for the reset
    instead of being refused (`reserve` covers the requests already on their way from other
    threads), and a 429 without `Retry-After` is retried at the reset.

    A vendor that sends no reset header (`reset` None, e.g. Freshdesk's per-minute
    `X-RateLimit-Remaining` alone) gives `window_seconds` instead: once `reserve` or fewer
    requests are left, the client waits that long (at most one whole window)."""

    remaining: str
    reset: str | None = None
    reserve: int = 0
    window_seconds: float | None = None


class _Retryable(Exception):
    """Internal: one attempt failed in a way worth retrying."""

    def __init__(self, cause: str, retry_after: float | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after


class ApiClient:
    """A JSON-over-HTTPS client for one vendor API: session, auth, retries, safe errors.

    `secrets` are strings that must never appear in a message (tokens, encoded credentials);
    they are redacted from anything the client raises or logs. `credentials_hint` tells the
    operator which settings to check when the API refuses the credentials.
    `retryable_error`, if given, sees every error response (HTTP 4xx/5xx) first and returns a
    short cause when the vendor means "try again later" with a status that usually means
    something else (Salesforce's 403 `REQUEST_LIMIT_EXCEEDED`), else None.
    `rate_limit_headers`, if given, are the headers in which the vendor says how much of its
    rate-limit window is left (`RateLimitHeaders`): the client waits for the window's reset
    before it runs out, and a 429 without `Retry-After` is retried at the reset (capped like
    `Retry-After`) instead of after `rate_limit_wait_seconds` or a backoff. They are facts
    of the API, so they live here, not in the caller's `RetryPolicy`.
    """

    def __init__(
        self,
        *,
        source: str,
        base_url: str,
        auth: AuthBase | None,
        secrets: Iterable[str] = (),
        credentials_hint: str = "the credentials",
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, DEFAULT_READ_TIMEOUT_SECONDS),
        headers: Mapping[str, str] | None = None,
        retryable_error: Callable[[requests.Response], str | None] | None = None,
        rate_limit_headers: RateLimitHeaders | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.credentials_hint = credentials_hint
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self._sleep = sleep
        self._retryable_error = retryable_error
        self._rate_limit = rate_limit_headers
        #: Unix time before which no request is sent (the window ran out); shared by the
        #: threads that use this client.
        self._paused_until = 0.0
        self._pause_lock = threading.Lock()
        self._origin = _origin(self.base_url)
        self._session = requests.Session()
        self._session.auth = auth
        self._session.headers.update({"Accept": "application/json"})
        if headers:
            self._session.headers.update(headers)

    def __repr__(self) -> str:
        return f"ApiClient(source={self.source!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._session.close()

    def url_for(self, path_or_url: str) -> str:
        """Absolute URL for an API path, or for a `next` link the API returned.

        Links on another origin (e.g. the vendor's own host when `base_url` points at a
        proxy) are re-based onto `base_url`, so credentials only ever go to `base_url`.
        """
        if "://" not in path_or_url:
            return f"{self.base_url}/{path_or_url.lstrip('/')}"
        if _origin(path_or_url) == self._origin:
            return path_or_url
        parts = urlsplit(path_or_url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}{parts.path}{query}"

    def get_json(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a JSON document, retrying transient failures; raise an `ApiError` otherwise.

        `params` are merged over the query string of `path_or_url` (a `next` link keeps its
        cursor, and the caller's fixed parameters, like page size, are never lost).
        """
        return self._request_json("GET", path_or_url, params, None)[0]

    def get_json_with_headers(
        self, path_or_url: str, params: Mapping[str, Any] | None = None
    ) -> tuple[Any, Mapping[str, str]]:
        """`get_json`, with the answer's headers (case-insensitive): for APIs that page
        with a `Link` header (Freshdesk)."""
        return self._request_json("GET", path_or_url, params, None)

    def post_json(self, path: str, body: Any) -> Any:
        """POST a JSON body to a read endpoint (a batch read or a search) and return the JSON
        answer, retrying transient failures like `get_json`: only for requests that change
        nothing, so a retry is safe."""
        return self._request_json("POST", path, None, body)[0]

    def _request_json(self, method: str, path_or_url: str, params: Mapping[str, Any] | None,
                      body: Any) -> tuple[Any, Mapping[str, str]]:
        url = self.url_for(path_or_url)
        parts = urlsplit(url)
        endpoint = parts.path
        query: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
        query.update({k: v for k, v in (params or {}).items() if v is not None})
        bare_url = url.split("?", 1)[0]

        last_cause = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                return self._attempt(method, bare_url, query, endpoint, body)
            except _Retryable as failure:
                last_cause = failure.cause
                if attempt == self.retry.max_attempts:
                    break
                wait = failure.retry_after
                if wait is None:
                    wait = self.retry.backoff(attempt)
                wait = min(wait, self.retry.max_retry_after_seconds)
                logger.warning(
                    "%s: %s %s failed (%s); retrying in %.1f s (attempt %d of %d)",
                    self.source,
                    method,
                    endpoint,
                    failure.cause,
                    wait,
                    attempt + 1,
                    self.retry.max_attempts,
                )
                self._sleep(wait)
        raise ApiRetriesExhaustedError(
            self._redact(
                f"{self.source}: {method} {endpoint} failed after {self.retry.max_attempts} "
                f"attempts; last cause: {last_cause}. The API may be rate limiting or down: "
                "retry the run later, or raise the connector's retry settings."
            ),
            source=self.source,
            endpoint=endpoint,
        )

    def _pace(self, response: requests.Response) -> None:
        """Note when the vendor's window runs out (`RateLimitHeaders`)."""
        limits = self._rate_limit
        if limits is None:
            return
        try:
            remaining = int(response.headers.get(limits.remaining, ""))
        except ValueError:
            return
        wait = parse_reset_time(response.headers.get(limits.reset)) if limits.reset else None
        if wait is None:
            wait = limits.window_seconds
        if remaining <= limits.reserve and wait:
            until = time.time() + min(wait, self.retry.max_retry_after_seconds)
            with self._pause_lock:
                self._paused_until = max(self._paused_until, until)

    def _wait_for_window(self) -> None:
        """Sleep until the vendor's window resets, if an answer said it had run out."""
        if self._rate_limit is None:
            return
        with self._pause_lock:
            wait = self._paused_until - time.time()
        if wait > 0:
            self._sleep(wait)

    def _attempt(self, method: str, url: str, query: Mapping[str, Any], endpoint: str,
                 body: Any) -> tuple[Any, Mapping[str, str]]:
        self._wait_for_window()
        try:
            response = self._session.request(
                method, url, params=query, timeout=self.timeout,
                data=None if body is None else orjson.dumps(body),
                headers=None if body is None else {"Content-Type": "application/json"},
            )
        except requests.exceptions.RequestException as exc:
            # requests' message names only host and path; still, keep exception objects
            # (which hold the prepared request and its headers) out of what we raise.
            raise _Retryable(self._redact(f"{type(exc).__name__}: {exc}")) from None
        status = response.status_code
        reason = response.reason or ""
        self._pace(response)
        vendor_cause = None
        if status >= 400 and self._retryable_error is not None:
            vendor_cause = self._retryable_error(response)
        if status in RETRYABLE_STATUSES or vendor_cause:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is None and status == 429 and self._rate_limit \
                    and self._rate_limit.reset:
                retry_after = parse_reset_time(response.headers.get(self._rate_limit.reset))
            if retry_after is None and status == 429:
                retry_after = self.retry.rate_limit_wait_seconds
            response.close()
            cause = f"HTTP {status} {reason}".strip()
            raise _Retryable(f"{cause} ({vendor_cause})" if vendor_cause else cause, retry_after)
        if status >= 400:
            detail = self._excerpt(response)
            code = error_code(response)
        if status in (401, 403):
            raise ApiAuthError(
                self._redact(
                    f"{self.source}: {method} {endpoint} was refused with HTTP {status} "
                    f"{reason}: "
                    f"check {self.credentials_hint}. Response: {detail}"
                ),
                source=self.source,
                endpoint=endpoint,
                status=status,
                error_code=self._redact(code) if code else None,
            )
        if status >= 400:
            raise ApiError(
                self._redact(
                    f"{self.source}: {method} {endpoint} failed with HTTP {status} {reason}. "
                    f"Response: {detail}"
                ),
                source=self.source,
                endpoint=endpoint,
                status=status,
                error_code=self._redact(code) if code else None,
            )
        try:
            content = response.content
        except requests.exceptions.RequestException as exc:
            raise _Retryable(self._redact(f"body not received: {type(exc).__name__}")) from None
        try:
            return orjson.loads(content), response.headers
        except orjson.JSONDecodeError:
            # A truncated or garbled body: the next attempt usually gets a whole one.
            raise _Retryable(f"HTTP {status} with a body that is not valid JSON") from None

    def _excerpt(self, response: requests.Response) -> str:
        try:
            text = response.text
        except requests.exceptions.RequestException:
            return "(no body)"
        text = " ".join(text.split())
        if len(text) > ERROR_BODY_EXCERPT_CHARS:
            text = text[:ERROR_BODY_EXCERPT_CHARS] + "..."
        return text or "(empty body)"

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def error_code(response: requests.Response) -> str | None:
    """The vendor's error identifier in an error body, if any: Zendesk's `error` (e.g.
    `InvalidPaginationParameter`), Salesforce's `errorCode` (first of the list, e.g.
    `INVALID_QUERY_LOCATOR`), HubSpot's `category` (e.g. `VALIDATION_ERROR`)."""
    try:
        body = orjson.loads(response.content)
    except (orjson.JSONDecodeError, requests.exceptions.RequestException):
        return None
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        return None
    for key in ("errorCode", "error", "category", "code"):
        value = body.get(key)
        if isinstance(value, str) and value and len(value) <= 100:
            return value
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


_DONE = object()


def prefetch(items: Iterator[T], depth: int = 1, name: str = "prefetch") -> Iterator[T]:
    """Iterate `items` on a background thread, up to `depth` items ahead.

    Fetching the next page of an API then overlaps with processing the current one. An
    error in `items` is raised here; closing this iterator stops the thread (after the
    request in flight, if any) and closes `items`. While it runs, the garbage collector
    runs less often (`connectors.memory.fewer_collections`: decoded pages are large).
    """
    buffer: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((None, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    with fewer_collections():
        thread.start()
        try:
            while True:
                item, error = buffer.get()
                if error is not None:
                    raise error
                if item is _DONE:
                    return
                yield item
        finally:
            stop.set()
            thread.join()
