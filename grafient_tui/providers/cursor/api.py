"""The Cursor Admin API as a Provider: key check, usage events by page, cost lines per window.

Pacing, retries, deadlines, size caps and error sentences come from the shared HTTP client;
what is Cursor's own is here: Basic auth (key as user, empty password), the 401/403 sentences,
newest-first pages without ids, and the limits a window may reach.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx

from grafient_tui import providers
from grafient_tui.errors import BadResponse, EventFormatError, KeyRejected, LimitExceeded, NotEnterprise, ProviderError
from grafient_tui.providers.base import AccountInfo, Billing, CostLine, Limits, MemberSpend
from grafient_tui.providers.cursor.costs import (
    DAY_MS,
    UsageEvent,
    cost_lines,
    day_bounds_ms,
    parse_event,
)
from grafient_tui.providers.cursor.spend import cycle_start, parse_member, total_pages
from grafient_tui.providers.http_provider import HttpProvider, Wiring
from grafient_tui.providers.jsonstream import JsonArray, JsonObject

MAX_WINDOW_DAYS = 30
PAGE_SIZE = 1000
# Limits on what one window of answers may make us hold. A real team's month is far inside
# them; past them the answer is broken or hostile, and the window fails with one sentence.
MAX_PAGES = 1000  # a million events at PAGE_SIZE
MAX_MODELS_PER_WINDOW = 5_000
MAX_MEMBERS_PER_WINDOW = 50_000
MAX_WINDOW_MS = MAX_WINDOW_DAYS * DAY_MS - 1
VALIDATE_ATTEMPTS = 3
MAX_SPEND_PAGES = 1000  # /teams/spend pages read at most: past that the answer is broken or hostile
MALFORMED_ATTEMPTS = 3  # a 200 answer of the wrong shape is asked for again this often

log = logging.getLogger("grafient.cursor")

TeamInfo = AccountInfo  # Cursor's account is a team


NOT_ENTERPRISE_SENTENCE = "Enterprise access required (the Admin API is only available on Cursor Enterprise plans)"


def _refusal(status: int, path: str, message: str) -> ProviderError | None:
    if status == 401:
        detail = f": {message}" if message else ""
        return KeyRejected(
            f"the key was rejected by Cursor (HTTP 401{detail}); "
            "check that it is a current Admin API key of an Enterprise team"
        )
    if status == 403:
        return NotEnterprise(NOT_ENTERPRISE_SENTENCE)
    return None


MAX_TEAM_MEMBERS = MAX_MEMBERS_PER_WINDOW  # in /teams/members: past it the answer is broken or hostile


def team_fingerprint(members: Iterable[Any]) -> str | None:
    """A digest of the team's current members (emails, else ids), or None when the answer names no one.

    Each member is hashed as it arrives and only its digest kept (32 bytes, whatever the answer sent),
    and the count is checked on the member that passes MAX_TEAM_MEMBERS."""
    digests: set[bytes] = set()
    for member in members:
        if not isinstance(member, dict) or member.get("isRemoved") is True:
            continue
        email, member_id = member.get("email"), member.get("id")
        if isinstance(email, str) and email.strip():
            name = "email:" + email.strip().casefold()
        elif isinstance(member_id, (str, int)) and not isinstance(member_id, bool):
            name = f"id:{member_id}"
        else:
            continue
        digests.add(hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest())
        if len(digests) > MAX_TEAM_MEMBERS:
            raise LimitExceeded(
                f"the Cursor API listed more than {MAX_TEAM_MEMBERS:,} team members, more than Grafient keeps"
            )
    if not digests:
        return None
    return hashlib.sha256(b"".join(sorted(digests))).hexdigest()


class CursorClient(HttpProvider):
    """The Admin API calls Grafient makes, with pacing, retries and readable errors."""

    name = "cursor"
    title = providers.title(name)
    key_kind = "Admin API, Enterprise"
    key_help = (
        "An Admin API key of a Cursor Enterprise team: cursor.com/dashboard → Settings → Advanced → "
        "Admin API Keys → Create New API Key (shown once)."
    )
    key_placeholder = "key_… or crsr_… (cursor.com/dashboard → Settings → Advanced)"
    limits = Limits(
        max_window_days=MAX_WINDOW_DAYS,
        history_days={"free": 30, "pro": 365, "ultimate": 365},
        max_history_days=365,
        settle_days=2,
        default_rpm=20,
    )
    capabilities = providers.capabilities(name)

    def wiring(self) -> Wiring:
        return {"auth": httpx.BasicAuth(self._key, ""), "refusal": _refusal}

    # ------------------------------------------------------------------ calls

    async def validate(self) -> TeamInfo:
        """Check the key with the cheapest call there is, and count the team."""
        data = await self._api.request_json(
            "GET", "/teams/members", None, min(VALIDATE_ATTEMPTS, self._api.max_attempts)
        )
        members = data.array("teamMembers")
        # `{}` or any other 200 without the documented list is not a yes: a proxy, a captive
        # portal or a wrong GRAFIENT_CURSOR_API_URL can answer 200 to anything.
        if members is None:
            raise BadResponse(
                "the Cursor API sent an unexpected answer to /teams/members (no teamMembers list); "
                "is GRAFIENT_CURSOR_API_URL right?"
            )
        active = 0

        def counted(items: Iterable[Any]) -> Iterator[Any]:
            nonlocal active
            for member in items:
                if not (isinstance(member, dict) and member.get("isRemoved") is True):
                    active += 1
                yield member

        fingerprint = team_fingerprint(counted(members.values()))
        return TeamInfo(members=active, fingerprint=fingerprint)

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

            events: list[UsageEvent] = []
            append = events.append
            this_page: dict[int, list[UsageEvent]] = {}
            in_previous, in_before, in_this = previous.get, before.get, this_page.get
            count = 0
            for raw in rows.values():
                count += 1
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
            if not count:
                return
            before, previous = previous, this_page
            yield events

            if not self._has_next_page(data.get("pagination"), page, count):
                return
            del data, rows  # the page's text goes before the next one arrives
            if page >= MAX_PAGES:
                raise LimitExceeded(
                    f"the Cursor API still reported more usage events after {MAX_PAGES:,} pages "
                    f"({MAX_PAGES * PAGE_SIZE:,} events) for one window; stopped reading, "
                    "nothing from this window was saved"
                )
            page += 1

    async def _events_page(self, path: str, body: dict[str, Any]) -> tuple[JsonObject, JsonArray]:
        """One page of events, read one event at a time. A 200 answer without a `usageEvents` list is
        malformed, not an empty day: it is asked for again, and if it stays malformed the window
        fails and stores nothing."""
        for attempt in range(1, MALFORMED_ATTEMPTS + 1):
            data = await self._api.request_json("POST", path, body)
            rows = data.array("usageEvents")
            if rows is not None:
                return data, rows
            if attempt < MALFORMED_ATTEMPTS:
                self._api.stats.retries += 1
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

    # ------------------------------------------------------------------ the Provider's window

    def cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        """The UTC days first..last as cost lines, one batch per page of events."""
        start_ms, end_ms = day_bounds_ms(first, last)
        return self._cost_lines(self.usage_event_pages(start_ms, end_ms))

    @staticmethod
    async def _cost_lines(pages: AsyncIterator[list[UsageEvent]]) -> AsyncIterator[list[CostLine]]:
        async for events in pages:
            yield cost_lines(events)

    # ------------------------------------------------------------------ the billing cycle

    async def billing(self) -> Billing:
        """POST /teams/spend, every page (up to `totalPages`): the cycle's start and each member's
        cycle spend and limit. A 200 answer without its `teamMemberSpend` list is malformed."""
        path = "/teams/spend"
        start: datetime.date | None = None
        members: dict[str, MemberSpend] = {}
        page = 1
        while True:
            data = await self._api.request_json("POST", path, {"page": page})
            rows = data.array("teamMemberSpend")
            if rows is None:
                raise BadResponse(f"the Cursor API answered {path} without a teamMemberSpend list")
            if start is None:
                start = cycle_start(data.get("subscriptionCycleStart"))
            count = 0
            for raw in rows.values():
                count += 1
                member = parse_member(raw)
                # Pages can shift while members are added: the first sighting of a member stands.
                if member is not None and member.member not in members:
                    members[member.member] = member
                    if len(members) > MAX_MEMBERS_PER_WINDOW:
                        raise LimitExceeded(
                            f"the Cursor API sent more than {MAX_MEMBERS_PER_WINDOW:,} members "
                            f"on {path}, more than Grafient keeps"
                        )
            pages = total_pages(data)
            if not count or pages is None or page >= pages:
                break
            if page >= MAX_SPEND_PAGES:
                raise LimitExceeded(f"the Cursor API still reported more pages of {path} after {MAX_SPEND_PAGES:,}")
            page += 1
        return Billing(start, tuple(members.values()))
