"""An in-memory GitHub organization (or enterprise) with Copilot usage, served as an httpx handler: the
demo's account and the tests'.

It answers as shared/copilot-billing-api.md says GitHub does: a token as `Bearer` or `token` (401 "Bad
credentials" otherwise), a `User-Agent` required (403 without), the API versions GitHub serves (400 for
another), the premium-request report before 2026-06-01 and the AI-credit report from then on (each
empty outside its era), `year`/`month`/`day`/`user` filters, 400 for a month older than 24 months, the
seat list paged by `page`/`per_page` with a `Link` header, `x-ratelimit-*` headers on every answer, and
refusals by status: 404 for an organization the token cannot see, 403 for a token without billing access
(fine-grained tokens on enterprise billing too). Amounts are JSON numbers written from exact decimals
(exponent forms included), never through a binary float.
"""

from __future__ import annotations

import datetime
import random
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from grafient_tui.providers.wire import exact_json

AI_CREDITS_FROM = datetime.date(2026, 6, 1)
VERSIONS = ("2026-03-10", "2022-11-28")
HISTORY_MONTHS = 24
RATE_LIMIT = 5000
AI_CREDIT_PRICE = Decimal("0.01")
PREMIUM_PRICE = Decimal("0.04")
_DOCS = "https://docs.github.com/rest/billing/usage"


@dataclass(frozen=True)
class Item:
    """One usage item of one person (or of nobody) on one day, as GitHub's reports carry them."""

    product: str
    sku: str
    model: str
    unit: str  # "ai-credits" | "requests"
    price: Decimal
    quantity: Decimal  # gross quantity
    gross: Decimal
    discount: Decimal
    net: Decimal


@dataclass
class Seat:
    login: str
    organization: str = "acme"
    plan: str = "business"


# day -> login (None: usage attributed to nobody) -> items
UsageData = dict[datetime.date, dict[str | None, list[Item]]]


def _error(status: int, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json={"message": message, "documentation_url": _DOCS, "status": str(status)}, headers=headers
    )


