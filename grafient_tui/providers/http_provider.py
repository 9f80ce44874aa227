"""What every provider over the shared HTTP client has in common, so that a provider's own module says
only what is its own: its auth, its refusals, its state.

`ClientOptions` is how a client is set up (pacing, retries, deadlines, size cap, transport), the same
for every provider: built once, from the user's settings or a test's keywords. `HttpProvider` takes
the key, the base URL and those options and builds the client; a provider names its auth and
refusals in `wiring()` and, when it has a second endpoint (Google's sign-in), builds that client
with `client()` from the same options.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypedDict, Unpack

import httpx

from grafient_tui.config import DEFAULT_API_URLS
from grafient_tui.providers.base import Provider, RequestStats, check_account
from grafient_tui.providers.http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_DEADLINE,
    HeaderRateLimits,
    HttpClient,
    RateLimitSign,
    Refusal,
)
from grafient_tui.secret import key_hint

if TYPE_CHECKING:
    from grafient_tui.config import Settings


@dataclasses.dataclass(frozen=True)
class ClientOptions:
    """How a provider's HTTP client paces, retries and bounds its calls: what was once a dozen
    keywords of every provider's constructor."""

    rpm: float | None = None  # requests per minute; None: the provider's default (Limits.default_rpm); 0: unpaced
    transport: httpx.AsyncBaseTransport | None = None  # the demo's and the tests' fake network
    backoff_base: float = 1.0  # seconds before the first retry, doubled each retry
    max_attempts: int = 6
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    timeout: httpx.Timeout | None = None  # httpx's per-phase timeouts; None: the client's own
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    request_deadline: float = DEFAULT_REQUEST_DEADLINE  # seconds for a whole request, body included
    # The wall clock (epoch seconds) a provider reads dates against: GitHub's rate-limit resets,
    # Google's token claims. Tests pin it.
    wall_clock: Callable[[], float] = time.time

    @classmethod
    def from_settings(
        cls, settings: Settings, name: str, default_rpm: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> ClientOptions:
        """The options the user's settings give provider `name` (GRAFIENT_<NAME>_RPM and the rest)."""
        return cls(
            rpm=settings.rpm(name, default_rpm),
            transport=transport,
            backoff_base=settings.backoff_base,
            max_response_bytes=settings.max_response_bytes,
            request_deadline=settings.request_deadline,
        )


class OptionKeywords(TypedDict, total=False):
    """ClientOptions' fields as keywords of a provider's constructor (`CursorClient(key, rpm=0)`)."""

    rpm: float | None
    transport: httpx.AsyncBaseTransport | None
    backoff_base: float
    max_attempts: int
    sleep: Callable[[float], Awaitable[None]]
    timeout: httpx.Timeout | None
    max_response_bytes: int
    request_deadline: float
    wall_clock: Callable[[], float]


class ProviderKeywords(OptionKeywords, total=False):
    """Every keyword of HttpProvider's constructor: a subclass passes them on as they are."""

    base_url: str | None
    options: ClientOptions | None


class Wiring(TypedDict, total=False):
    """What is a provider's own in its client: how the key is sent and how refusals are worded."""

    auth: httpx.Auth | None
    headers: dict[str, str] | None
    refusal: Refusal | None
    rate_limits: HeaderRateLimits | None
    request_id_header: str | None
    rate_limit_sign: RateLimitSign | None


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <token>`, the token set when it is known (Google's is traded for the key
    first) and cleared when it is refused; its repr holds no token."""

    def __init__(self, token: str | None = None) -> None:
        self.header: str | None = None if token is None else f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.header is not None:
            request.headers["Authorization"] = self.header
        yield request

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class HttpProvider(Provider):
    """A provider over the shared client: built from its key, base URL and ClientOptions, its stats
    are its client's, it shows only its key's hint, and closing it closes its clients.

    A subclass sets what `wiring()` reads before calling `super().__init__`, and its caches after."""

    # The API's name in the client's sentences when it is not the provider's ("GitHub", not "GitHub
    # Copilot"); None: the provider's title.
    api_title: ClassVar[str | None] = None

    _key: str
    _api: HttpClient
    base_url: str
    options: ClientOptions

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        options: ClientOptions | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> None:
        self._key = api_key
        options = options or ClientOptions()
        self.options = dataclasses.replace(options, **keywords) if keywords else options
        self._clients: list[HttpClient] = []
        self._api = self.client(base_url or DEFAULT_API_URLS[self.name], **self.wiring())
        self.base_url = self._api.base_url

    def wiring(self) -> Wiring:
        """How this provider's main client sends the key and words refusals; nothing by default."""
        return {}

    def client(self, base_url: str, *, title: str | None = None, **wiring: Unpack[Wiring]) -> HttpClient:
        """A client of this provider's key and options at `base_url`, closed with the provider."""
        options = self.options
        rpm = self.limits.default_rpm if options.rpm is None else options.rpm
        made = HttpClient(
            self._key,
            title=title or self.api_title or self.title,
            base_url=base_url,
            rpm=rpm,
            transport=options.transport,
            backoff_base=options.backoff_base,
            max_attempts=options.max_attempts,
            sleep=options.sleep,
            timeout=options.timeout,
            max_response_bytes=options.max_response_bytes,
            request_deadline=options.request_deadline,
            # The provider's own logger ("grafient.cursor"), so debug output says whose call it was.
            logger=logging.getLogger(f"grafient.{self.name}"),
            **wiring,
        )
        self._clients.append(made)
        return made

    @property
    def stats(self) -> RequestStats:  # type: ignore[override]
        """Every client's calls (Google's token requests count as API calls too)."""
        if len(self._clients) == 1:
            return self._api.stats
        every = [made.stats for made in self._clients]
        return RequestStats(
            sum(s.requests for s in every), sum(s.rate_limited for s in every), sum(s.retries for s in every)
        )

    @classmethod
    def from_settings(
        cls,
        api_key: str,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        account: Mapping[str, str] | None = None,
    ) -> Self:
        # Checked here as well as where the values came in: a stored row is read back untrusted. A
        # provider with account fields takes them as `account=` (the others take no such keyword).
        extra: dict[str, Any] = cls.settings_keywords(settings)
        if cls.account_fields or account:
            extra["account"] = check_account(cls.account_fields, account or {}, title=cls.title)
        options = ClientOptions.from_settings(settings, cls.name, cls.limits.default_rpm, transport)
        return cls(api_key, base_url=settings.api_url(cls.name), options=options, **extra)

    @classmethod
    def settings_keywords(cls, settings: Settings) -> dict[str, Any]:
        """Keywords of the constructor that are this provider's own and come from the settings
        (Google's token URL); none by default."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={key_hint(self._key)}, base_url={self.base_url!r})"

    async def aclose(self) -> None:
        for made in self._clients:
            await made.aclose()

    async def __aenter__(self) -> Self:
        return self
