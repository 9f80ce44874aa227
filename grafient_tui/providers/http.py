"""The HTTP client every provider uses: pacing, retries, deadlines, size caps, one-sentence errors.

Parameterised by the provider's title (for sentences: "cannot reach the Cursor API at ..."), its
base URL, its auth and its limits. Nothing here imports Textual. Nothing here may let the API key
out: it goes into the auth header and nowhere else (errors and logs are scrubbed of it).
"""

from __future__ import annotations

import asyncio
import codecs
import contextvars
import datetime
import email.utils
import hashlib
import json
import logging
import math
import random
import ssl
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx

from grafient_tui import __version__

# The provider error families live in errors.py, and are named here too for code that catches them
# beside the client (`from grafient_tui.providers.http import KeyRejected` keeps working).
from grafient_tui.errors import (  # noqa: F401
    MAX_SUMS_PER_WINDOW,
    AccessDenied,
    AnswerTooLarge,
    ApiTimeout,
    BadResponse,
    KeyRejected,
    LimitExceeded,
    ProviderError,
    RateLimited,
    RequestRejected,
    ServerError,
    ShapeError,
    Unreachable,
    scrub,
    too_many_sums,
)
from grafient_tui.money import decimal_literal
from grafient_tui.providers.base import RequestStats
from grafient_tui.providers.jsonstream import EntryTooLarge, JsonObject, JsonShapeError, NotAnObject, parse_object
from grafient_tui.secret import scrub_known

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # one decoded answer
ERROR_BODY_LIMIT = 64 * 1024  # of an error answer we only want its short `message`
DEFAULT_REQUEST_DEADLINE = 120.0  # seconds for connect, headers and the whole body
# An answer `request` decodes whole (a key check, an account): anything with a list is walked entry
# by entry instead (`request_json`), so no answer costs more than a fixed multiple of its size.
WHOLE_ANSWER_CHARS = 1024 * 1024
_INFLATE_STEP = 256 * 1024  # the most one decompression step may produce
RETRY_AFTER_CAP = 120.0

log = logging.getLogger("grafient.http")


# --------------------------------------------------------------------------- pacing