@dataclass
class FakeCopilotAccount:
    """One organization or enterprise seen through one token.

    `usage` holds every person's items per day (login None: usage nobody's seat covers); the reports
    sum them by product, SKU and model. `seats` are the current seat holders, as the seat list names
    them (an enterprise lists a person once per organization). `today` is GitHub's UTC today (None: the
    clock's). `token` is "classic" or "fine-grained"; `billing_access` False answers billing with 403;
    `seats_access` is "ok", "denied" (403) or "disabled" (422: Copilot seats not listed)."""

    api_key: str
    org: str | None = "acme"
    enterprise: str | None = None
    usage: UsageData = field(default_factory=dict)
    seats: list[Seat] = field(default_factory=list)
    today: datetime.date | None = None
    token: str = "fine-grained"
    billing_access: bool = True
    seats_access: str = "ok"
    remaining: int = RATE_LIMIT
    reset: int = 2_000_000_000
    calls: list[httpx.Request] = field(default_factory=list)

    def utc_today(self) -> datetime.date:
        return self.today or datetime.datetime.now(datetime.UTC).date()

    # ------------------------------------------------------------------ serving

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        self.remaining = max(0, self.remaining - 1)
        answer = self._answer(request)
        answer.headers.update(
            {
                "x-ratelimit-limit": str(RATE_LIMIT),
                "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-used": str(RATE_LIMIT - self.remaining),
                "x-ratelimit-reset": str(self.reset),
                "x-ratelimit-resource": "core",
                "x-github-request-id": f"C0DE:{len(self.calls):04X}",
            }
        )
        return answer

    def _answer(self, request: httpx.Request) -> httpx.Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or token != self.api_key:
            return _error(401, "Bad credentials")
        if not request.headers.get("user-agent"):
            return _error(
                403,
                "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
            )
        if request.headers.get("x-github-api-version", VERSIONS[0]) not in VERSIONS:
            return _error(400, "Unsupported 'X-GitHub-Api-Version' header")
        if request.method != "GET":
            return _error(404, "Not Found")
        path = request.url.path
        report = re.fullmatch(
            r"/(organizations|enterprises)/([^/]+)/settings/billing/(ai_credit|premium_request)/usage", path
        )
        if report:
            return self._report(report.group(1), report.group(2), report.group(3), request.url.params)
        seats = re.fullmatch(r"/(orgs|enterprises)/([^/]+)/copilot/billing/seats", path)
        if seats:
            return self._seats(seats.group(1), seats.group(2), request.url.params)
        return _error(404, "Not Found")

    def _owner_is(self, kind: str, name: str) -> bool:
        own = self.org if kind in ("organizations", "orgs") else self.enterprise
        return own is not None and own.casefold() == name.casefold()

    def _report(self, kind: str, owner: str, report: str, params: httpx.QueryParams) -> httpx.Response:
        if not self._owner_is(kind, owner):
            return _error(404, "Not Found")
        if kind == "enterprises" and self.token != "classic":
            return _error(403, "Resource not accessible by personal access token")
        if not self.billing_access:
            return _error(
                403,
                "Resource not accessible by personal access token",
                **{"X-Accepted-GitHub-Permissions": "administration=read"},
            )
        today = self.utc_today()
        try:
            year = int(params.get("year", today.year))
            month = int(params["month"]) if "month" in params else None
            day = int(params["day"]) if "day" in params else None
            if month is None and day is not None:
                raise ValueError
            first = datetime.date(year, month or 1, day or 1)
        except (ValueError, KeyError):
            return _error(400, "Invalid request parameters")
        oldest = _month_start(today, HISTORY_MONTHS - 1)
        if first < oldest:
            return _error(400, "Usage data is only available for the past 24 months")
        if day is not None:
            last = first
        elif month is not None:
            last = _month_end(first)
        else:
            last = datetime.date(year, 12, 31)
        user = params.get("user")
        items = list(self._items(first, last, report, user))
        period: dict[str, int] = {"year": year}
        if month is not None:
            period["month"] = month
        if day is not None:
            period["day"] = day
        body: dict[str, Any] = {"timePeriod": period}
        body["organization" if kind == "organizations" else "enterprise"] = owner
        if user is not None:
            body["user"] = user
        body["usageItems"] = [_wire(item) for item in _summed(items)]
        return httpx.Response(200, content=exact_json(body), headers={"content-type": "application/json"})

    def _items(self, first: datetime.date, last: datetime.date, report: str, user: str | None) -> Iterable[Item]:
        days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
        for day in days:
            people = self.usage.get(day)
            if people is None or (report == "ai_credit") != (day >= AI_CREDITS_FROM):
                continue
            for login, items in people.items():
                if user is None or (login is not None and login.casefold() == user.casefold()):
                    yield from items

    def _seats(self, kind: str, owner: str, params: httpx.QueryParams) -> httpx.Response:
        if not self._owner_is(kind, owner):
            return _error(404, "Not Found")
        if self.seats_access == "denied":
            return _error(403, "Resource not accessible by personal access token")
        if self.seats_access == "disabled":
            return _error(422, "Copilot Business is not enabled for this organization")
        try:
            page = int(params.get("page", 1))
            per_page = int(params.get("per_page", 50))
        except ValueError:
            return _error(400, "Invalid request parameters")
        if page < 1 or not 1 <= per_page <= 100:
            return _error(422, "Invalid request parameters")
        chunk = self.seats[(page - 1) * per_page : page * per_page]
        people = len({s.login.casefold() for s in self.seats})
        headers = {}
        if page * per_page < len(self.seats):
            base = f"https://api.github.com/{kind}/{owner}/copilot/billing/seats"
            headers["link"] = (
                f'<{base}?per_page={per_page}&page={page + 1}>; rel="next", '
                f'<{base}?per_page={per_page}&page={-(-len(self.seats) // per_page)}>; rel="last"'
            )
        body = {"total_seats": people, "seats": [_seat(s) for s in chunk]}
        return httpx.Response(200, json=body, headers=headers)


