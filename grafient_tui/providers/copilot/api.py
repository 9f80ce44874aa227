"""The GitHub Copilot billing API as a Provider: token check, one report per UTC day, the seat list and
each seat holder's own reports for the recent days.

Pacing, retries, deadlines, size caps and error sentences come from the shared HTTP client, including
GitHub's `x-ratelimit-*` rules (HeaderRateLimits: a 403 that is a rate limit is waited out like a 429,
never read as a refused token). What is GitHub's own is here: the headers GitHub requires, our refusal
sentences, the organization or enterprise paths, the two billing eras, and the per-person split.

Choices where GitHub's documentation is silent (see /work/shared/copilot-billing-api.md):
- Windows are 7 days: each day is a call (and, for the 31 latest days, a call per seat holder), so a
  window is a week of calls written in one transaction; a long backfill keeps its progress week by week.
- The seat list is read once per sync. Refused (403, 404, 422) or empty: no day is split, every day is
  `(all users)`, and the integration counts 0 members (the card says so). Malformed: the same, with a
  warning. Unreachable (offline, 5xx, rate limited every try): the sync fails like any call, so a passing
  fault does not turn a month of people into `(all users)`. More than MAX_SPLIT_PEOPLE seat holders: no
  split either (a call per person and day would take hours of GitHub's 5,000 calls an hour).
- A person's month is asked first (one call without `day`) when two or more of its days are wanted: an
  empty month needs no day calls. A login listed twice (an enterprise's organizations) is asked once.
- A 400 for a day older than a day of the same window that answered is GitHub's 24-month edge: the days
  read are kept and `history_edge` tells the engine where history begins. A 400 for a window's newest
  day goes to the engine, which applies the same rule across windows.
- The `Link` header's next page is followed by its `page` number only, on our own path: never to
  another address.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any, Unpack
from urllib.parse import parse_qs, quote, urlsplit

from grafient_tui import __version__, providers
from grafient_tui.errors import (
    AccessDenied,
    BadResponse,
    KeyRejected,
    ProviderError,
    RequestRejected,
    SeatsDenied,
    ShapeError,
)
from grafient_tui.providers.base import AccountInfo, CostLine, Limits
from grafient_tui.providers.copilot.costs import (
    AI_CREDITS,
    SumCount,
    Usage,
    day_lines,
    read_report,
    report_kind,
)
from grafient_tui.providers.copilot.fields import ACCOUNT_FIELDS
from grafient_tui.providers.http import HeaderRateLimits
from grafient_tui.providers.http_provider import HttpProvider, ProviderKeywords, Wiring
from grafient_tui.providers.jsonstream import JsonObject

API_VERSION = "2026-03-10"
DEFAULT_RPM = 240
MAX_WINDOW_DAYS = 7
SPLIT_DAYS = 31  # today and the 30 days before it are split per person
SEATS_PAGE = 100  # the most `per_page` may ask for
MAX_SEAT_PAGES = 500  # 50,000 seats: past that the list pages forever
MAX_SEATS = MAX_SEAT_PAGES * SEATS_PAGE  # distinct seat holders kept (a login each), counted as they arrive
MAX_SPLIT_PEOPLE = 300
MONTH_FIRST = 2  # ask a person's month first when at least this many of its days are wanted
VALIDATE_ATTEMPTS = 3
NOT_SAVED = "nothing from this window was saved"
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")

log = logging.getLogger("grafient.copilot")

REJECTED = "GitHub rejected this token (invalid, expired or revoked)."
ENTERPRISE_DENIED = "Enterprise billing needs a classic token (ghp_…) of an enterprise owner or billing manager."


def owner_fingerprint(kind: str, name: str) -> str:
    """The same organization (or enterprise) gives the same fingerprint, whichever token reads it."""
    return hashlib.sha256(f"github:{kind}:{name.casefold()}".encode()).hexdigest()


class CopilotClient(HttpProvider):
    """The billing calls Grafient makes for one organization or enterprise."""

    name = "copilot"
    title = providers.title(name)
    key_kind = "token of an owner or billing manager"
    key_help = (
        "A GitHub token of an organization owner or billing manager: fine-grained (github_pat_…) with the "
        "organization permission Administration (read), or classic (ghp_…); an enterprise needs a classic "
        "token. The per-person split also needs the seat list: Copilot Business (read), or read:org."
    )
    key_placeholder = "github_pat_… or ghp_… (github.com → Settings → Developer settings)"
    limits = Limits(
        max_window_days=MAX_WINDOW_DAYS,
        history_days={"free": 30, "pro": 730, "ultimate": 730},  # 24 months: GitHub's documented maximum
        max_history_days=730,
        settle_days=3,
        default_rpm=DEFAULT_RPM,
    )
    capabilities = providers.capabilities(name)
    account_fields = ACCOUNT_FIELDS
    api_title = "GitHub"

    def __init__(self, api_key: str, *, account: Mapping[str, str], **options: Unpack[ProviderKeywords]) -> None:
        org, enterprise = account.get("org"), account.get("enterprise")
        if (org is None) == (enterprise is None):
            raise ValueError("exactly one of org and enterprise")
        self.kind = "organization" if org else "enterprise"
        self.owner: str = org or enterprise or ""
        owner = quote(self.owner, safe="")
        self._billing = f"/organizations/{owner}/settings/billing" if org else f"/enterprises/{owner}/settings/billing"
        self._seats_path = (
            f"/orgs/{owner}/copilot/billing/seats" if org else f"/enterprises/{owner}/copilot/billing/seats"
        )
        super().__init__(api_key, **options)
        self._people: list[str] | None = None  # the seat holders' logins, read once per sync
        self._empty_months: dict[tuple[str, int, int], bool] = {}  # (login, year, month) -> no usage
        self._sums: SumCount | None = None  # the window being read: its distinct sums so far
        self._covered: dict[tuple[datetime.date, datetime.date], list[datetime.date]] = {}

    def wiring(self) -> Wiring:
        return {
            "headers": {
                "Authorization": f"Bearer {self._key}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"grafient/{__version__}",  # GitHub refuses a request without one
            },
            "refusal": self._refusal,
            "rate_limits": HeaderRateLimits(clock=self.options.wall_clock),
            "request_id_header": "x-github-request-id",
        }

    # ------------------------------------------------------------------ refusals

    def _refusal(self, status: int, path: str, message: str) -> ProviderError | None:
        """Our sentences only: GitHub's `message` is logged at debug, never shown."""
        if message:
            log.debug("%s -> HTTP %d: %s", path, status, message)
        if status == 401:
            return KeyRejected(REJECTED)
        if path == self._seats_path and status in (403, 404, 422):
            return SeatsDenied(f"this token cannot read the Copilot seat list of {self.owner}")
        if status == 403:
            if self.kind == "enterprise":
                return AccessDenied(ENTERPRISE_DENIED)
            return AccessDenied(
                f"This token cannot read the billing of {self.owner}: use a fine-grained token of {self.owner} "
                "with the organization permission Administration (read), or a classic token of an owner or "
                "billing manager."
            )
        if status == 404:
            return RequestRejected(f"GitHub shows no {self.kind} {self.owner} to this token.", status=404)
        if status == 400:
            return RequestRejected(
                "GitHub refused the billing report request (HTTP 400: a month older than its 24 months, "
                "or a parameter it does not take).",
                status=400,
            )
        return RequestRejected(f"the GitHub API refused the request to {path} (HTTP {status})", status=status)

    # ------------------------------------------------------------------ the token

    async def validate(self) -> AccountInfo:
        """One day (yesterday) of the AI-credit report, which proves billing access; then the seat list,
        whose refusal refuses nothing (the per-person split is lost, the cost is not)."""
        attempts = min(VALIDATE_ATTEMPTS, self._api.max_attempts)
        yesterday = self.utc_today() - datetime.timedelta(days=1)
        data = await self._api.request_json(
            "GET", self._report_path(AI_CREDITS), None, attempts, params=_day(yesterday)
        )
        try:
            read_report(data, year=yesterday.year, month=yesterday.month, day=yesterday.day)
        except ShapeError:
            raise BadResponse(
                "the GitHub API sent an unexpected answer to the billing report; is GRAFIENT_COPILOT_API_URL right?"
            ) from None
        people = await self._seat_holders(attempts)
        return AccountInfo(members=len(people), fingerprint=owner_fingerprint(self.kind, self.owner), name=self.owner)

    async def _seat_holders(self, attempts: int | None = None) -> list[str]:
        """The logins of the current seat holders, each once (case aside); [] when the list is refused,
        malformed or empty. Read once per provider (one sync)."""
        if self._people is not None:
            return self._people
        logins: dict[str, str] = {}  # casefolded -> as sent: a login each, never a page
        page = 1
        for _ in range(MAX_SEAT_PAGES):
            try:
                answer = await self._api.answer_json(
                    "GET", self._seats_path, None, attempts, params={"per_page": SEATS_PAGE, "page": page}
                )
            except SeatsDenied:
                log.info("%s: this token cannot read the Copilot seat list; no day is split per person", self.owner)
                return self._remember_people([])
            seats = answer.data.array("seats")
            if seats is None:
                log.warning("%s: the Copilot seat list came without a seats list; no day is split", self.owner)
                return self._remember_people([])
            empty = True
            for seat in seats.objects():  # one at a time: a page costs its text, not 23 times it
                empty = False
                login = _login_of(seat)
                if login is not None:
                    logins.setdefault(login.casefold(), login)
                    if len(logins) > MAX_SEATS:
                        log.warning("%s: more than %d Copilot seat holders; no day is split", self.owner, MAX_SEATS)
                        return self._remember_people([])
            following = _next_page(answer.headers.get("link"))
            del answer, seats  # the page's text goes before the next one arrives
            if empty or following is None or following <= page:
                return self._remember_people(list(logins.values()))
            page = following
        log.warning("%s: the Copilot seat list still had pages after %d; no day is split", self.owner, MAX_SEAT_PAGES)
        return self._remember_people([])

    def _remember_people(self, people: list[str]) -> list[str]:
        if len(people) > MAX_SPLIT_PEOPLE:
            log.warning(
                "%s: %d seat holders, more than the %d Grafient splits per person; every day is (all users)",
                self.owner,
                len(people),
                MAX_SPLIT_PEOPLE,
            )
            people = []
        self._people = people
        self.members_seen = len(people)
        return people

    # ------------------------------------------------------------------ reports

    def _report_path(self, kind: str) -> str:
        return f"{self._billing}/{kind}/usage"

    async def _report(self, year: int, month: int, day: int | None, *, kind: str, user: str | None = None) -> Usage:
        params: dict[str, Any] = {"year": year, "month": month}
        if day is not None:
            params["day"] = day
        if user is not None:
            params["user"] = user
        data = await self._api.request_json("GET", self._report_path(kind), params=params)
        # A day's report makes the window's sums (counted); a month's only says whether it is empty.
        sums = self._sums if day is not None else None
        try:
            return read_report(data, year=year, month=month, day=day, user=user, sums=sums)
        except ShapeError as exc:
            when = datetime.date(year, month, day).isoformat() if day else f"{year}-{month:02d}"
            whose = " for one person" if user else ""
            raise BadResponse(f"the GitHub API sent {exc.detail} for {when}{whose}; {NOT_SAVED}") from None

    async def _day(self, day: datetime.date, user: str | None = None) -> Usage:
        return await self._report(day.year, day.month, day.day, kind=report_kind(day), user=user)

    async def _person_days(self, login: str, days: list[datetime.date]) -> dict[datetime.date, Usage]:
        """One seat holder's report for each of `days`; a month they did not use (asked first, once per
        sync, when two or more of its days are wanted) needs no day calls."""
        out: dict[datetime.date, Usage] = {}
        by_month: dict[tuple[int, int], list[datetime.date]] = {}
        for day in days:
            by_month.setdefault((day.year, day.month), []).append(day)
        for (year, month), wanted in by_month.items():
            known = self._empty_months.get((login.casefold(), year, month))
            if known is None and len(wanted) >= MONTH_FIRST:
                usage = await self._report(year, month, None, kind=report_kind(wanted[0]), user=login)
                known = self._empty_months[(login.casefold(), year, month)] = not usage
            for day in wanted:
                out[day] = {} if known else await self._day(day, login)
        return out

    # ------------------------------------------------------------------ the Provider's window

    def cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        """The UTC days first..last, read newest first, in one batch. The window is checked here, before
        anything is sent, so a bad window fails at the call."""
        self.check_window(first, last)
        return self._cost_lines(first, last)

    async def _cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        self._covered.pop((first, last), None)
        self._sums = SumCount()
        split_from = self.utc_today() - datetime.timedelta(days=SPLIT_DAYS - 1)
        days = [last - datetime.timedelta(days=i) for i in range((last - first).days + 1)]
        split = [d for d in days if d >= split_from]
        people = await self._seat_holders() if split else []
        person_days = {login: await self._person_days(login, split) for login in people}
        covered: list[datetime.date] = []
        lines: list[CostLine] = []  # one batch for the window: a week of lines is small, and each batch
        for day in days:  # is a progress report the app redraws for
            try:
                whole = await self._day(day)
            except RequestRejected as refused:
                if refused.status != 400 or not covered:
                    raise
                # Older than a day this window read: GitHub keeps nothing before the next day.
                log.debug("%s: the billing report stops after %s (HTTP 400)", self.owner, day)
                self.history_edge = day + datetime.timedelta(days=1)
                break
            split_people = (
                {login: person_days[login][day] for login in people} if people and day >= split_from else None
            )
            covered.append(day)
            try:
                lines += day_lines(day, whole, split_people)
            except ShapeError as exc:
                raise BadResponse(f"the GitHub API sent {exc.detail} for {day.isoformat()}; {NOT_SAVED}") from None
        self._covered[(first, last)] = covered
        if lines:
            yield lines

    def days_covered(self, first: datetime.date, last: datetime.date) -> list[datetime.date]:
        """Every day read: all of the window, or its days after GitHub's history edge."""
        return list(self._covered.get((first, last), []))


def _day(day: datetime.date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def _login_of(seat: JsonObject | str) -> str | None:
    """The seat holder's login, or None for a seat that names no user (skipped, not fatal)."""
    if isinstance(seat, str):
        return None
    assignee = seat.object("assignee")
    if assignee is None or assignee.get("type", "User") != "User":
        return None
    login = assignee.get("login")
    return login if type(login) is str and _LOGIN.fullmatch(login) else None


def _next_page(link: str | None) -> int | None:
    """The page number of the `Link` header's rel="next", if any (the address itself is never followed)."""
    if not link or len(link) > 4096:
        return None
    for part in link.split(","):
        target, _, rest = part.partition(";")
        if re.search(r'rel="?next"?', rest):
            pages = parse_qs(urlsplit(target.strip().strip("<>")).query).get("page", [])
            if pages and pages[0].isascii() and pages[0].isdigit() and len(pages[0]) <= 6:
                return int(pages[0])
    return None
