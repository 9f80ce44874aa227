"""The Anthropic Admin API (usage and cost reports) as a Provider.

Pacing, retries, deadlines, size caps and error sentences come from the shared HTTP client; what
is Anthropic's own is here: the `x-api-key` and `anthropic-version` headers, the 401/403 sentences,
`has_more`/`next_page` paging, workspaces as actors, and the usage report beside the cost report.

Choices where the docs are silent (shared/anthropic-admin-api.md says "undocumented"):
- Pacing: no limit is published; the docs support polling once a minute sustained and short
  bursts while paging. DEFAULT_RPM = 30 with the shared bucket's burst of 30: a 365-day backfill
  is 12 windows of about two calls (cost, usage; one page each at limit=31) plus validation and
  the workspace list, ~30 calls, so it finishes in about a minute, while a routine sync (a
  window or two, 3-5 calls) stays a short burst. GRAFIENT_ANTHROPIC_RPM overrides it.
- Settling: when a day stops changing is undocumented; the last 3 finished days are re-read.
- What a non-Admin key gets is undocumented (401 or 403): both say an Admin key is needed, and a
  key without the `sk-ant-admin` prefix is told it is not one.
- The cost report's `limit` has no documented bound today (older versions: 1-31); we send 31.
- A bucket for a day already received in the same window is malformed: summing it twice would
  double the day, and dropping one would need a guess at which is right.
- A missing or null `has_more` means the last page; a missing or non-USD `currency` is malformed.
- The usage report is read with group_by model and workspace_id. If it fails (anything but the
  key being rejected, 401), the costs still come with their tokens unknown; token rows for a day
  the cost report did not cover are dropped, so both always speak for the same days.
- A workspace id missing from the workspace list is shown as the id itself; the list is read once
  per provider (one sync) and a failure to read it fails the window (names are part of the rows).
- Every 4xx sentence is our own; the server's (scrubbed) `message` is logged at debug only.
- The `request-id` header is not logged: the shared client does not expose response headers.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Unpack

from grafient_tui import providers
from grafient_tui.errors import AccessDenied, BadResponse, KeyRejected, LimitExceeded, ProviderError, RequestRejected
from grafient_tui.providers.anthropic.costs import (
    DEFAULT_WORKSPACE,
    SAVED_NOTHING,
    CostSums,
    TokenSums,
    bucket_day,
    bucket_rows,
    malformed,
    read_page,
    rfc3339,
)
from grafient_tui.providers.base import (
    AccountInfo,
    CostLine,
    Limits,
    distinct_names,
)
from grafient_tui.providers.http_provider import HttpProvider, ProviderKeywords, Wiring
from grafient_tui.untrusted import stored_name

API_VERSION = "2023-06-01"
ADMIN_PREFIX = "sk-ant-admin"
MAX_WINDOW_DAYS = 31
DEFAULT_RPM = 30
PAGE_LIMIT = 31  # daily buckets per page
WORKSPACE_PAGE_LIMIT = 1000
# A 31-day window is one page at PAGE_LIMIT; even one bucket a page would be 31. Past this the
# answer pages forever.
MAX_PAGES = 64
MAX_WORKSPACES = 10_000
VALIDATE_ATTEMPTS = 3

ME = "/v1/organizations/me"
WORKSPACES = "/v1/organizations/workspaces"
COST_REPORT = "/v1/organizations/cost_report"
USAGE_REPORT = "/v1/organizations/usage_report/messages"

log = logging.getLogger("grafient.anthropic")

_CREATE_ONE = "create one in the Claude Console under Settings → Admin keys"


def _refusal_for(is_admin_shaped: bool) -> Callable[[int, str, str], ProviderError | None]:
    """Our sentences for a 4xx. Only whether the key looks like an Admin key is kept, never the key."""

    def refusal(status: int, path: str, message: str) -> ProviderError | None:
        if message:  # already scrubbed of the key by the client; useful to whoever reads the debug log
            log.debug("%s -> HTTP %d: %s", path, status, message)
        if status == 401:
            if not is_admin_shaped:
                return KeyRejected(
                    f"Anthropic rejected this key: it is not an Admin key (sk-ant-admin01-…); {_CREATE_ONE}"
                )
            return KeyRejected(f"Anthropic rejected this Admin key: it is invalid, revoked or expired; {_CREATE_ONE}")
        if status == 403:
            if not is_admin_shaped:
                return AccessDenied(
                    "Anthropic refused this key: it is not an Admin key (sk-ant-admin01-…); "
                    f"usage and cost need an Admin key from the Claude Console, {_CREATE_ONE}"
                )
            return AccessDenied(
                "Anthropic refused this key access to usage and cost: an Admin key from the "
                "Claude Console is needed (Settings → Admin keys)"
            )
        if status == 404:
            return RequestRejected(
                f"the Anthropic API does not know {path} (HTTP 404); is GRAFIENT_ANTHROPIC_API_URL right?", status=404
            )
        return RequestRejected(f"the Anthropic API refused the request to {path} (HTTP {status})", status=status)

    return refusal


def organization_fingerprint(org_id: str) -> str:
    """The same organization gives the same fingerprint, whichever of its Admin keys was used."""
    return hashlib.sha256(org_id.encode("utf-8", "surrogatepass")).hexdigest()


class AnthropicClient(HttpProvider):
    """The Admin API calls Grafient makes, with pacing, retries and readable errors."""

    name = "anthropic"
    title = providers.title(name)
    key_kind = "Admin key, Claude Console"
    key_help = (
        "An Admin key of your Claude Console organization: console.anthropic.com → Settings → "
        "Admin keys (admin role needed; shown once). Admin keys have no scopes; Grafient only reads "
        "usage and cost."
    )
    key_placeholder = "sk-ant-admin01-… (Console → Settings → Admin keys)"
    limits = Limits(
        max_window_days=MAX_WINDOW_DAYS,
        history_days={"free": 30, "pro": 365, "ultimate": 365},
        max_history_days=365,
        settle_days=3,
        default_rpm=DEFAULT_RPM,
    )
    capabilities = providers.capabilities(name)

    def __init__(self, api_key: str, **options: Unpack[ProviderKeywords]) -> None:
        super().__init__(api_key, **options)
        self._workspace_names: dict[str, str] | None = None
        self._covered: dict[tuple[datetime.date, datetime.date], list[datetime.date]] = {}

    def wiring(self) -> Wiring:
        # The key goes in a header, not through httpx auth: the client scrubs every message of it
        # all the same (it redacts by the key it was given, wherever the key is sent).
        return {
            "headers": {"x-api-key": self._key, "anthropic-version": API_VERSION},
            "refusal": _refusal_for(self._key.startswith(ADMIN_PREFIX)),
        }

    # ------------------------------------------------------------------ key check

    async def validate(self) -> AccountInfo:
        """The organization (cheap), then one day of cost (the call that proves access to cost data),
        then its workspaces (the actors, counted with the default workspace)."""
        attempts = min(VALIDATE_ATTEMPTS, self._api.max_attempts)
        me = await self._api.request("GET", ME, None, attempts)
        org_id = me.get("id")
        # `{}` or any other 200 without an id is not a yes: a proxy, a captive portal or a wrong
        # GRAFIENT_ANTHROPIC_API_URL can answer 200 to anything.
        if type(org_id) is not str or not org_id:
            raise BadResponse(
                f"the Anthropic API sent an unexpected answer to {ME} (no organization id); "
                "is GRAFIENT_ANTHROPIC_API_URL right?"
            )
        name = me.get("name")
        today = self.utc_today()
        yesterday = today - datetime.timedelta(days=1)
        probe = await self._api.request(
            "GET",
            COST_REPORT,
            None,
            attempts,
            params=[
                ("starting_at", rfc3339(yesterday)),
                ("ending_at", rfc3339(today)),
                ("bucket_width", "1d"),
                ("limit", "1"),
            ],
        )
        if type(probe.get("data")) is not list:
            raise BadResponse(
                f"the Anthropic API sent an unexpected answer to {COST_REPORT} (no data list); "
                "is GRAFIENT_ANTHROPIC_API_URL right?"
            )
        workspaces = await self._workspaces(attempts, tail="the key could not be checked")
        return AccountInfo(
            members=len(workspaces) + 1,
            fingerprint=organization_fingerprint(org_id),
            name=name if type(name) is str and name.strip() else None,
        )

    async def _workspaces(self, attempts: int | None = None, *, tail: str = SAVED_NOTHING) -> dict[str, str]:
        """Every workspace, archived ones too (their past costs still name them): id -> name. Read once."""
        if self._workspace_names is not None:
            return self._workspace_names
        names: dict[str, str] = {}
        after: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            params: list[tuple[str, str]] = [("include_archived", "true"), ("limit", str(WORKSPACE_PAGE_LIMIT))]
            if after is not None:
                params.append(("after_id", after))
            data = await self._api.request_json("GET", WORKSPACES, None, attempts, params=params)
            rows = data.array("data")
            if rows is None:
                raise BadResponse(f"the Anthropic API sent its workspace list without a data list; {tail}")
            last_id: str | None = None
            # Only id -> name is kept, each name cut as it arrives, and the count is checked on the
            # entry that passes it: a page of a million workspaces never sits in memory.
            for row in rows.values():
                ws_id = row.get("id") if type(row) is dict else None
                if type(ws_id) is not str or not ws_id:
                    raise BadResponse(f"the Anthropic API sent a workspace without an id; {tail}")
                name = row.get("name")
                names[stored_name(ws_id)] = stored_name(name) if type(name) is str and name else stored_name(ws_id)
                last_id = ws_id
                if len(names) > MAX_WORKSPACES:
                    raise LimitExceeded(
                        f"the Anthropic API listed more than {MAX_WORKSPACES:,} workspaces, "
                        f"more than Grafient keeps; {tail}"
                    )
            if data.get("has_more") is not True:
                self._workspace_names = distinct_names(names, (DEFAULT_WORKSPACE,))
                return self._workspace_names
            after = data.get("last_id")
            if type(after) is not str or not after:
                after = last_id
            if after is None or after in seen:
                raise BadResponse(f"the Anthropic API sent a workspace list that pages without moving on; {tail}")
            seen.add(after)
        raise LimitExceeded(f"the Anthropic API still listed more workspaces after {MAX_PAGES} pages; {tail}")

    # ------------------------------------------------------------------ reports

    async def _buckets(
        self, path: str, report: str, first: datetime.date, last: datetime.date, group_by: tuple[str, ...]
    ) -> AsyncIterator[tuple[datetime.date, Iterator[Any]]]:
        """Every (day, rows) bucket of a report for first..last, page after page; the rows are read one
        at a time (see jsonstream), so a page costs its text, not 23 times it."""
        base: list[tuple[str, str]] = [
            ("starting_at", rfc3339(first)),
            ("ending_at", rfc3339(last + datetime.timedelta(days=1))),
            ("bucket_width", "1d"),
            *(("group_by[]", g) for g in group_by),
            ("limit", str(PAGE_LIMIT)),
        ]
        seen: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params = base if cursor is None else [*base, ("page", cursor)]
            page = read_page(await self._api.request_json("GET", path, None, params=params), report, seen)
            for bucket in page.buckets.objects():
                day = bucket_day(bucket, first, last, report)
                assert not isinstance(bucket, str)  # bucket_day refused it
                yield day, bucket_rows(bucket, report)
            if page.next_page is None:
                return
            cursor = page.next_page
            del page  # the page's text goes before the next one arrives (its last bucket too)
            bucket = ""
        raise LimitExceeded(
            f"the Anthropic API still had more of its {report} after {MAX_PAGES} pages for one window; {SAVED_NOTHING}"
        )

    async def _cost_sums(self, first: datetime.date, last: datetime.date) -> tuple[CostSums, set[datetime.date]]:
        sums, covered = CostSums(), set()
        async for day, rows in self._buckets(COST_REPORT, "cost report", first, last, ("description", "workspace_id")):
            if day in covered:
                raise malformed("cost report", f"the day {day.isoformat()} twice")
            covered.add(day)
            for row in rows:
                sums.add_row(day, row)
        return sums, covered

    async def _token_sums(self, first: datetime.date, last: datetime.date) -> TokenSums | None:
        """The window's tokens, or None when the usage report could not be read (the cost still counts)."""
        sums, covered = TokenSums(), set()
        try:
            async for day, rows in self._buckets(USAGE_REPORT, "usage report", first, last, ("model", "workspace_id")):
                if day in covered:
                    raise malformed("usage report", f"the day {day.isoformat()} twice")
                covered.add(day)
                for row in rows:
                    sums.add_row(day, row)
        except KeyRejected:
            raise  # the key itself is gone: nothing else of this sync will work either
        except ProviderError as exc:
            log.debug("usage report for %s to %s not read, tokens stay unknown: %s", first, last, exc.sentence)
            return None
        return sums

    def cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        """The UTC days first..last: the cost lines, then the token lines (no money) in a batch of their own.

        The window is checked here, before anything is sent, so a bad window fails at the call."""
        if last < first:
            raise ValueError("last is before first")
        if (last - first).days + 1 > MAX_WINDOW_DAYS:
            raise ValueError(f"the Anthropic API is read at most {MAX_WINDOW_DAYS} days per window")
        return self._cost_lines(first, last)

    async def _cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        self._covered.pop((first, last), None)
        names = await self._workspaces()
        costs, covered = await self._cost_sums(first, last)
        tokens = await self._token_sums(first, last)
        self._covered[(first, last)] = sorted(covered)
        yield costs.lines(names, tokens_known=tokens is not None)
        if tokens is not None:
            token_lines = tokens.lines(names, covered)
            if token_lines:
                yield token_lines

    def days_covered(self, first: datetime.date, last: datetime.date) -> list[datetime.date]:
        """The days that had a bucket in the cost report (empty ones too: $0 days). A day of the window
        without a bucket stays as it was ("never fetched", or its earlier figures)."""
        return list(self._covered.get((first, last), []))