class TokenBucket:
    """rpm requests per minute with a burst of rpm, for every thread and event loop.

    Virtual scheduling (GCRA): `_tat` is when the bucket would be full again. Taking a
    token moves it one interval on; the caller waits until it is at most `burst`
    intervals ahead of now. The lock only guards that arithmetic; waiting happens
    outside it, in the caller's own event loop.
    """

    def __init__(self, rpm: float, *, burst: float | None = None, clock: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self._tat = clock()
        self.set_rate(rpm, burst=burst)

    def set_rate(self, rpm: float, *, burst: float | None = None) -> None:
        if not rpm > 0:
            raise ValueError("rpm must be positive")
        with self._lock:
            self.rpm = float(rpm)
            self._interval = 60.0 / self.rpm
            self._burst = float(burst if burst is not None else max(1.0, self.rpm))

    def reserve(self) -> float:
        """Take a token; return how many seconds to wait before using it."""
        with self._lock:
            now = self._clock()
            self._tat = max(self._tat, now) + self._interval
            return max(0.0, self._tat - self._burst * self._interval - now)


_buckets: dict[str, TokenBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for_key(api_key: str, rpm: float, *, clock: Callable[[], float] = time.monotonic) -> TokenBucket:
    """The one bucket of this process for this key (the limit is per team, and one key = one team).
    `clock` is the bucket's own when this call makes it (tests make it first, on a fake clock)."""
    digest = hashlib.sha256(api_key.encode("utf-8")).hexdigest()
    with _buckets_lock:
        bucket = _buckets.get(digest)
        if bucket is None:
            bucket = _buckets[digest] = TokenBucket(rpm, clock=clock)
        elif bucket.rpm != rpm:
            bucket.set_rate(rpm)  # the newest setting wins
        return bucket


class HeaderRateLimits:
    """The `x-ratelimit-*` answer headers GitHub sends (limit, remaining, used, reset in UTC epoch
    seconds) read as the rules of shared/copilot-billing-api.md, for any API that sends them:

    - pacing: when `x-ratelimit-remaining` falls below `low_water`, the next call waits until
      `x-ratelimit-reset`;
    - a 403 with `retry-after`, with `x-ratelimit-remaining: 0`, or whose message says "rate limit"
      is a rate limit, retried like a 429, never a refused key;
    - a rate limit waits `retry-after` when sent, else until the reset when nothing remains, else a
      minute, longer each time it repeats.

    `clock` is the wall clock (epoch seconds), injected by tests."""

    def __init__(
        self,
        *,
        low_water: int = 100,
        default_wait: float = 60.0,
        max_wait: float = 3660.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.low_water = low_water
        self.default_wait = default_wait
        self.max_wait = max_wait  # the primary limit resets within the hour; a later reset is not believed
        self.clock = clock

    @staticmethod
    def _int(headers: httpx.Headers, name: str) -> int | None:
        value = headers.get(name, "").strip()
        return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None

    def _until_reset(self, headers: httpx.Headers) -> float | None:
        reset = self._int(headers, "x-ratelimit-reset")
        if reset is None:
            return None
        return min(max(0.0, reset - self.clock()), self.max_wait)

    def is_limit(self, status: int, headers: httpx.Headers, message: str) -> bool:
        if status == 429:
            return True
        if status != 403:
            return False
        return (
            headers.get("retry-after") is not None
            or self._int(headers, "x-ratelimit-remaining") == 0
            or "rate limit" in message.casefold()
        )

    def wait_after_limit(self, headers: httpx.Headers, repeat: int) -> float:
        """How long to wait after the `repeat`-th rate limit in a row (1 for the first)."""
        after = _retry_after(headers.get("retry-after"))
        if after is not None:
            return after
        if self._int(headers, "x-ratelimit-remaining") == 0:
            until = self._until_reset(headers)
            if until is not None:
                return until
        return min(self.default_wait * 2.0 ** max(0, repeat - 1), self.max_wait)

    def wait_before_next(self, headers: httpx.Headers) -> float | None:
        """The epoch second the next call may start at, when few calls remain; None: no need to wait."""
        remaining = self._int(headers, "x-ratelimit-remaining")
        if remaining is None or remaining >= self.low_water:
            return None
        until = self._until_reset(headers)
        return None if until is None else self.clock() + until


@dataclass
class _Failure:
    """Why an attempt failed in a way worth retrying."""

    kind: str  # "timeout" | "transport" | "status" | "json"
    status: int | None = None
    reason: str = ""
    retry_after: float | None = None


_DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=10.0, pool=10.0)


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every client of this process.

    httpx builds a new one (loading the whole CA bundle) for each client it makes: 20-60 ms on the
    event loop per sync, so a sync of ten teams froze the app for half a second. `warm_up` builds it
    ahead, in a thread. The settings are httpx's own defaults (certifi, SSL_CERT_FILE / SSL_CERT_DIR)."""
    return httpx.create_ssl_context()


def warm_up() -> None:
    """Build what the first client would otherwise build on the event loop (call it in a thread)."""
    shared_ssl_context()


# --------------------------------------------------------------------------- retries, as they happen


@dataclass(frozen=True)
class RetryNotice:
    """A request failed and is about to be tried again: what `reporting_retries` listeners receive.

    `reason` is one of the client's own fixed sentences ("cannot reach the Cursor API at
    api.cursor.com (connection refused)"): never a server's message, never the key."""

    attempt: int  # the try about to start: 2 for the first retry
    attempts: int  # how many tries the request has in all
    reason: str
    delay: float  # seconds until that try


RetryListener = Callable[[RetryNotice], None]
# A context variable, not a constructor argument: whoever runs the requests (the sync engine) can
# listen without knowing which provider (and which of its clients) makes them.
_retry_listener: contextvars.ContextVar[RetryListener | None] = contextvars.ContextVar(
    "grafient_retry_listener", default=None
)


class reporting_retries:  # noqa: N801  (used like a function: `with reporting_retries(listener):`)
    """Within the block (and the tasks it starts), `listener(notice)` runs before each retry's wait.

    Works with `with` and `async with`, so a caller can put it in the `async with` that opens its
    provider."""

    def __init__(self, listener: RetryListener) -> None:
        self._listener = listener
        self._token: contextvars.Token[RetryListener | None] | None = None

    def __enter__(self) -> None:
        self._token = _retry_listener.set(self._listener)

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _retry_listener.reset(self._token)
            self._token = None

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__()


def _transport_reason(exc: httpx.TransportError) -> str:
    """A short, fixed description of a connection failure (never the exception text itself)."""
    # The async stack wraps the OS error ("All connection attempts failed"), so look down
    # the chain for the error that says what happened.
    cause: BaseException | None = exc.__cause__ or exc.__context__
    for _ in range(8):
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if any(s in text for s in ("name or service", "nodename", "getaddrinfo", "name resolution", "no address")):
        return "the host name could not be resolved"
    if "reset" in text:
        return "connection reset"
    if "ssl" in text or "certificate" in text or "tls" in text:
        return "TLS handshake failed"
    if "unreachable" in text:
        return "network unreachable"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection was closed unexpectedly"
    if isinstance(exc, httpx.ProxyError):
        return "the proxy refused the connection"
    if isinstance(exc, (httpx.ReadError, httpx.WriteError)):
        return "the connection dropped"
    return "connection failed"


class _TooLarge(Exception):
    """Internal: the body passed its limit (raised while reading, turned into AnswerTooLarge)."""


class _Undecodable(Exception):
    """Internal: a Content-Encoding we did not ask for, or a compressed body that is corrupt."""


class _Inflater:
    """Content-Encoding gzip, deflate or identity, decoded in steps of at most _INFLATE_STEP bytes.

    httpx's own decoders inflate each network chunk in one call, so a 64 KiB chunk of a
    gzip bomb becomes ~64 MB at once, before anyone can count it. Here zlib is told the
    most it may produce per step (`max_length`), so the caller counts as it goes and
    memory stays at the limit, whatever the compression ratio.
    """

    def __init__(self, content_encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        self._mode: str | None = None
        self._first = True
        if not codings:
            return
        if codings in (["gzip"], ["x-gzip"]):
            self._mode, self._wbits = "gzip", zlib.MAX_WBITS | 16
        elif codings == ["deflate"]:
            self._mode, self._wbits = "deflate", zlib.MAX_WBITS  # zlib-wrapped; raw deflate tried too
        else:
            raise _Undecodable
        self._z = zlib.decompressobj(self._wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._mode is None:
            if data:
                yield data
            return
        while data:
            if self._z.eof:
                if self._mode != "gzip":
                    return  # bytes after the end of a deflate stream mean nothing
                self._z = zlib.decompressobj(self._wbits)  # the next member of a multi-member gzip
            try:
                out = self._z.decompress(data, _INFLATE_STEP)
            except zlib.error:
                if self._mode == "deflate" and self._first:
                    self._first = False  # servers send raw deflate under that name too
                    self._wbits = -zlib.MAX_WBITS
                    self._z = zlib.decompressobj(self._wbits)
                    continue
                raise _Undecodable from None
            self._first = False
            if out:
                yield out
            data = self._z.unused_data if self._z.eof else self._z.unconsumed_tail

    def finish(self) -> Iterator[bytes]:
        if self._mode is not None:
            try:
                out = self._z.flush()
            except zlib.error:
                raise _Undecodable from None
            if out:
                yield out


async def _read_capped(response: httpx.Response, limit: int, *, cut: bool = False) -> bytes | bytearray:
    """The decoded body, counted as it streams in (compressed and decoded); past `limit`
    _TooLarge, or with `cut` just the first `limit` bytes. Leaving the caller's `stream()`
    block closes the connection, so the rest of the body is never read."""
    if response.is_stream_consumed:
        # A transport that built the body whole in memory (tests' mock transports): there is
        # nothing left to stream, only to count.
        content = response.content
        if len(content) > limit:
            if not cut:
                raise _TooLarge
            return content[:limit]
        return content
    inflater = _Inflater(response.headers.get("content-encoding"))
    body = bytearray()
    received = 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        for piece in inflater.feed(chunk):
            body += piece
            if len(body) > limit:
                if cut:
                    return body[:limit]
                raise _TooLarge
        if received > limit and not cut:
            raise _TooLarge  # compressed input that inflates to nothing still costs time and bandwidth
    for piece in inflater.finish():
        body += piece
        if len(body) > limit:
            if cut:
                return body[:limit]
            raise _TooLarge
    return body


async def _read_text(response: httpx.Response, limit: int) -> str | None:
    """The decoded body as text (UTF-8, a BOM allowed), counted as it streams in like `_read_capped`;
    None when it is not UTF-8. Each chunk is decoded as it arrives and dropped, so the answer is held
    as text once (and as its pieces while they are joined), never as bytes and text together: what a
    6 MB page costs is about twice its size, not four or five times."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pieces: list[str] = []
    try:
        if response.is_stream_consumed:  # a transport that built the body whole (tests' mock transports)
            content = response.content
            if len(content) > limit:
                raise _TooLarge
            return decoder.decode(content, final=True)
        inflater = _Inflater(response.headers.get("content-encoding"))
        size = received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            for piece in inflater.feed(chunk):
                size += len(piece)
                if size > limit:
                    raise _TooLarge
                pieces.append(decoder.decode(piece))
            if received > limit:
                raise _TooLarge  # compressed input that inflates to nothing still costs time and bandwidth
        for piece in inflater.finish():
            size += len(piece)
            if size > limit:
                raise _TooLarge
            pieces.append(decoder.decode(piece))
        pieces.append(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        return None
    text = "".join(pieces)
    pieces.clear()
    return text


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _utc_now() -> datetime.datetime:
    """The wall clock an HTTP-date Retry-After is measured against (a test sets its own)."""
    return datetime.datetime.now(datetime.UTC)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        seconds = (when - _utc_now()).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


_INVALID = object()


def _loads(content: bytes | bytearray) -> Any:
    """The JSON value of a short error body, or _INVALID."""
    try:
        return json.loads(content, parse_float=decimal_literal)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return _INVALID


def _answer(text: str | None, fail: Callable[[JsonShapeError], Exception]) -> JsonObject | str | None:
    """A 200 body (as text; None: not UTF-8) as the object it must be, its members found (not decoded);
    None when it is not JSON (or not whole: retried), or the reason it can never be read (not an
    object, an entry too large). `fail` makes the error of what goes wrong later, while it is read."""
    if text is None:
        return None
    try:
        return parse_object(text, fail)
    except NotAnObject:
        return "an unexpected answer (not a JSON object)"
    except EntryTooLarge as exc:
        return f"{exc.reason}, more than Grafient reads"
    except JsonShapeError:
        return None


def _detail_message(detail: dict[str, Any] | str) -> str:
    """`status: message` of a FastAPI-style `detail` object, or the detail string itself."""
    if isinstance(detail, str):
        return detail
    parts = [detail.get(k) for k in ("status", "message")]
    return ": ".join(p for p in parts if isinstance(p, str) and p.strip())


# --------------------------------------------------------------------------- client


@dataclass(frozen=True)
class Answer:
    """A successful call's decoded JSON object and its headers (for a `Link` to the next page)."""

    data: dict[str, Any]
    headers: httpx.Headers


@dataclass(frozen=True)
class JsonAnswer:
    """A successful call's JSON object, its members found but not decoded (walk its lists entry by
    entry), and its headers."""

    data: JsonObject
    headers: httpx.Headers


# What a provider makes of a 4xx it knows better than we do (Cursor: 401 and 403): given the
# status, the path and the server's scrubbed `message` (or ""), its error, or None for ours.
Refusal = Callable[[int, str, str], ProviderError | None]
# Whether a 4xx other than 429 is a rate limit to wait out and retry, like a 429 (BigQuery's 403
# `rateLimitExceeded`): given the status and the decoded error body (None when it is not JSON).
RateLimitSign = Callable[[int, Any], bool]


class HttpClient:
    """JSON calls to one provider's API, with pacing, retries and readable errors."""

    def __init__(
        self,
        api_key: str,
        *,
        title: str,
        base_url: str,
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        rpm: float = 0,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_base: float = 1.0,
        max_attempts: int = 6,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timeout: httpx.Timeout | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
        refusal: Refusal | None = None,
        logger: logging.Logger | None = None,
        rate_limits: HeaderRateLimits | None = None,
        request_id_header: str | None = None,
        rate_limit_sign: RateLimitSign | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._key = api_key
        self.title = title
        self.base_url = base_url.rstrip("/")
        self._host = httpx.URL(self.base_url).host or self.base_url
        self._bucket = bucket_for_key(api_key, rpm) if rpm and rpm > 0 else None
        self._backoff_base = max(0.0, float(backoff_base))
        self.max_attempts = int(max_attempts)
        self._sleep = sleep
        if not max_response_bytes >= 1 or not request_deadline > 0:
            raise ValueError("max_response_bytes and request_deadline must be positive")
        self._max_bytes = int(max_response_bytes)
        # httpx's read timeout restarts with every chunk, so a server dripping a byte at a
        # time would never trip it: this one covers the whole request, body included.
        self._deadline = float(request_deadline)
        self._refusal = refusal
        self._rate_limit_sign = rate_limit_sign
        self._log = logger or log  # the provider's own ("grafient.cursor"), so debug output says whose call it was
        # An API that sends x-ratelimit-* headers (GitHub): paced by them, and its 403 rate limits retried.
        self._rate_limits = rate_limits
        self._resume_at: float | None = None  # epoch second the next call may start (few calls left)
        self._request_id_header = request_id_header  # logged at debug with each answer (X-GitHub-Request-Id)
        self.stats = RequestStats()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=auth,
            timeout=timeout or _DEFAULT_TIMEOUT,
            # Only the encodings _Inflater can bound (no br or zstd, whatever is installed).
            headers={
                "User-Agent": f"grafient-tui/{__version__}",
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",
                **(headers or {}),
            },
            transport=transport,
            follow_redirects=False,
            # Unused when a transport is given (the demo, tests); else built once per process.
            verify=True if transport is not None else shared_ssl_context(),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        attempts: int | None = None,
        *,
        params: Any = None,
        form: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One API call with pacing and retries; the JSON object, decoded whole (for short answers: at
        most WHOLE_ANSWER_CHARS, else LimitExceeded), or a ProviderError."""
        return (await self.answer(method, path, body, attempts, params=params, form=form)).data

    async def answer(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        attempts: int | None = None,
        *,
        params: Any = None,
        form: dict[str, str] | None = None,
    ) -> Answer:
        """`request`, with the answer's headers (for a `Link` to the next page)."""
        found = await self.answer_json(method, path, body, attempts, params=params, form=form)
        try:
            return Answer(found.data.decode(WHOLE_ANSWER_CHARS), found.headers)
        except EntryTooLarge:
            pass
        raise LimitExceeded(
            f"the {self.title} API sent an answer to {path} longer than {WHOLE_ANSWER_CHARS // 1024 // 1024} MB "
            "where Grafient expects a short one; stopped reading it"
        )

    async def request_json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        attempts: int | None = None,
        *,
        params: Any = None,
        form: dict[str, str] | None = None,
    ) -> JsonObject:
        """One API call with pacing and retries; the JSON object whose members are found but not decoded
        (read them, and walk its lists entry by entry, with JsonObject), or a ProviderError."""
        return (await self.answer_json(method, path, body, attempts, params=params, form=form)).data

    async def answer_json(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        attempts: int | None = None,
        *,
        params: Any = None,
        form: dict[str, str] | None = None,
    ) -> JsonAnswer:
        """`request_json`, with the answer's headers.

        `body` is sent as JSON; `form` instead, form-encoded (an OAuth token request).

        Exceptions from httpx carry the request (and so the auth header): they are turned
        into plain values inside `except` and our errors are raised outside it, so no
        traceback chains back to them.
        """
        attempts = self.max_attempts if attempts is None else attempts
        failure: _Failure | None = None
        limited = 0  # rate limits in a row, for the waits that grow
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                self.stats.retries += 1
            if self._bucket is not None:
                wait = self._bucket.reserve()
                if wait > 0:
                    await self._sleep(wait)
            if self._resume_at is not None and self._rate_limits is not None:
                hold, self._resume_at = self._resume_at - self._rate_limits.clock(), None
                if hold > 0:
                    self._log.debug("few calls left in this rate-limit window: waiting %.0f s for its reset", hold)
                    await self._sleep(hold)
            self.stats.requests += 1
            failure = None
            response = None
            too_large = False
            deadline = asyncio.timeout(self._deadline)
            try:
                async with (
                    deadline,
                    self._http.stream(method, path, json=body, data=form, params=params) as response,
                ):
                    if 200 <= response.status_code < 300:
                        text = await _read_text(response, self._max_bytes)
                    else:
                        content = await _read_capped(response, min(ERROR_BODY_LIMIT, self._max_bytes), cut=True)
            except TimeoutError:
                failure = _Failure("timeout", reason="deadline" if deadline.expired() else "")
            except _TooLarge:
                too_large = True  # raised below, outside this except, like every error of ours
            except _Undecodable:
                failure = _Failure("json")
            except httpx.TimeoutException:
                failure = _Failure("timeout")
            except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError):
                failure = _Failure("fatal", reason="the API address is not usable")
            except httpx.TransportError as exc:
                failure = _Failure("transport", reason=_transport_reason(exc))
            except httpx.HTTPError:
                failure = _Failure("json")  # e.g. a body whose content-encoding cannot be decoded
            if too_large:
                # Not retried: the same request would bring the same answer.
                self._log.debug("%s %s -> answer past %d bytes (attempt %d)", method, path, self._max_bytes, attempt)
                raise AnswerTooLarge(
                    f"the {self.title} API sent an answer to {path} larger than "
                    f"{self._max_bytes / 1024 / 1024:g} MB; stopped reading it "
                    "(GRAFIENT_MAX_RESPONSE_MB raises the limit)"
                )
            if failure is not None:
                self._log.debug("%s %s -> %s (attempt %d)", method, path, failure.kind, attempt)
                if failure.kind == "fatal":
                    break
            else:
                assert response is not None
                status = response.status_code
                headers = response.headers
                request_id = headers.get(self._request_id_header, "") if self._request_id_header else ""
                self._log.debug(
                    "%s %s -> %d (attempt %d)%s",
                    method,
                    path,
                    status,
                    attempt,
                    f" request id {scrub(request_id, self._key, limit=64)}" if request_id else "",
                )
                if self._rate_limits is not None:
                    self._resume_at = self._rate_limits.wait_before_next(headers)
                limit = (
                    self._rate_limits is not None
                    and status in (403, 429)
                    and self._rate_limits.is_limit(status, headers, self._server_message(content))
                )
                if 200 <= status < 300:
                    answer = _answer(text, self._reading_failed(path))
                    del text  # the answer holds it
                    if isinstance(answer, JsonObject):
                        return JsonAnswer(answer, headers)
                    if answer is None:
                        failure = _Failure("json")
                    elif answer.startswith("an unexpected answer"):
                        raise BadResponse(f"the {self.title} API sent {answer} to {path}")
                    else:
                        raise LimitExceeded(f"the {self.title} API sent {answer} to {path}; stopped reading it")
                elif limit and self._rate_limits is not None:
                    # 429, or a 403 that is a rate limit: waited out and tried again, never a refused key.
                    self.stats.rate_limited += 1
                    limited += 1
                    self._resume_at = None  # the wait below covers it
                    failure = _Failure("status", 429, retry_after=self._rate_limits.wait_after_limit(headers, limited))
                elif status == 429 or (status < 500 and self._is_rate_limit(status, content)):
                    self.stats.rate_limited += 1
                    failure = _Failure(
                        "status", 429, retry_after=_retry_after(headers.get("retry-after"))
                    )  # a 403 that says "rate limit" is one (BigQuery): counted, told and retried as a 429
                elif status >= 500:
                    failure = _Failure("status", status, reason=self._server_message(content))
                else:
                    raise self._client_error(status, path, content)
            if attempt < attempts:
                delay = failure.retry_after
                if delay is None:
                    nominal = self._backoff_base * 2 ** (attempt - 1)
                    delay = min(nominal * (1 + random.uniform(0.0, 0.25)), RETRY_AFTER_CAP)
                self._log.debug(
                    "retrying %s %s in %.2f s (attempt %d of %d)", method, path, delay, attempt + 1, attempts
                )
                self._tell_retry(RetryNotice(attempt + 1, attempts, self._failure_reason(failure, path), delay))
                await self._sleep(delay)
        assert failure is not None
        raise self._final_error(failure, path, attempt)

    def _reading_failed(self, path: str) -> Callable[[JsonShapeError], Exception]:
        """The error for an answer that turns out, while it is read, to be one Grafient will not read."""

        def fail(exc: JsonShapeError) -> Exception:
            if isinstance(exc, EntryTooLarge):
                return LimitExceeded(
                    f"the {self.title} API sent {exc.reason} to {path}, more than Grafient reads; stopped reading it"
                )
            return BadResponse(f"the {self.title} API sent {exc.reason} in its answer to {path}; stopped reading it")

        return fail

    def _is_rate_limit(self, status: int, content: bytes | bytearray) -> bool:
        if self._rate_limit_sign is None:
            return False
        data = _loads(content)
        return bool(self._rate_limit_sign(status, None if data is _INVALID else data))

    def _tell_retry(self, notice: RetryNotice) -> None:
        listener = _retry_listener.get()
        if listener is None:
            return
        try:
            listener(notice)
        except Exception:  # noqa: BLE001  (a listener's bug must not fail the request)
            self._log.debug("a retry listener failed", exc_info=False)

    def _failure_reason(self, failure: _Failure, path: str) -> str:
        """What went wrong with this try, in the words of `_final_error` less the count of tries, and
        without the server's message (only the final error quotes it, scrubbed)."""
        api = f"the {self.title} API"
        if failure.kind == "timeout":
            return f"{api} did not answer in time"
        if failure.kind in ("transport", "fatal"):
            return f"cannot reach {api} at {self._host} ({failure.reason})"
        if failure.kind == "json":
            return f"{api} sent an incomplete or non-JSON answer to {path}"
        if failure.status == 429:
            return f"{api} is rate limiting this team"
        return f"{api} failed with HTTP {failure.status}"

    def _server_message(self, content: bytes | bytearray) -> str:
        """The `message` of an error body, or "" when there is none.

        Redacted (any run of 8+ characters of the key, its base64 or percent-encoding) and
        cut short before it goes anywhere: servers and proxies have been known to echo the
        credentials they were sent."""
        data = _loads(content)
        if not isinstance(data, dict):
            return ""
        message = data.get("message")
        nested = data.get("error")
        if (not isinstance(message, str) or not message.strip()) and isinstance(nested, dict):
            message = nested.get("message")  # Anthropic, OpenAI, OpenRouter: {"error": {"message": ...}}
        detail = data.get("detail")
        if (not isinstance(message, str) or not message.strip()) and isinstance(detail, (dict, str)):
            message = _detail_message(detail)  # ElevenLabs (FastAPI): {"detail": {"status": ..., "message": ...}}
        described = data.get("error_description")
        if (
            (not isinstance(message, str) or not message.strip())
            and isinstance(nested, str)
            and isinstance(described, str)
        ):
            message = f"{nested}: {described}"  # OAuth: {"error": "invalid_grant", "error_description": ...}
        if not isinstance(message, str) or not message.strip():
            label = next((data.get(k) for k in ("error", "outcome", "code") if isinstance(data.get(k), str)), "")
            message = label
        # Also of every other secret this process holds (an access token a key was traded for).
        return scrub_known(scrub(message, self._key)) if message else ""

    def _client_error(self, status: int, path: str, content: bytes | bytearray) -> ProviderError:
        message = self._server_message(content)
        detail = f": {message}" if message else ""
        if self._refusal is not None:
            error = self._refusal(status, path, message)
            if error is not None:
                return error
        if status == 401:
            return KeyRejected(f"the key was rejected by {self.title} (HTTP 401{detail})")
        if status == 403:
            return AccessDenied(f"the {self.title} API refused this key access to {path} (HTTP 403{detail})")
        return RequestRejected(
            f"the {self.title} API refused the request to {path} (HTTP {status}{detail})", status=status
        )

    def _final_error(self, failure: _Failure, path: str, tries: int) -> ProviderError:
        n = f"{tries} {'try' if tries == 1 else 'tries'}"
        api = f"the {self.title} API"
        if failure.kind == "timeout":
            if failure.reason == "deadline":
                return ApiTimeout(
                    f"{api} did not answer within {_seconds(self._deadline)} ({n}); "
                    "GRAFIENT_REQUEST_DEADLINE raises the limit"
                )
            return ApiTimeout(f"{api} did not answer in time ({n})")
        if failure.kind in ("transport", "fatal"):
            return Unreachable(f"cannot reach {api} at {self._host} ({failure.reason}; {n})")
        if failure.kind == "json":
            return BadResponse(f"{api} sent an incomplete or non-JSON answer to {path} ({n})")
        if failure.status == 429:
            return RateLimited(f"{api} is rate limiting this team and still was after {n}; try again in a minute")
        detail = f": {failure.reason}" if failure.reason else ""
        return ServerError(f"{api} failed with HTTP {failure.status} after {n}{detail}")
