"""The xAI Management API (billing) as a Provider: key and team check, one usage query per window of at
most 31 UTC days, split by model description label and API key.

Pacing, retries, deadlines, size caps and error sentences come from the shared HTTP client; what is
xAI's own is here: Bearer auth, the team in every path, our refusal sentences, the query body, and
`limitReached` (xAI's cardinality cap: only a subset of the series came back).

Choices where xAI's documentation is silent (see /work/shared/xai-management-api.md):
- A key whose validation says it is scoped to the team (`SCOPE_TEAM`, or no scope said) must name the
  team given (`scopeId`, else the deprecated `teamId`). A key scoped otherwise (an organization's) is
  not compared there: the usage call for the team decides (403 "team mismatch" or 404).
- `limitReached` is never stored: the window is asked again in halves down to one day; a day still over
  the cap is asked by description alone and its whole cost stored under `(all keys)`; still over, the
  window fails with one sentence.
- The members are the API keys that spent yesterday (the validation's day): xAI lists no keys here.
- Two keys of one name are told apart by their id's first 8 characters, over every key one sync meets
  (xAI lists no keys: a key met only in an older window of another sync may be named apart there).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Unpack
from urllib.parse import quote

from grafient_tui import providers
from grafient_tui.errors import (
    AccessDenied,
    BadResponse,
    KeyRejected,
    LimitExceeded,
    ProviderError,
    RequestRejected,
    ShapeError,
)
from grafient_tui.providers.base import AccountInfo, CostLine, Limits
from grafient_tui.providers.http_provider import HttpProvider, ProviderKeywords, Wiring
from grafient_tui.providers.xai.costs import MAX_KEYS, Answer, cost_lines, read_usage, shown_names
from grafient_tui.providers.xai.fields import ACCOUNT_FIELDS

DEFAULT_RPM = 30
MAX_WINDOW_DAYS = 31
VALIDATION = "/auth/management-keys/validation"
MANAGEMENT_PREFIX = "xai-token-"
VALIDATE_ATTEMPTS = 3
NOT_SAVED = "nothing from this window was saved"
GROUP_BY = ["description", "api_key_id"]

log = logging.getLogger("grafient.xai")

WRONG_KEY = (
    "xAI rejected this key: xAI's billing needs a management key (Console → Settings → Management Keys), "
    "not an inference API key."
)
NO_BILLING = "This management key cannot read the team's billing: give it Billing: Read Only."


def team_fingerprint(team_id: str) -> str:
    """The same team gives the same fingerprint, whichever of its management keys reads it."""
    return hashlib.sha256(f"xai:team:{team_id.casefold()}".encode()).hexdigest()


def usage_body(first: datetime.date, last: datetime.date, group_by: list[str]) -> dict[str, Any]:
    """The query for the UTC days first..last (the end is not included: the day after last)."""
    end = last + datetime.timedelta(days=1)
    return {
        "analyticsRequest": {
            "timeRange": {
                "startTime": f"{first.isoformat()} 00:00:00",
                "endTime": f"{end.isoformat()} 00:00:00",
                "timezone": "Etc/GMT",
            },
            "timeUnit": "TIME_UNIT_DAY",
            "values": [{"name": "usd", "aggregation": "AGGREGATION_SUM"}],
            "groupBy": group_by,
            "filters": [],
        }
    }


class XaiClient(HttpProvider):
    """The billing calls Grafient makes for one xAI team."""

    name = "xai"
    title = providers.title(name)
    key_kind = "Management key, Billing: Read Only"
    key_help = (
        "A management key of your xAI team with Billing: Read Only: xAI Console → Settings → Management Keys "
        "(a team admin creates it). Inference API keys (xai-…) cannot read billing. The team ID is in the "
        "Console's team settings."
    )
    key_placeholder = "xai-token-… (Console → Settings → Management Keys)"
    limits = Limits(
        max_window_days=MAX_WINDOW_DAYS,
        history_days={"free": 30, "pro": 90, "ultimate": 90},  # Grafient web's depth: xAI documents none
        max_history_days=90,
        settle_days=3,
        default_rpm=DEFAULT_RPM,
    )
    capabilities = providers.capabilities(name)
    account_fields = ACCOUNT_FIELDS

    def __init__(self, api_key: str, *, account: Mapping[str, str], **options: Unpack[ProviderKeywords]) -> None:
        self.team_id = account["team_id"]
        self._usage_path = f"/v1/billing/teams/{quote(self.team_id, safe='')}/usage"
        self._management_shaped = api_key.startswith(MANAGEMENT_PREFIX)
        super().__init__(api_key, **options)
        self._key_names: dict[str, str] = {}  # key id -> its label's name, every key this sync has met

    def wiring(self) -> Wiring:
        return {"headers": {"Authorization": f"Bearer {self._key}"}, "refusal": self._refusal}

    # ------------------------------------------------------------------ refusals

    def _mismatch(self) -> AccessDenied:
        return AccessDenied(f"This management key does not belong to team {self.team_id}.")

    def _refusal(self, status: int, path: str, message: str) -> ProviderError | None:
        """Our sentences only: xAI's `message` is logged at debug, never shown."""
        if message:
            log.debug("%s -> HTTP %d: %s", path, status, message)
        if status == 401:
            return KeyRejected(WRONG_KEY)
        if status == 403:
            if not self._management_shaped:
                return KeyRejected(WRONG_KEY)
            if "team mismatch" in message.casefold():
                return self._mismatch()
            return AccessDenied(NO_BILLING)
        if status == 404 and path == self._usage_path:
            return self._mismatch()
        return RequestRejected(f"the xAI API refused the request to {path} (HTTP {status})", status=status)

    # ------------------------------------------------------------------ the key

    async def validate(self) -> AccountInfo:
        """The key's own validation (it proves a management key and names its team), then one day of
        usage (yesterday), which proves billing access."""
        attempts = min(VALIDATE_ATTEMPTS, self._api.max_attempts)
        data = await self._api.request("GET", VALIDATION, None, attempts)  # a short answer, read whole
        scope = data.get("scope")
        team = data.get("scopeId") or data.get("teamId")
        if scope in (None, "", "SCOPE_TEAM"):
            if type(team) is not str or not team:
                raise BadResponse(
                    f"the xAI API sent an unexpected answer to {VALIDATION} (no team); is GRAFIENT_XAI_API_URL right?"
                )
            if team.casefold() != self.team_id.casefold():
                raise self._mismatch()
        yesterday = self.utc_today() - datetime.timedelta(days=1)
        answer = await self._usage(yesterday, yesterday, GROUP_BY, attempts, tail="is GRAFIENT_XAI_API_URL right?")
        keys = {key for (_, _, key) in answer.sums if key is not None}
        return AccountInfo(members=len(keys), fingerprint=team_fingerprint(self.team_id))

    # ------------------------------------------------------------------ usage

    async def _usage(
        self,
        first: datetime.date,
        last: datetime.date,
        group_by: list[str],
        attempts: int | None = None,
        *,
        tail: str = NOT_SAVED,
        sums_before: int = 0,
    ) -> Answer:
        data = await self._api.request_json("POST", self._usage_path, usage_body(first, last, group_by), attempts)
        try:
            return read_usage(data, first, last, by_key=len(group_by) == 2, sums_before=sums_before)
        except ShapeError as exc:
            when = first.isoformat() if first == last else f"{first.isoformat()} .. {last.isoformat()}"
            raise BadResponse(f"the xAI API sent {exc.detail} for {when}; {tail}") from None

    def cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        """Every day of first..last (a dense answer: each is a synced day), asked in halves while xAI
        cuts the answer short. The window is checked here, before anything is sent."""
        self.check_window(first, last)
        return self._cost_lines(first, last)

    async def _cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        answers: list[tuple[Answer, bool]] = []  # (answer, read without the key split)
        pending = [(first, last)]
        kept = 0  # the window's sums so far, over its halves: bounded as one window
        while pending:
            start, end = pending.pop()
            answer = await self._usage(start, end, GROUP_BY, sums_before=kept)
            if not answer.limit_reached:
                answers.append((answer, False))
                kept += len(answer.sums)
                continue
            if start < end:  # over xAI's cap: ask again in halves, newest first
                middle = start + datetime.timedelta(days=(end - start).days // 2)
                log.debug("xAI cut %s..%s short (limitReached): asking in halves", start, end)
                pending += [(start, middle), (middle + datetime.timedelta(days=1), end)]
                continue
            whole = await self._usage(start, end, ["description"], sums_before=kept)
            if whole.limit_reached:
                raise BadResponse(
                    f"the xAI API sent only part of {start.isoformat()} even by model alone (limitReached); {NOT_SAVED}"
                )
            log.debug("xAI cut %s short by key: stored under (all keys)", start)
            answers.append((whole, True))
            kept += len(whole.sums)
        # Named once every answer of the window is in, over every key this sync has met: a key keeps
        # one name across the window's halves, and two keys of one name are told apart everywhere.
        for answer, _ in answers:
            for key, name in answer.key_names.items():
                self._key_names.setdefault(key, name)
            if len(self._key_names) > MAX_KEYS:
                raise LimitExceeded(
                    f"the xAI API named more than {MAX_KEYS:,} API keys in one sync, more than Grafient keeps; "
                    f"{NOT_SAVED}"
                )
        shown = shown_names(self._key_names)
        for answer, whole_day in answers:
            try:
                lines = cost_lines(answer, shown, whole_day=whole_day)
            except ShapeError as exc:
                raise BadResponse(f"the xAI API sent {exc.detail} for {first} .. {last}; {NOT_SAVED}") from None
            yield lines
