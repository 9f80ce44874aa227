"""The Cursor Admin API: an async client and the rules that turn usage events into money.

Money is integer micro-cents (1 cent = 1_000_000), computed exactly: a JSON number
is read as the decimal literal it was written as, never as a binary float sum.

Nothing here imports Textual. Nothing here may let the API key out: it goes into
the Authorization header and nowhere else (errors, logs and repr use `key_hint`).
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import hashlib
import json
import logging
import math
import random
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import httpx

from grafient_tui import __version__
from grafient_tui.errors import GrafientError, scrub
from grafient_tui.secret import key_hint

if TYPE_CHECKING:
    from grafient_tui.config import Settings

MICRO = 1_000_000
MAX_WINDOW_DAYS = 30
PAGE_SIZE = 1000
# Limits on what one window of answers may make us hold. A real team's month is far inside
# them; past them the answer is broken or hostile, and the window fails with one sentence.
MAX_PAGES = 1000  # a million events at PAGE_SIZE
MAX_MODELS_PER_WINDOW = 5_000
MAX_MEMBERS_PER_WINDOW = 50_000
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # one decoded answer
ERROR_BODY_LIMIT = 64 * 1024  # of an error answer we only want its short `message`
DEFAULT_REQUEST_DEADLINE = 120.0  # seconds for connect, headers and the whole body
_INFLATE_STEP = 256 * 1024  # the most one decompression step may produce
DAY_MS = 86_400_000
MAX_WINDOW_MS = MAX_WINDOW_DAYS * DAY_MS - 1
RETRY_AFTER_CAP = 120.0
VALIDATE_ATTEMPTS = 3
MALFORMED_ATTEMPTS = 3  # a 200 answer of the wrong shape is asked for again this often
UNATTRIBUTED = "unattributed"  # the member of events that name no one

log = logging.getLogger("grafient.cursor")


# --------------------------------------------------------------------------- errors


class CursorError(GrafientError):
    """Anything that went wrong talking to Cursor, as one sentence fit to show."""


class KeyRejected(CursorError):
    """401: a wrong, revoked or non-admin key."""


class NotEnterprise(CursorError):
    """403: the team is not on an Enterprise plan."""


class Unreachable(CursorError):
    """No connection: refused, DNS, reset, TLS."""


class ApiTimeout(CursorError):
    """The API did not answer in time, every try."""


class RateLimited(CursorError):
    """429 on every try."""


class ServerError(CursorError):
    """5xx on every try."""


class BadResponse(CursorError):
    """A body that is not JSON, or JSON of a shape we cannot read."""


class AnswerTooLarge(BadResponse):
    """A body past the size limit, counted after decompression; not retried."""


class LimitExceeded(BadResponse):
    """More pages, models or members in one window than Grafient will hold."""


class RequestRejected(CursorError):
    """Any other 4xx: the request itself was refused."""


class EventFormatError(CursorError):
    """A usage event with a field we cannot read."""


NOT_ENTERPRISE_SENTENCE = (
    "Enterprise access required (the Admin API is only available on Cursor Enterprise plans)"
)


# --------------------------------------------------------------------------- money

_LIMIT = 10**12
_LIMIT_D = Decimal(_LIMIT)
_MICRO_D = Decimal(MICRO)
# Our own context, so a caller that changed the thread's decimal context cannot
# change our results; 60 digits hold any value below 1e12 times 1e6 exactly.
_CTX = Context(prec=60)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return "a long string" if len(value) > 40 else repr(value)
    return {bool: "a boolean", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _bad(field_name: str, value: Any, what: str = "a number") -> EventFormatError:
    return EventFormatError(f"usage event field {field_name} is not {what} (got {_describe(value)})")


def _decimal(value: Any, field_name: str, limit: Decimal = _LIMIT_D) -> Decimal:
    """The exact decimal a JSON value was written as; finite and at most `limit` (1e12) in size."""
    t = type(value)
    if t is bool:
        raise _bad(field_name, value)
    if isinstance(value, int):
        d = Decimal(int(value))
    elif isinstance(value, float):
        # repr is the shortest literal that reads back as this float: the JSON text.
        d = Decimal(repr(value)) if math.isfinite(value) else None
    elif isinstance(value, Decimal):
        d = value
    elif isinstance(value, str) and len(value) <= 64:
        try:
            d = Decimal(value.strip())
        except (InvalidOperation, ValueError):
            raise _bad(field_name, value) from None
    else:
        raise _bad(field_name, value)
    if d is None or not d.is_finite():
        raise _bad(field_name, value, "a finite number")
    if abs(d) > limit:
        raise _bad(field_name, value, "a number of a plausible size")
    return d


def _decimal_to_micro(d: Decimal) -> int:
    return int(_CTX.multiply(d, _MICRO_D).to_integral_value(rounding=ROUND_HALF_EVEN, context=_CTX))


def _micro(value: Any, field_name: str) -> int:
    """`value` (not None) in micro-units, exactly, rounded half-even at the 6th decimal."""
    t = type(value)
    if t is int:
        if -_LIMIT <= value <= _LIMIT:
            return value * MICRO
    elif t is float and -1e9 < value < 1e9:
        # Fast path, exact by construction: m / 1e6 is correctly rounded, so when it
        # reads back as `value`, the decimal m/10**6 (at most 6 decimals, < 1e15 digits)
        # round-trips to `value`. Two such decimals cannot both be within half an ulp of
        # it, so that decimal is the value repr(value) denotes, and the Decimal path
        # would return m too. Anything else (more decimals, NaN) takes the Decimal path.
        m = round(value * 1e6)
        if m / 1e6 == value:
            return m
    return _decimal_to_micro(_decimal(value, field_name))


def to_micro(value: Any) -> int | None:
    """A JSON number (int, float, numeric string, Decimal) in micro-units; None stays None."""
    if value is None:
        return None
    return _micro(value, "value")


def _fallback_cost_micro(usage: dict | None, raw: dict) -> int:
    """totalCents × (1 − discountPercentOff/100) + cursorTokenFee, each missing part 0."""
    usage = usage or {}
    total = usage.get("totalCents")
    discount = usage.get("discountPercentOff")
    if discount is None:
        discount = raw.get("discountPercentOff")
    fee = raw.get("cursorTokenFee")
    if fee is None:
        fee = usage.get("cursorTokenFee")
    if discount is None:
        if total is None and fee is None:
            return 0
        if total is None:
            return _micro(fee, "cursorTokenFee")
        if fee is None:
            return _micro(total, "tokenUsage.totalCents")
    cost = Decimal(0)
    if total is not None:
        factor = _ONE
        if discount is not None:
            factor = _CTX.subtract(_ONE, _CTX.divide(_decimal(discount, "tokenUsage.discountPercentOff"), _HUNDRED))
        cost = _CTX.multiply(_decimal(total, "tokenUsage.totalCents"), factor)
    if fee is not None:
        cost = _CTX.add(cost, _decimal(fee, "cursorTokenFee"))
    return _decimal_to_micro(cost)


def _token_usage(raw: dict) -> dict | None:
    usage = raw.get("tokenUsage")
    if usage is None or type(usage) is dict:
        return usage
    raise _bad("tokenUsage", usage, "an object")


def _kind_of(raw: dict) -> str:
    """`kind`, else `kindLabel` (older shapes), else ""."""
    kind = raw.get("kind")
    if kind is None:
        kind = raw.get("kindLabel")
    return kind if type(kind) is str else _text(kind, "kind", "")


def not_charged(kind: str, raw: dict) -> bool:
    """The event's own word that it cost nothing: an errored or aborted kind, or a free Bugbot run.
    Only consulted when `chargedCents` is absent (chargedCents wins whatever the kind says)."""
    folded = kind.casefold()
    if "not charged" in folded or "no charge" in folded:
        return True
    if kind.startswith("USAGE_EVENT_KIND_") and ("ERRORED" in kind or "ABORTED" in kind):
        return True
    free_bugbot = raw.get("isFreeBugbot")
    return free_bugbot is True or (free_bugbot is not None and free_bugbot is not False
                                   and _flag(free_bugbot, "isFreeBugbot"))


_ON_DEMAND_KINDS = {"usagebased", "ondemand", "USAGE_EVENT_KIND_USAGE_BASED"}


def on_demand_kind(kind: str) -> bool:
    """Without `isChargeable`: on-demand when the kind says usage-based or on-demand (the English
    labels compared without case, hyphen or space, and the enum kind). Anything else is included."""
    if kind in _ON_DEMAND_KINDS:
        return True
    return kind.casefold().replace("-", "").replace(" ", "").replace("_", "") in _ON_DEMAND_KINDS


def event_cost_micro(raw: dict) -> int:
    """The cost of one usage event in micro-cents: chargedCents, else the token formula
    (0 when the kind says it was not charged, or for a free Bugbot run)."""
    if not isinstance(raw, dict):
        raise EventFormatError("a usage event is not a JSON object")
    charged = raw.get("chargedCents")
    if charged is not None:
        return _micro(charged, "chargedCents")
    if not_charged(_kind_of(raw), raw):
        return 0
    return _fallback_cost_micro(_token_usage(raw), raw)


# --------------------------------------------------------------------------- days

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_MAX_TIMESTAMP_MS = (datetime.date(9999, 12, 31).toordinal() - _EPOCH_ORDINAL + 1) * DAY_MS - 1
# Epoch milliseconds are beyond the 1e12 that bounds money and counts (today is ~1.8e12).
_TIMESTAMP_LIMIT_D = Decimal(_MAX_TIMESTAMP_MS)
_day_cache: dict[int, datetime.date] = {}


def _day_of(day_number: int) -> datetime.date:
    day = _day_cache.get(day_number)
    if day is None:
        if len(_day_cache) > 100_000:
            _day_cache.clear()
        day = _day_cache[day_number] = datetime.date.fromordinal(_EPOCH_ORDINAL + day_number)
    return day


def day_bounds_ms(first: datetime.date, last: datetime.date) -> tuple[int, int]:
    """Inclusive UTC bounds in epoch ms: first 00:00:00.000Z .. last 23:59:59.999Z."""
    start = (first.toordinal() - _EPOCH_ORDINAL) * DAY_MS
    end = (last.toordinal() - _EPOCH_ORDINAL + 1) * DAY_MS - 1
    return start, end


# --------------------------------------------------------------------------- events


@dataclass(slots=True)
class UsageEvent:
    timestamp_ms: int
    day: datetime.date
    user_email: str
    model: str
    kind: str
    chargeable: bool
    cost_micro: int
    request_units_micro: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    conversation_id: str | None


def _iso_timestamp(value: str) -> int | None:
    """Epoch ms of an ISO 8601 time with a zone (`Z` or ±hh:mm), or None when it is not one."""
    if len(value) > 40 or "T" not in value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a time without a zone could be any day: not one Grafient can place
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _timestamp(value: Any) -> int:
    if type(value) is str:
        try:
            ts = int(value)
        except ValueError:
            iso = _iso_timestamp(value)
            ts = iso if iso is not None else _integral(value, "timestamp", _TIMESTAMP_LIMIT_D)
    elif type(value) is int:
        ts = value
    elif value is None:
        raise EventFormatError("usage event field timestamp is missing")
    else:
        ts = _integral(value, "timestamp", _TIMESTAMP_LIMIT_D)
    if not 0 <= ts <= _MAX_TIMESTAMP_MS:
        raise EventFormatError("usage event field timestamp is not a plausible epoch-milliseconds value")
    return ts


def _integral(value: Any, field_name: str, limit: Decimal = _LIMIT_D) -> int:
    """A whole number from an int, an integral float or a numeric string."""
    d = _decimal(value, field_name, limit)
    if d != d.to_integral_value(context=_CTX):
        raise _bad(field_name, value, "a whole number")
    return int(d)


def _tokens(usage: dict, name: str) -> int:
    value = usage.get(name)
    if type(value) is int and -_LIMIT <= value <= _LIMIT:
        return value
    if value is None:
        return 0
    return _integral(value, "tokenUsage." + name)


def _text(value: Any, field_name: str, default: str) -> str:
    if value is None or value == "":
        return default
    if type(value) is str:
        return value
    raise _bad(field_name, value, "a string")


_TRUTHY = {"true": True, "false": False, "1": True, "0": False}


def _flag(value: Any, field_name: str) -> bool:
    if type(value) is int and value in (0, 1):
        return bool(value)
    if type(value) is str and value.strip().lower() in _TRUTHY:
        return _TRUTHY[value.strip().lower()]
    raise _bad(field_name, value, "true or false")


def parse_event(raw: dict) -> UsageEvent:
    """One usage event as Cursor sends it, read tolerantly; EventFormatError if it cannot be."""
    if type(raw) is not dict:
        raise EventFormatError("a usage event is not a JSON object")
    get = raw.get
    ts = _timestamp(get("timestamp"))

    email = get("userEmail")
    if type(email) is not str or not email:
        # Service accounts, cloud agents and automations are team spend too: they count under
        # the service account's name when there is one.
        email = _text(email, "userEmail", "") or _text(get("serviceAccountName"), "serviceAccountName",
                                                         UNATTRIBUTED)
    model = get("model")
    if type(model) is not str or not model:
        model = _text(model, "model", "unknown")
    kind = get("kind")
    if kind is None:
        kind = get("kindLabel")
    if type(kind) is not str:
        kind = _text(kind, "kind", "")
    chargeable = get("isChargeable")
    if type(chargeable) is not bool:
        chargeable = on_demand_kind(kind) if chargeable is None else _flag(chargeable, "isChargeable")

    units = get("requestsCosts")
    if units is None:
        units = get("requestCosts")  # an older, misspelt name for the same field
    if type(units) is int and -_LIMIT <= units <= _LIMIT:
        units *= MICRO
    else:
        units = 0 if units is None else _micro(units, "requestsCosts")

    usage = get("tokenUsage")
    if usage is None:
        tokens_in = tokens_out = cache_write = cache_read = 0
    elif type(usage) is dict:
        # Inlined int checks: this is the hot loop of every sync. A count beyond 1e12 is
        # no real count, and would not fit the store once summed.
        uget = usage.get
        tokens_in = uget("inputTokens", 0)
        if type(tokens_in) is not int or not -_LIMIT <= tokens_in <= _LIMIT:
            tokens_in = _tokens(usage, "inputTokens")
        tokens_out = uget("outputTokens", 0)
        if type(tokens_out) is not int or not -_LIMIT <= tokens_out <= _LIMIT:
            tokens_out = _tokens(usage, "outputTokens")
        cache_write = uget("cacheWriteTokens", 0)
        if type(cache_write) is not int or not -_LIMIT <= cache_write <= _LIMIT:
            cache_write = _tokens(usage, "cacheWriteTokens")
        cache_read = uget("cacheReadTokens", 0)
        if type(cache_read) is not int or not -_LIMIT <= cache_read <= _LIMIT:
            cache_read = _tokens(usage, "cacheReadTokens")
    else:
        raise _bad("tokenUsage", usage, "an object")

    charged = get("chargedCents")
    if charged is not None:
        cost = _micro(charged, "chargedCents")
    elif not_charged(kind, raw):
        cost = 0
    else:
        cost = _fallback_cost_micro(usage, raw)

    conversation = get("conversationId")
    if conversation is not None and type(conversation) is not str:
        raise _bad("conversationId", conversation, "a string")

    return UsageEvent(
        ts,
        _day_of(ts // DAY_MS),
        email,
        model,
        kind,
        chargeable,
        cost,
        units,
        tokens_in,
        tokens_out,
        cache_write,
        cache_read,
        conversation,
    )


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


def bucket_for_key(api_key: str, rpm: float) -> TokenBucket:
    """The one bucket of this process for this key (the limit is per team, and one key = one team)."""
    digest = hashlib.sha256(api_key.encode("utf-8")).hexdigest()
    with _buckets_lock:
        bucket = _buckets.get(digest)
        if bucket is None:
            bucket = _buckets[digest] = TokenBucket(rpm)
        elif bucket.rpm != rpm:
            bucket.set_rate(rpm)  # the newest setting wins
        return bucket


# --------------------------------------------------------------------------- client


@dataclass
class RequestStats:
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0


@dataclass(frozen=True)
class TeamInfo:
    members: int
    # Who is in the team, hashed: the same members means the same team, whichever key was used.
    fingerprint: str | None = field(default=None, compare=False)


def team_fingerprint(members: list) -> str | None:
    """A digest of the team's current members (emails, else ids), or None when the answer names no one."""
    names = set()
    for member in members:
        if not isinstance(member, dict) or member.get("isRemoved") is True:
            continue
        email, member_id = member.get("email"), member.get("id")
        if isinstance(email, str) and email.strip():
            names.add("email:" + email.strip().casefold())
        elif isinstance(member_id, (str, int)) and not isinstance(member_id, bool):
            names.add(f"id:{member_id}")
    if not names:
        return None
    return hashlib.sha256("\n".join(sorted(names)).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class _Failure:
    """Why an attempt failed in a way worth retrying."""

    kind: str  # "timeout" | "transport" | "status" | "json"
    status: int | None = None
    reason: str = ""
    retry_after: float | None = None


_DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=10.0, pool=10.0)