def _month_start(day: datetime.date, back: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def _month_end(first: datetime.date) -> datetime.date:
    return _month_start(first, -1) - datetime.timedelta(days=1)


def _summed(items: Iterable[Item]) -> list[Item]:
    """One item per product, SKU and model, as GitHub's reports have them."""
    sums: dict[tuple[str, str, str], Item] = {}
    for item in items:
        key = (item.product, item.sku, item.model)
        seen = sums.get(key)
        sums[key] = (
            item
            if seen is None
            else Item(
                item.product,
                item.sku,
                item.model,
                item.unit,
                item.price,
                seen.quantity + item.quantity,
                seen.gross + item.gross,
                seen.discount + item.discount,
                seen.net + item.net,
            )
        )
    return list(sums.values())


def _wire(item: Item) -> dict[str, Any]:
    def quantity(amount: Decimal) -> Decimal:
        return amount / item.price

    return {
        "product": item.product,
        "sku": item.sku,
        "model": item.model,
        "unitType": item.unit,
        "pricePerUnit": item.price,
        "grossQuantity": item.quantity,
        "grossAmount": item.gross,
        "discountQuantity": quantity(item.discount),
        "discountAmount": item.discount,
        "netQuantity": quantity(item.net),
        "netAmount": item.net,
    }


def _seat(seat: Seat) -> dict[str, Any]:
    return {
        "created_at": "2025-03-03T00:00:00-08:00",
        "updated_at": "2025-03-03T00:00:00-08:00",
        "pending_cancellation_date": None,
        "last_activity_at": "2026-12-06T00:00:00Z",
        "last_activity_editor": "vscode/1.107.0/copilot-chat/0.35.1",
        "plan_type": seat.plan,
        "organization": {"login": seat.organization},
        "assignee": {"login": seat.login, "id": zlib.crc32(seat.login.encode()) % 10**7, "type": "User"},
        "assigning_team": None,
    }


# --------------------------------------------------------------------------- data

# Display names as GitHub sends them, with each one's premium-request multiplier (0: included models).
MODELS: dict[str, Decimal] = {
    "Claude Sonnet 4.6": Decimal(1),
    "Auto: Claude Sonnet 4.6": Decimal("0.9"),
    "GPT-5.2": Decimal(1),
    "GPT-5 mini": Decimal(0),
    "Claude Opus 4.5": Decimal(3),
    "Gemini 3 Pro": Decimal(1),
    "Claude Haiku 4.5": Decimal("0.33"),
}
# A seat's monthly allowance, pooled: AI credits ($19 a Business seat) and premium requests (300 a seat).
ALLOWANCE_AI_CREDITS = Decimal(19)
ALLOWANCE_PREMIUM = 300 * PREMIUM_PRICE


def raw_item(rng: random.Random, day: datetime.date, model: str, dollars: float) -> Item:
    """About `dollars` of `model` on `day`, in the report of its era, all of it billed (net = gross) until
    `apply_allowance` moves the month's included part into the discount. AI credits with 6 or 7 decimals;
    premium requests × the model's multiplier (0 for included models: an item worth $0)."""
    if day >= AI_CREDITS_FROM:
        credits = Decimal(round(dollars * 100, rng.choice((4, 6, 7)))).quantize(Decimal("1E-7")).normalize()
        gross = credits * AI_CREDIT_PRICE
        product, sku, unit, price, quantity = "Copilot", "Copilot AI Credits", "ai-credits", AI_CREDIT_PRICE, credits
    else:
        requests = max(1, round(dollars / 0.04))
        quantity = (requests * MODELS[model]).normalize()
        gross = quantity * PREMIUM_PRICE
        sku = "Copilot Coding Agent Premium Request" if rng.random() < 0.15 else "Copilot Premium Request"
        product, unit, price = "Copilot", "requests", PREMIUM_PRICE
    return Item(product, sku, model, unit, price, quantity, gross, Decimal(0), gross)


def apply_allowance(usage: UsageData, seats_by_month: Mapping[tuple[int, int], int]) -> UsageData:
    """Each month's pooled allowance (seats × the era's allowance) taken by the month's items in order
    (day, person, model): what it covers is discount, the rest is net. Fully covered "Auto:" items get a
    further discount of 0.7 %, so their discount exceeds their gross as in GitHub's live answers."""
    out: UsageData = {}
    pool: dict[tuple[int, int], Decimal] = {}
    for day in sorted(usage):
        month = (day.year, day.month)
        if month not in pool:
            each = ALLOWANCE_AI_CREDITS if day >= AI_CREDITS_FROM else ALLOWANCE_PREMIUM
            pool[month] = each * seats_by_month.get(month, 1)
        people: dict[str | None, list[Item]] = {}
        for login in sorted(usage[day], key=lambda x: (x is None, x or "")):
            items = []
            for item in usage[day][login]:
                covered = min(item.gross, pool[month])
                pool[month] -= covered
                net = item.gross - covered
                discount = covered
                if net == 0 and item.model.startswith("Auto:"):
                    discount = (covered * Decimal("1.007")).quantize(Decimal("1E-9"))
                items.append(
                    Item(
                        item.product,
                        item.sku,
                        item.model,
                        item.unit,
                        item.price,
                        item.quantity,
                        item.gross,
                        discount,
                        net,
                    )
                )
            people[login] = items
        out[day] = people
    return out


def make_usage(
    *,
    seed: int,
    start: datetime.date,
    days: int,
    people: list[str | None],
    models: list[str] | None = None,
    per_day: int = 3,
    seats: int = 3,
) -> UsageData:
    """Deterministic usage for every day from `start`: `per_day` items a day spread over `people` (None
    is usage nobody's seat covers) and `models`, priced in each day's era, the monthly allowance of
    `seats` seats applied."""
    rng = random.Random(seed)
    models = models or list(MODELS)
    usage: UsageData = {}
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        today: dict[str | None, list[Item]] = {}
        for _ in range(per_day):
            login = rng.choice(people)
            today.setdefault(login, []).append(raw_item(rng, day, rng.choice(models), rng.uniform(0.05, 9.0)))
        usage[day] = today
    months = {(d.year, d.month) for d in usage}
    return apply_allowance(usage, dict.fromkeys(months, seats))


DEMO_PEOPLE = [
    "maya-chen",
    "liam-okafor",
    "sofia-garcia",
    "noah-muller",
    "ava-rossi",
    "kenji-tanaka",
    "priya-patel",
    "lucas-silva",
    "amara-novak",
    "jonas-kim",
    "elena-rossi",
    "omar-garcia",
]


def demo_account(api_key: str, today: datetime.date, seed: int) -> FakeCopilotAccount:
    """A 12-seat organization for the demo, "acme": two years of Copilot (a demo's: it does not stop at
    the day premium-request billing began, so a demo dated then still has a history to show), busier on
    weekdays, a few heavy users of the dear models, two people whose seats ended (their usage is "(other
    usage)"), and more of the bill on demand late in each month when the pooled allowance runs out.
    Seeded and deterministic."""
    rng = random.Random(seed)
    begin = today - datetime.timedelta(days=730)
    weights = {login: 1 / (i + 1) ** 0.7 for i, login in enumerate(DEMO_PEOPLE)}
    gone = ["dan-ito", "rosa-lima"]  # seats ended a few weeks ago
    heavy = {"maya-chen": "Claude Opus 4.5", "kenji-tanaka": "GPT-5.2"}
    usage: UsageData = {}
    day = begin
    while day <= today:
        weekend = day.weekday() >= 5
        growth = 1 + (day - begin).days / 400
        people: dict[str | None, list[Item]] = {}
        active = [p for p in DEMO_PEOPLE if rng.random() < (0.15 if weekend else 0.75)]
        if day < today - datetime.timedelta(days=21):
            active += [p for p in gone if rng.random() < (0.1 if weekend else 0.6)]
        for login in active:
            for _ in range(rng.randint(1, 3)):
                model = heavy.get(login) if rng.random() < 0.3 else rng.choice(list(MODELS))
                dollars = rng.uniform(0.1, 2.2) * weights.get(login, 0.5) * growth * 1.6
                people.setdefault(login, []).append(raw_item(rng, day, model or "Claude Sonnet 4.6", dollars))
        if rng.random() < 0.2:  # usage nobody's seat covers (a reassigned seat, an app)
            people.setdefault(None, []).append(raw_item(rng, day, "GPT-5 mini", rng.uniform(0.01, 0.4)))
        usage[day] = people
        day += datetime.timedelta(days=1)
    months = {(d.year, d.month) for d in usage}
    usage = apply_allowance(usage, dict.fromkeys(months, len(DEMO_PEOPLE)))
    return FakeCopilotAccount(
        api_key=api_key, org="acme", usage=usage, seats=[Seat(p) for p in DEMO_PEOPLE], today=today, token="classic"
    )
