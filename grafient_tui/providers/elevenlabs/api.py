"""The ElevenLabs API (subscription, character-stats) as a Provider, with dollars as an estimate.

Pacing, retries, deadlines, size caps and error sentences come from the shared HTTP client; what
is ElevenLabs' own is here: the `xi-api-key` header, a 401 told by its `detail.status` (ElevenLabs
also spells a spent quota as 401), the subscription read once per sync for the estimate, and two
character-stats calls per window (credits, then characters), per model and UTC day, for the whole
workspace.

Choices where ElevenLabs' documentation is silent (shared/elevenlabs-api.md):
- The estimate is today's plan applied to every day, so every sync re-reads the whole history the
  plan keeps (at most 90 days: one window, the same two calls a daily sync makes): a plan change
  re-prices every stored day at once, and the figures never mix two plans.
- The validation reads one day (yesterday) of credits, to prove the key may read usage.
- A 404 or 410 on character-stats means ElevenLabs retired it (its SDK marks it deprecated).
- The account is never named: the API names no workspace (a key is one user's, and reads the whole
  workspace's usage), so a second key of a workspace already connected cannot be told from a new one.
  `validate` gives no fingerprint, and adding a key needs --allow-unidentified (`unnamed_account`).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Unpack

from grafient_tui import providers
from grafient_tui.errors import (
    AccessDenied,
    BadResponse,
    KeyRejected,
    MissingPermissions,
    ProviderError,
    RequestRejected,
    ShapeError,
)
from grafient_tui.providers.base import AccountInfo, CostBasis, CostLine, Limits
from grafient_tui.providers.elevenlabs.costs import Plan, cost_lines, read_plan, read_series, unreadable
from grafient_tui.providers.http_provider import HttpProvider, ProviderKeywords, Wiring

DEFAULT_RPM = 20  # undocumented for these endpoints; a sync makes three calls
MAX_WINDOW_DAYS = 90
HISTORY_DAYS = 90  # Grafient web's maximum for ElevenLabs
VALIDATE_ATTEMPTS = 3
SUBSCRIPTION = "/v1/user/subscription"
CHARACTER_STATS = "/v1/usage/character-stats"
DAY_MS = 86_400_000

log = logging.getLogger("grafient.elevenlabs")

REJECTED_SENTENCE = (
    "ElevenLabs rejected this key (it is unknown or revoked); create one at elevenlabs.io → Developers → API Keys"
)
NO_USAGE_SENTENCE = (
    "ElevenLabs: this key cannot read usage: give it User (Read) and Models (Access), or use an unrestricted key"
)
RETIRED_SENTENCE = (
    "ElevenLabs retired the usage endpoint (/v1/usage/character-stats); Grafient cannot read usage until it is updated"
)


def _refusal(status: int, path: str, message: str) -> ProviderError | None:
    """Our sentences, chosen by `detail.status` (the client gives it as "status: message")."""
    status_word = message.split(":", 1)[0].strip().casefold() if message else ""
    if message:
        log.debug("%s -> HTTP %d: %s", path, status, message)
    if status_word == "missing_permissions" or (status == 403 and "permission" in message.casefold()):
        return MissingPermissions(NO_USAGE_SENTENCE)
    if status_word == "quota_exceeded":
        return AccessDenied("ElevenLabs says this workspace's quota is used up, and refused the request (HTTP 401)")
    if status == 401:
        return KeyRejected(REJECTED_SENTENCE)
    if status in (404, 410) and path == CHARACTER_STATS:
        return RequestRejected(RETIRED_SENTENCE, status=status)
    if status == 403:
        return AccessDenied(f"ElevenLabs refused this key access to {path} (HTTP 403)")
    return RequestRejected(f"the ElevenLabs API refused the request to {path} (HTTP {status})", status=status)


def _ms(day: datetime.date) -> int:
    return (day - datetime.date(1970, 1, 1)).days * DAY_MS


class ElevenLabsClient(HttpProvider):
    """The ElevenLabs calls Grafient makes, with pacing, retries and readable errors."""

    name = "elevenlabs"
    title = providers.title(name)
    key_kind = "API key (usage read)"
    key_help = (
        "An API key of your ElevenLabs workspace: elevenlabs.io → Developers → API Keys (shown once), "
        "unrestricted or with User (Read) and Models (Access). ElevenLabs bills credits, not money: "
        "Grafient's dollars are an estimate (the plan's list price ÷ its credits)."
    )
    unnamed_account = "ElevenLabs' API names no workspace"
    key_placeholder = "sk_… (an ElevenLabs API key)"
    limits = Limits(
        max_window_days=MAX_WINDOW_DAYS,
        history_days={"free": 30, "pro": HISTORY_DAYS, "ultimate": HISTORY_DAYS},
        max_history_days=HISTORY_DAYS,
        settle_days=HISTORY_DAYS,  # every stored day re-priced at today's plan (see the docstring)
        default_rpm=DEFAULT_RPM,
    )
    capabilities = providers.capabilities(name)

    def __init__(self, api_key: str, **options: Unpack[ProviderKeywords]) -> None:
        super().__init__(api_key, **options)
        self._plan: Plan | None = None
        self._reading = asyncio.Lock()

    def wiring(self) -> Wiring:
        return {"headers": {"xi-api-key": self._key}, "refusal": _refusal}

    async def plan(self, attempts: int | None = None) -> Plan:
        """The subscription's tier and credit quota: read once per provider (one sync)."""
        async with self._reading:
            if self._plan is None:
                answer = await self._api.request("GET", SUBSCRIPTION, None, attempts)  # short: read whole
                try:
                    self._plan = read_plan(answer)
                except ShapeError as exc:
                    raise BadResponse(unreadable(exc.detail)) from None
            return self._plan

    async def _stats(
        self, metric: str, first: datetime.date, last: datetime.date, attempts: int | None = None
    ) -> dict[str, dict[datetime.date, Decimal]]:
        params = {
            "start_unix": str(_ms(first)),
            "end_unix": str(_ms(last) + DAY_MS - 1),  # 23:59:59.999 of the last day
            "include_workspace_metrics": "true",
            "breakdown_type": "model",
            "aggregation_interval": "day",
            "metric": metric,
        }
        answer = await self._api.request_json("GET", CHARACTER_STATS, None, attempts, params=params)
        try:
            return read_series(answer, first, last)
        except ShapeError as exc:
            detail = exc.detail
        raise BadResponse(unreadable(detail))

    async def validate(self) -> AccountInfo:
        """The subscription (the key works), then one day of credits (it may read usage)."""
        attempts = min(VALIDATE_ATTEMPTS, self._api.max_attempts)
        await self.plan(attempts)
        yesterday = self.utc_today() - datetime.timedelta(days=1)
        await self._stats("credits", yesterday, yesterday, attempts)
        return AccountInfo(members=1, fingerprint=None)  # no workspace named (unnamed_account)

    def cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        """The UTC days first..last as cost lines (estimated dollars, credits, characters), in one batch.

        The window is checked here, before anything is sent, so a bad window fails at the call."""
        if last < first:
            raise ValueError("last is before first")
        if (last - first).days + 1 > MAX_WINDOW_DAYS:
            raise ValueError(f"the ElevenLabs API is read at most {MAX_WINDOW_DAYS} days per window")
        return self._cost_lines(first, last)

    async def _cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        plan = await self.plan()
        credits = await self._stats("credits", first, last)
        characters = await self._stats("tts_characters", first, last)
        lines = cost_lines(credits, characters, plan)
        if lines:
            yield lines

    def cost_basis(self) -> CostBasis | None:
        """Every ElevenLabs dollar is an estimate: how it was made, as of this sync."""
        if self._plan is None:
            return None
        return self._plan.basis(self.utc_today())
