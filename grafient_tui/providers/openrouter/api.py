"""The OpenRouter API as a Provider: management-key check, workspaces, one /activity call per sync.

Pacing, retries, deadlines, size caps and error sentences come from the shared HTTP client; what
is OpenRouter's own is here: Bearer auth, telling a management key from an inference key (the
same `sk-or-v1-` prefix), and an activity answer that holds the last 30 completed UTC days in
one call, so it is fetched once per provider instance and every window is cut from it.

Choices where OpenRouter's documentation is silent (see also costs.py):
- `/key`'s `label` is a masked copy of the key: it is never read.
- `/key` without `is_management_key` nor `is_provisioning_key` (as booleans): `/credits` decides,
  200 a management key, 403 not.
- The workspace list only names actors and counts them: only id -> name is kept (each name cut as
  it arrives), counted across pages on the entry that passes the bound. When it is refused or malformed (404,
  403, another 4xx, a 200 of the wrong shape), the account is taken to have one workspace and
  activity rows show their workspace id: the spend is still right. When it cannot be reached at
  all (offline, 5xx, 429 every try), the validation or the sync fails like any other call, so a
  passing fault does not rename a month of actors.
- The account's fingerprint is the SHA-256 of its sorted workspace ids (None when none are listed).
  Not `creator_user_id`: that names the person who made the key, and one person may hold keys of a
  personal and an organization account, which are two accounts.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Unpack

from grafient_tui import providers
from grafient_tui.errors import (
    AccessDenied,
    ActivityFormatError,
    BadResponse,
    KeyRejected,
    LimitExceeded,
    NotManagementKey,
    ProviderError,
    RequestRejected,
)
from grafient_tui.providers.base import AccountInfo, CostLine, Limits
from grafient_tui.providers.http_provider import BearerAuth, HttpProvider, ProviderKeywords, Wiring
from grafient_tui.providers.openrouter.costs import (
    MAX_WORKSPACES,
    SAVED_NOTHING,
    Activity,
    cost_lines,
    days_reported,
    workspace_names,
)
from grafient_tui.untrusted import stored_name

DEFAULT_RPM = 20  # undocumented; a sync makes two or three calls
MAX_WINDOW_DAYS = 30  # the activity endpoint's whole history
WORKSPACE_PAGE = 100  # the most `limit` may ask for
MAX_WORKSPACE_PAGES = MAX_WORKSPACES // WORKSPACE_PAGE
VALIDATE_ATTEMPTS = 3

log = logging.getLogger("grafient.openrouter")

WRONG_KIND_SENTENCE = (
    "OpenRouter: this is an inference key; OpenRouter's activity needs a management key "
    "(openrouter.ai/settings/management-keys)"
)
REJECTED_SENTENCE = (
    "the key was rejected by OpenRouter (HTTP 401): it is invalid or revoked; use a current management key "
    "(openrouter.ai/settings/management-keys)"
)


def _refusal(status: int, path: str, message: str) -> ProviderError | None:
    # Our own sentences only: a 401's message may quote what was sent.
    if status == 401:
        return KeyRejected(REJECTED_SENTENCE)
    folded = message.casefold()
    if status == 403 and ("management key" in folded or "provisioning key" in folded):
        return NotManagementKey(WRONG_KIND_SENTENCE)
    return None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class OpenRouterClient(HttpProvider):
    """The OpenRouter calls Grafient makes, with pacing, retries and readable errors."""

    name = "openrouter"
    title = providers.title(name)
    key_kind = "Management key"
    key_help = (
        "A management key of your OpenRouter account: openrouter.ai/settings/management-keys. "
        "Inference keys look the same (sk-or-v1-…) but cannot read activity. "
        "OpenRouter keeps the last 30 completed UTC days; today is never reported."
    )
    key_placeholder = "sk-or-v1-… (a management key)"
    limits = Limits(
        max_window_days=MAX_WINDOW_DAYS,
        history_days={"free": 30, "pro": 30, "ultimate": 30},
        max_history_days=30,
        settle_days=1,
        default_rpm=DEFAULT_RPM,
    )
    capabilities = providers.capabilities(name)

    def __init__(self, api_key: str, **options: Unpack[ProviderKeywords]) -> None:
        super().__init__(api_key, **options)
        # The activity answer covers all 30 days: read once, every window of the sync cut from it.
        self._rows: Activity | None = None
        self._names: dict[str, str] | None = None
        self._fetching = asyncio.Lock()

    def wiring(self) -> Wiring:
        return {"auth": BearerAuth(self._key), "refusal": _refusal}

    # ------------------------------------------------------------------ the key

    async def validate(self) -> AccountInfo:
        """A management key, and the account's workspaces; a ProviderError with one sentence if not."""
        attempts = min(VALIDATE_ATTEMPTS, self._api.max_attempts)
        data = (await self._api.request("GET", "/v1/key", None, attempts)).get("data")
        if not isinstance(data, dict):
            raise BadResponse(
                "the OpenRouter API sent an unexpected answer to /v1/key (no data object); "
                "is GRAFIENT_OPENROUTER_API_URL right?"
            )
        if not await self._is_management_key(data, attempts):
            raise NotManagementKey(WRONG_KIND_SENTENCE)
        workspaces = await self._workspaces(attempts)
        ids = sorted(workspaces) if workspaces is not None else []
        fingerprint = _sha256("\n".join(ids)) if ids else None
        # Every account has at least its default workspace, listed or not.
        return AccountInfo(members=max(1, len(ids)), fingerprint=fingerprint)

    async def _is_management_key(self, data: dict[str, Any], attempts: int) -> bool:
        for flag in ("is_management_key", "is_provisioning_key"):  # the second is the deprecated name
            said = data.get(flag)
            if isinstance(said, bool):
                return said
        try:
            await self._api.request("GET", "/v1/credits", None, attempts)
        except AccessDenied:
            return False
        return True

    async def _workspaces(self, attempts: int | None = None) -> dict[str, str] | None:
        """Workspace id -> name, or None when the list is refused or malformed (see the docstring)."""
        if self._names is not None:
            return self._names
        try:
            listed = await self._list_workspaces(attempts)
        except (RequestRejected, AccessDenied, BadResponse) as exc:
            log.debug("workspace list unavailable (%s); workspaces are shown by id", type(exc).__name__)
            return None
        self._names = workspace_names(listed)
        return self._names

    async def _list_workspaces(self, attempts: int | None) -> dict[str, str]:
        """Workspace id -> name (as stored: cut as it arrives), every page. Only that is kept, and the
        count of distinct ids is checked on the entry that passes MAX_WORKSPACES, whatever the pages
        (a hostile page of a million entries, or a hundred pages of them, never sits in memory)."""
        listed: dict[str, str] = {}
        offset = 0
        for _ in range(MAX_WORKSPACE_PAGES):
            answer = await self._api.request_json(
                "GET", "/v1/workspaces", None, attempts, params={"offset": offset, "limit": WORKSPACE_PAGE}
            )
            page, total = answer.array("data"), answer.get("total_count")
            if page is None:
                raise BadResponse("the OpenRouter API answered /v1/workspaces without a data list")
            entries = new = 0
            for item in page.values():
                entries += 1
                if type(item) is not dict or type(item.get("id")) is not str or not item["id"]:
                    continue  # the list only names actors: an entry without an id names none
                ws_id = stored_name(item["id"])
                if ws_id not in listed:
                    new += 1
                    if len(listed) >= MAX_WORKSPACES:
                        raise LimitExceeded(
                            f"the OpenRouter API listed more than {MAX_WORKSPACES:,} workspaces, more than "
                            "Grafient keeps"
                        )
                name = item.get("name")
                listed[ws_id] = stored_name(name) if type(name) is str and name.strip() else ws_id
            if entries and listed and not new:
                raise BadResponse("the OpenRouter API sent the same page of /v1/workspaces twice")
            offset += entries
            if (
                not entries
                or (type(total) is int and offset >= total)
                or (type(total) is not int and entries < WORKSPACE_PAGE)
            ):
                return listed
        raise LimitExceeded(
            f"the OpenRouter API listed more than {MAX_WORKSPACES:,} workspaces, more than Grafient keeps"
        )

    # ------------------------------------------------------------------ the window

    async def activity(self) -> Activity:
        """The last 30 completed UTC days, summed by day, model and workspace as the rows arrive:
        fetched on the first call only."""
        async with self._fetching:
            if self._rows is None:
                answer = await self._api.request_json("GET", "/v1/activity", params={"group_by": "workspace"})
                data = answer.array("data")
                if data is None:
                    raise ActivityFormatError(
                        f"the OpenRouter API answered /v1/activity without a data list; {SAVED_NOTHING}"
                    )
                activity = Activity()
                for raw in data.values():
                    activity.add(raw)
                if any(workspace is not None for _, _, workspace in activity.sums):
                    await self._workspaces()
                self._rows = activity
            return self._rows

    def cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        """The UTC days first..last (before today) as cost lines, in one batch.

        The window is checked here, before anything is sent, so a bad window fails at the call."""
        if last < first:
            raise ValueError("last is before first")
        if (last - first).days + 1 > MAX_WINDOW_DAYS:
            raise ValueError(f"the OpenRouter API serves at most {MAX_WINDOW_DAYS} days")
        return self._cost_lines(first, last)

    async def _cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        rows = await self.activity()
        lines = cost_lines(rows, first, last, self.utc_today(), self._names or {})
        if lines:
            yield lines

    def days_covered(self, first: datetime.date, last: datetime.date) -> list[datetime.date]:
        if self._rows is None:
            return []  # no answer was read: it speaks for no day (never a run of $0 days)
        return days_reported(self._rows, first, last, self.utc_today())