def _transport_reason(exc: httpx.TransportError) -> str:
    """A short, fixed description of a connection failure (never the exception text itself)."""
    # The async stack wraps the OS error ("All connection attempts failed"), so look down
    # the chain for the error that says what happened.
    cause: BaseException | None = exc
    for _ in range(8):
        cause = cause.__cause__ or cause.__context__
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
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


def _seconds(value: float) -> str:
    return f"{value:g} s"


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
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        seconds = (when - datetime.datetime.now(datetime.UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


class CursorClient:
    """The Admin API calls Grafient makes, with pacing, retries and readable errors."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.cursor.com",
        rpm: float = 20,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_base: float = 1.0,
        max_attempts: int = 6,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timeout: httpx.Timeout | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self._host = httpx.URL(self.base_url).host or self.base_url
        self._bucket = bucket_for_key(api_key, rpm) if rpm and rpm > 0 else None
        self._backoff_base = max(0.0, float(backoff_base))
        self._max_attempts = int(max_attempts)
        self._sleep = sleep
        if not max_response_bytes >= 1 or not request_deadline > 0:
            raise ValueError("max_response_bytes and request_deadline must be positive")
        self._max_bytes = int(max_response_bytes)
        # httpx's read timeout restarts with every chunk, so a server dripping a byte at a
        # time would never trip it: this one covers the whole request, body included.
        self._deadline = float(request_deadline)
        self.stats = RequestStats()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=httpx.BasicAuth(api_key, ""),
            timeout=timeout or _DEFAULT_TIMEOUT,
            # Only the encodings _Inflater can bound (no br or zstd, whatever is installed).
            headers={"User-Agent": f"grafient-tui/{__version__}", "Accept": "application/json",
                     "Accept-Encoding": "gzip, deflate"},
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def from_settings(cls, api_key: str, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> CursorClient:
        return cls(
            api_key,
            base_url=settings.cursor_api_url,
            rpm=settings.cursor_rpm,
            backoff_base=settings.backoff_base,
            transport=transport,
            max_response_bytes=settings.max_response_bytes,
            request_deadline=settings.request_deadline,
        )

    def __repr__(self) -> str:
        return f"CursorClient(key={key_hint(self._key)}, base_url={self.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> CursorClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ calls

    async def validate(self) -> TeamInfo:
        """Check the key with the cheapest call there is, and count the team."""
        data = await self._request("GET", "/teams/members", None, min(VALIDATE_ATTEMPTS, self._max_attempts))
        members = data.get("teamMembers")
        # `{}` or any other 200 without the documented list is not a yes: a proxy, a captive
        # portal or a wrong GRAFIENT_CURSOR_API_URL can answer 200 to anything.
        if not isinstance(members, list):
            raise BadResponse(
                "the Cursor API sent an unexpected answer to /teams/members (no teamMembers list); "
                "is GRAFIENT_CURSOR_API_URL right?"
            )
        active = sum(1 for m in members if not (isinstance(m, dict) and m.get("isRemoved") is True))
        return TeamInfo(members=active, fingerprint=team_fingerprint(members))

    def usage_event_pages(self, start_ms: int, end_ms: int) -> AsyncIterator[list[UsageEvent]]:
        """Every usage event in [start_ms, end_ms] (inclusive), one list per page.

        The window is checked here, before anything is sent, so a bad window fails at the call.
        """
        if not isinstance(start_ms, int) or not isinstance(end_ms, int):
            raise ValueError("start_ms and end_ms must be integers (epoch milliseconds)")
        if end_ms < start_ms:
            raise ValueError("end_ms is before start_ms")
        if end_ms - start_ms > MAX_WINDOW_MS:
            raise ValueError(f"the Cursor API serves at most {MAX_WINDOW_DAYS} days per request")
        return self._usage_event_pages(start_ms, end_ms)

    async def _usage_event_pages(self, start_ms: int, end_ms: int) -> AsyncIterator[list[UsageEvent]]:
        path = "/teams/filtered-usage-events"
        # Cursor pages newest first; when events arrive meanwhile, rows shift down and a
        # later page repeats rows already seen. Events carry no id, so a repeat is a row
        # identical in every field to one from an earlier page. Identical rows within one
        # page are distinct events (two identical requests in the same millisecond).
        # `previous` and `before` map a timestamp to the events of the two previous pages
        # with it; the full comparison only runs when timestamps collide. A repeat is a row
        # pushed across a page boundary, so two pages back is far enough, and memory stays
        # the size of a page however many events the window holds.
        previous: dict[int, list[UsageEvent]] = {}
        before: dict[int, list[UsageEvent]] = {}
        # What the caller will hold per day of this window grows with these; an answer that
        # invents new ones page after page is stopped here, before it fills memory.
        models: set[str] = set()
        members: set[str] = set()
        page = 1
        while True:
            body = {"startDate": start_ms, "endDate": end_ms, "page": page, "pageSize": PAGE_SIZE}
            data, rows = await self._events_page(path, body)
            if not rows:
                return

            events: list[UsageEvent] = []
            append = events.append
            this_page: dict[int, list[UsageEvent]] = {}
            in_previous, in_before, in_this = previous.get, before.get, this_page.get
            for raw in rows:
                try:
                    event = parse_event(raw)
                except EventFormatError as exc:
                    # Missing and null fields are read tolerantly; what is left is an
                    # event we cannot price. Dropping it would understate the bill
                    # without a word, so the window fails loudly and stores nothing.
                    raise EventFormatError(
                        f"the Cursor API sent a usage event Grafient cannot read ({exc.sentence}); "
                        "nothing from this window was saved"
                    ) from None
                ts = event.timestamp_ms
                same_ts = in_this(ts)
                if same_ts is None:
                    this_page[ts] = [event]
                else:
                    same_ts.append(event)
                prior = in_previous(ts)
                if prior is not None and event in prior:
                    continue
                prior = in_before(ts)
                if prior is not None and event in prior:
                    continue
                append(event)
                if event.model not in models:
                    models.add(event.model)
                    if len(models) > MAX_MODELS_PER_WINDOW:
                        raise LimitExceeded(
                            f"the Cursor API sent usage for more than {MAX_MODELS_PER_WINDOW:,} different models "
                            "in one window, more than any real team has; stopped reading, "
                            "nothing from this window was saved"
                        )
                if event.user_email not in members:
                    members.add(event.user_email)
                    if len(members) > MAX_MEMBERS_PER_WINDOW:
                        raise LimitExceeded(
                            f"the Cursor API sent usage for more than {MAX_MEMBERS_PER_WINDOW:,} different members "
                            "in one window, more than Grafient keeps; stopped reading, "
                            "nothing from this window was saved"
                        )
            before, previous = previous, this_page
            yield events

            if not self._has_next_page(data.get("pagination"), page, len(rows)):
                return
            if page >= MAX_PAGES:
                raise LimitExceeded(
                    f"the Cursor API still reported more usage events after {MAX_PAGES:,} pages "
                    f"({MAX_PAGES * PAGE_SIZE:,} events) for one window; stopped reading, "
                    "nothing from this window was saved"
                )
            page += 1

    async def _events_page(self, path: str, body: dict) -> tuple[dict, list]:
        """One page of events. A 200 answer without a `usageEvents` list is malformed, not an empty
        day: it is asked for again, and if it stays malformed the window fails and stores nothing."""
        for attempt in range(1, MALFORMED_ATTEMPTS + 1):
            data = await self._request("POST", path, body, self._max_attempts)
            rows = data.get("usageEvents")
            if type(rows) is list:
                return data, rows
            if attempt < MALFORMED_ATTEMPTS:
                self.stats.retries += 1
        raise BadResponse(
            f"the Cursor API answered {path} without a usageEvents list ({MALFORMED_ATTEMPTS} tries); "
            "nothing from this window was saved"
        )

    @staticmethod
    def _has_next_page(pagination: Any, page: int, rows: int) -> bool:
        if not isinstance(pagination, dict):
            return rows >= PAGE_SIZE
        pages = pagination.get("numPages")
        if type(pages) is int and page >= pages:
            return False
        has_next = pagination.get("hasNextPage")
        if isinstance(has_next, bool):
            return has_next
        if type(pages) is int:
            return page < pages
        return rows >= PAGE_SIZE

    # ------------------------------------------------------------------ transport

    async def _request(self, method: str, path: str, body: dict | None, attempts: int) -> dict:
        """One API call with pacing and retries; the decoded JSON object, or a CursorError.

        Exceptions from httpx carry the request (and so the Authorization header): they are
        turned into plain values inside `except` and our errors are raised outside it, so
        no traceback chains back to them.
        """
        failure: _Failure | None = None
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                self.stats.retries += 1
            if self._bucket is not None:
                wait = self._bucket.reserve()
                if wait > 0:
                    await self._sleep(wait)
            self.stats.requests += 1
            failure = None
            response = None
            too_large = False
            deadline = asyncio.timeout(self._deadline)
            try:
                async with deadline:
                    async with self._http.stream(method, path, json=body) as response:
                        if 200 <= response.status_code < 300:
                            content = await _read_capped(response, self._max_bytes)
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
                log.debug("%s %s -> answer past %d bytes (attempt %d)", method, path, self._max_bytes, attempt)
                raise AnswerTooLarge(
                    f"the Cursor API sent an answer to {path} larger than {self._max_bytes / 1024 / 1024:g} MB; "
                    "stopped reading it (GRAFIENT_MAX_RESPONSE_MB raises the limit)"
                )
            if failure is not None:
                log.debug("%s %s -> %s (attempt %d)", method, path, failure.kind, attempt)
                if failure.kind == "fatal":
                    break
            else:
                assert response is not None
                status = response.status_code
                log.debug("%s %s -> %d (attempt %d)", method, path, status, attempt)
                if 200 <= status < 300:
                    data = _loads(content)
                    if isinstance(data, dict):
                        return data
                    if data is _INVALID:
                        failure = _Failure("json")
                    else:
                        raise BadResponse(f"the Cursor API sent an unexpected answer to {path} (not a JSON object)")
                elif status == 429:
                    self.stats.rate_limited += 1
                    failure = _Failure("status", status, retry_after=_retry_after(response.headers.get("retry-after")))
                elif status >= 500:
                    failure = _Failure("status", status, reason=self._server_message(content))
                else:
                    raise self._client_error(status, path, content)
            if attempt < attempts:
                delay = failure.retry_after
                if delay is None:
                    nominal = self._backoff_base * 2 ** (attempt - 1)
                    delay = min(nominal * (1 + random.uniform(0.0, 0.25)), RETRY_AFTER_CAP)
                log.debug("retrying %s %s in %.2f s (attempt %d of %d)", method, path, delay, attempt + 1, attempts)
                await self._sleep(delay)
        assert failure is not None
        raise self._final_error(failure, path, attempt)

    def _server_message(self, content: bytes) -> str:
        """The `message` of an error body, or "" when there is none.

        Redacted (any run of 8+ characters of the key, its base64 or percent-encoding) and
        cut short before it goes anywhere: servers and proxies have been known to echo the
        credentials they were sent."""
        data = _loads(content)
        if not isinstance(data, dict):
            return ""
        message = data.get("message")
        if not isinstance(message, str) or not message.strip():
            label = next((data.get(k) for k in ("error", "outcome", "code") if isinstance(data.get(k), str)), "")
            message = label
        return scrub(message, self._key) if message else ""

    def _client_error(self, status: int, path: str, content: bytes) -> CursorError:
        message = self._server_message(content)
        if status == 401:
            detail = f": {message}" if message else ""
            return KeyRejected(
                f"the key was rejected by Cursor (HTTP 401{detail}); "
                "check that it is a current Admin API key of an Enterprise team"
            )
        if status == 403:
            return NotEnterprise(NOT_ENTERPRISE_SENTENCE)
        detail = f": {message}" if message else ""
        return RequestRejected(f"the Cursor API refused the request to {path} (HTTP {status}{detail})")

    def _final_error(self, failure: _Failure, path: str, tries: int) -> CursorError:
        n = f"{tries} {'try' if tries == 1 else 'tries'}"
        if failure.kind == "timeout":
            if failure.reason == "deadline":
                return ApiTimeout(f"the Cursor API did not answer within {_seconds(self._deadline)} ({n}); "
                                  "GRAFIENT_REQUEST_DEADLINE raises the limit")
            return ApiTimeout(f"the Cursor API did not answer in time ({n})")
        if failure.kind in ("transport", "fatal"):
            return Unreachable(f"cannot reach the Cursor API at {self._host} ({failure.reason}; {n})")
        if failure.kind == "json":
            return BadResponse(f"the Cursor API sent an incomplete or non-JSON answer to {path} ({n})")
        if failure.status == 429:
            return RateLimited(f"the Cursor API is rate limiting this team and still was after {n}; try again in a minute")
        detail = f": {failure.reason}" if failure.reason else ""
        return ServerError(f"the Cursor API failed with HTTP {failure.status} after {n}{detail}")


_INVALID = object()


def _loads(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return _INVALID
