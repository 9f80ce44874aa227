"""The contract every registered provider keeps, run against its in-memory fake.

Parametrised over the registry, so a new provider is tested as soon as it is registered, and
fails here until it has a kit: a fake account with usage, and the expected figures computed
independently of the provider's code (for Cursor, tests/oracle.py, from the documented rules).
The network is the fake served by httpx.MockTransport; nothing of ours is patched.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from random import Random

import httpx
import pytest

from grafient_tui import providers
from grafient_tui.config import Settings
from grafient_tui.providers.anthropic.fake import make_usage
from grafient_tui.providers.base import AccountInfo, CostLine, Provider
from grafient_tui.providers.copilot.fake import Seat as CopilotSeat
from grafient_tui.providers.copilot.fake import make_usage as make_copilot_usage
from grafient_tui.providers.cursor.fake import make_events
from grafient_tui.providers.elevenlabs.fake import make_usage as make_voice_usage
from grafient_tui.providers.google.fake import make_rows as make_export_rows
from grafient_tui.providers.google.fake import service_account_key
from grafient_tui.providers.http import ProviderError
from grafient_tui.providers.openrouter.fake import make_rows, workspace
from grafient_tui.providers.xai.fake import ApiKey as XaiKey
from grafient_tui.providers.xai.fake import make_spend as make_xai_spend
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.vault import Vault
from grafient_tui.sync.engine import run_sync
from tests import oracle
from tests.conftest import GOOD_KEY

TODAY = date(2026, 3, 12)
NOW = datetime.combine(TODAY, time(10, 30), UTC)

# (day, model, actor, on_demand) -> [cost, requests, units, input, output, cache read, cache write]
Sums = dict[tuple[date, str, str, bool], list[int | None]]


@dataclass
class Kit:
    good_key: str
    wrong_key: str
    # A fake account with usage on every day from `first` - 1 to `last` + 1, and its member count.
    make_fake: Callable[[str, date, date], tuple[object, int]]
    # The sums the provider must report for first..last, computed without the provider's code.
    expected: Callable[[object, date, date], Sums]
    # The store's [days, models, members] after syncing first..last (see tests/oracle.py).
    expected_store: Callable[[object, date, date, date], list[list[tuple]]]
    # The integration's account settings besides the key (providers/base.AccountField), if any.
    account: dict[str, str] = field(default_factory=dict)
    # The API also rate-limits with 403 (GitHub): the fault run sends those too, and they must be retried.
    rate_limit_403: bool = False


def _cursor_fake(key: str, first: date, last: date) -> tuple[object, int]:
    events = make_events(
        seed=5,
        start=first - timedelta(days=1),
        days=(last - first).days + 3,
        per_day=12,
        members=["ana@acme.dev", "bo@acme.dev", "cy@acme.dev"],
        models=["gpt-5", "o3", "default"],
    )
    team = providers.fake("cursor")(api_key=key, events=events)
    return team, len(team.members)


def _cursor_expected(team: object, first: date, last: date) -> Sums:
    """Tokens from the events with tokenUsage only: None where no event of the key has any."""
    sums: Sums = defaultdict(lambda: [0, 0, 0, None, None, None, None])
    for raw in team.events:  # type: ignore[attr-defined]
        day = oracle.event_day(raw)
        if not first <= day <= last:
            continue
        s = sums[(day, raw.get("model") or "unknown", raw.get("userEmail") or "unattributed", oracle._chargeable(raw))]
        for i, value in enumerate((oracle.micro(oracle.event_cents(raw)), 1, oracle._units_micro(raw))):
            s[i] += value
        if raw.get("tokenUsage") is not None:
            for i, value in enumerate(oracle._tokens(raw)):  # input, output, cache read, cache write
                s[3 + i] = (s[3 + i] or 0) + value
    return dict(sums)


def _cursor_store(team: object, first: date, last: date, today: date) -> list[list[tuple]]:
    return oracle.expected_snapshot(team.events, first=first, last=last, today=today)  # type: ignore[attr-defined]


_ANTHROPIC_WORKSPACES = [
    {"id": "wrkspc_01Research", "name": "Research"},
    {"id": "wrkspc_01Archived", "name": "Old bot", "archived_at": "2026-01-05T00:00:00Z"},
]


def _anthropic_fake(key: str, first: date, last: date) -> tuple[object, int]:
    # Usage in the default workspace (null id), in two listed workspaces (one archived) and in one
    # the list does not name; the members are the listed workspaces and the default one.
    costs, tokens = make_usage(
        seed=11,
        start=first - timedelta(days=1),
        days=(last - first).days + 3,
        workspaces=[None, "wrkspc_01Research", "wrkspc_01Archived", "wrkspc_01Unlisted"],
    )
    org = providers.fake("anthropic")(api_key=key, workspaces=_ANTHROPIC_WORKSPACES, costs=costs, tokens=tokens)
    return org, len(_ANTHROPIC_WORKSPACES) + 1


def _anthropic_expected(org: object, first: date, last: date) -> Sums:
    """shared/anthropic-admin-api.md, from the raw rows: Σ per day, model (else cost_type, else "other")
    and workspace name ("Default workspace" for null, the id when unlisted) of each Decimal(amount)
    in micro-cents, rounded half-even once per row (the money parser's rule); tokens from the usage
    rows (both cache writes added); requests unknown."""
    names = {w["id"]: w["name"] for w in _ANTHROPIC_WORKSPACES}

    def actor(row: dict) -> str:
        ws = row.get("workspace_id")
        return "Default workspace" if ws is None else names.get(ws, ws)

    cents: dict[tuple, int] = defaultdict(int)
    tokens: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for day, rows in org.costs.items():  # type: ignore[attr-defined]
        if first <= day <= last:
            for row in rows:
                model = row.get("model") or row.get("cost_type") or "other"
                micro = (Decimal(row["amount"]) * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
                cents[(day, model, actor(row), False)] += int(micro)
    for day, rows in org.tokens.items():  # type: ignore[attr-defined]
        if first <= day <= last:
            for row in rows:
                t = tokens[(day, row.get("model") or "other", actor(row), False)]
                cache = row.get("cache_creation") or {}
                for i, value in enumerate(
                    (
                        row["uncached_input_tokens"],
                        row["output_tokens"],
                        row["cache_read_input_tokens"],
                        cache["ephemeral_5m_input_tokens"] + cache["ephemeral_1h_input_tokens"],
                    )
                ):
                    t[i] += value
    sums: Sums = {}
    with localcontext() as ctx:
        ctx.prec = 200
        for key in cents.keys() | tokens.keys():
            sums[key] = [cents.get(key, 0), None, 0, *tokens.get(key, [None] * 4)]  # no usage row: unknown
    return sums


def _anthropic_store(org: object, first: date, last: date, today: date) -> list[list[tuple]]:
    """Every day has a bucket in the fake, so every day is stored; the on-demand split, requests,
    reasoning and BYOK are not applicable or unknown (NULL)."""
    sums = _anthropic_expected(org, first, last)
    days: dict[date, list] = defaultdict(lambda: [0, None, None, None, None])
    models: dict[tuple[date, str], list] = defaultdict(lambda: [0, None, None, None, None])
    members: dict[tuple[date, str], int] = defaultdict(int)
    for (day, model, actor, _), (cost, _, _, *toks) in sums.items():
        for target in (days[day], models[(day, model)]):
            target[0] += cost
            for i, value in enumerate(toks):  # a key without usage rows adds nothing to the tokens
                if value is not None:
                    target[1 + i] = (target[1 + i] or 0) + value
        members[(day, actor)] += cost
    day_rows = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        cost, *toks = days.get(day, [0, 0, 0, 0, 0])
        day_rows.append((day, cost, None, None, None, 0, *toks, None, None, day < today))
    model_rows = sorted((day, model, m[0], None, *m[1:], None) for (day, model), m in models.items())
    member_rows = sorted((day, actor, cost, None) for (day, actor), cost in members.items())
    return [day_rows, model_rows, member_rows]


_OPENAI_PROJECTS = [
    {"id": "proj_4fQa", "name": "Chat assistant"},
    {"id": "proj_9Kde", "name": "Batch evals"},
    {"id": "proj_0ld1", "name": "Retired pilot", "status": "archived", "archived_at": 1_760_000_000},
]
_OPENAI_NAMES = {p["id"]: p["name"] for p in _OPENAI_PROJECTS}


def _openai_fake(key: str, first: date, last: date) -> tuple[object, int]:
    """Costs by line item and project (dollars with up to 12 decimals, some as strings, some without an
    amount) and completions usage by model and project, on every day from first - 1 to last + 1."""
    rng = Random(11)
    costs: dict[date, list[dict]] = {}
    usage: dict[date, list[dict]] = {}
    projects = [p["id"] for p in _OPENAI_PROJECTS] + [None]
    for offset in range(-1, (last - first).days + 2):
        day = first + timedelta(days=offset)
        rows = []
        for line_item in (
            "gpt-5-2025-08-07, input",
            "gpt-5-2025-08-07, output",
            "o3, cached input, batch",
            "Web search tool calls",
            None,
        ):
            for project in rng.sample(projects, 2):
                value: object = Decimal(rng.randrange(10**7)).scaleb(-rng.choice((2, 6, 12)))
                if rng.random() < 0.1:
                    value = str(value)
                amount = None if rng.random() < 0.05 else {"value": value, "currency": rng.choice(("usd", "USD"))}
                rows.append(
                    {
                        "object": "organization.costs.result",
                        "amount": amount,
                        "line_item": line_item,
                        "project_id": project,
                        "api_key_id": None,
                        "quantity": rng.randrange(1000),
                    }
                )
        costs[day] = rows
        usage[day] = [
            {
                "object": "organization.usage.completions.result",
                "model": model,
                "project_id": project,
                "num_model_requests": rng.randrange(1, 500),
                "input_tokens": (total := rng.randrange(10**4, 10**7)),
                "input_cached_tokens": (cached := rng.randrange(total // 2)),
                "input_cache_write_tokens": (written := rng.randrange(total // 4)),
                "output_tokens": rng.randrange(10**6),
                **({"input_uncached_tokens": total - cached - written} if rng.random() < 0.5 else {}),
            }
            for model in ("gpt-5-2025-08-07", "o3")
            for project in rng.sample(projects, 2)
        ]
    org = providers.fake("openai")(
        api_key=key, projects=_OPENAI_PROJECTS, costs=costs, usage=usage, today=last + timedelta(days=1)
    )
    return org, 2  # the projects that are not archived


def _openai_lines(org: object, first: date, last: date) -> list[tuple[date, str, str, list[int]]]:
    """(day, model, project name, [cost, requests, input, output, cache read, cache write]) from the
    fake's raw results, by the documented rules: dollars rounded half-even to micro-cents (1 USD = 10**8)
    once per result (the money parser's rule), summed per day, model (the line item before its first
    comma) and project."""
    dollars: dict[tuple[date, str, str], int] = defaultdict(int)
    out = []
    for day, rows in org.costs.items():  # type: ignore[attr-defined]
        if not first <= day <= last:
            continue
        for row in rows:
            if row["amount"] is None:
                continue
            model = row["line_item"].split(",")[0] if row["line_item"] else "other"
            micro = (Decimal(row["amount"]["value"]) * 100_000_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
            dollars[(day, model, _OPENAI_NAMES.get(row["project_id"], "No project"))] += int(micro)
    for (day, model, actor), micro in dollars.items():
        out.append((day, model, actor, [micro, None, None, None, None, None]))  # a cost reports no usage
    for day, rows in org.usage.items():  # type: ignore[attr-defined]
        if not first <= day <= last:
            continue
        for row in rows:
            cached, written = row["input_cached_tokens"], row["input_cache_write_tokens"]
            out.append(
                (
                    day,
                    row["model"],
                    _OPENAI_NAMES.get(row["project_id"], "No project"),
                    [
                        0,
                        row["num_model_requests"],
                        row["input_tokens"] - cached - written,
                        row["output_tokens"],
                        cached,
                        written,
                    ],
                )
            )
    return out


def _plus(total: int | None, value: int | None) -> int | None:
    """A count of the usage rows: None (no row counts it) until one does."""
    return total if value is None else (total or 0) + value


def _openai_expected(org: object, first: date, last: date) -> Sums:
    sums: Sums = defaultdict(lambda: [0, None, 0, None, None, None, None])
    for day, model, actor, (cost, requests, *tokens) in _openai_lines(org, first, last):
        s = sums[(day, model, actor, False)]
        s[0] += cost
        for i, value in ((1, requests), *enumerate(tokens, start=3)):
            s[i] = _plus(s[i], value)
    return dict(sums)


def _openai_store(org: object, first: date, last: date, today: date) -> list[list[tuple]]:
    """[days, models, members]: no on-demand split, reasoning tokens or BYOK (all unknown)."""
    days: dict[date, list] = {}
    models: dict[tuple[date, str], list] = defaultdict(lambda: [0, None, None, None, None, None, None])
    members: dict[tuple[date, str], list] = defaultdict(lambda: [0, None])
    for day, model, actor, (cost, requests, *tokens) in _openai_lines(org, first, last):
        d = days.setdefault(day, [0, None, None, None, 0, None, None, None, None, None, None])
        m, u = models[(day, model)], members[(day, actor)]
        d[0] += cost
        d[3] = _plus(d[3], requests)
        m[0] += cost
        m[1] = _plus(m[1], requests)
        u[0] += cost
        u[1] = _plus(u[1], requests)
        for i, value in enumerate(tokens):
            d[5 + i] = _plus(d[5 + i], value)
            m[2 + i] = _plus(m[2 + i], value)
    day_rows = [
        (
            first + timedelta(days=i),
            *days.get(first + timedelta(days=i), [0, None, None, 0, 0, 0, 0, 0, 0, None, None]),
            first + timedelta(days=i) < today,
        )
        for i in range((last - first).days + 1)
    ]
    return [
        day_rows,
        sorted((day, model, *m) for (day, model), m in models.items()),
        sorted((day, actor, *u) for (day, actor), u in members.items()),
    ]


OPENROUTER_WORKSPACES = {
    "3f6c2a10-8d4e-4b7a-9c21-5e0f7a1b2c3d": "Default workspace",
    "a81d9e47-0b2c-4f63-8e15-7d9a6c4b3e21": "Prototypes",
    "d2b7f5c8-6a1e-4d09-b3f4-0c8e2a5d7b96": "Evals",
}


def _openrouter_fake(key: str, first: date, last: date) -> tuple[object, int]:
    rows = make_rows(
        seed=9,
        start=first - timedelta(days=1),
        days=(last - first).days + 3,
        workspace_ids=list(OPENROUTER_WORKSPACES),
        per_day=5,
        models=["anthropic/claude-sonnet-4.5", "openai/gpt-5", "deepseek/deepseek-chat-v3.1"],
    )
    account = providers.fake("openrouter")(
        api_key=key,
        rows=rows,
        today=TODAY,
        workspaces=[workspace(wid, name) for wid, name in OPENROUTER_WORKSPACES.items()],
    )
    return account, len(OPENROUTER_WORKSPACES)


def _openrouter_rows(account: object, first: date, last: date) -> dict[tuple[date, str, str], list]:
    """shared/openrouter-api.md, from the fake's raw rows: the rows OpenRouter serves (the 30 days before
    its today) of first..last, summed per day, model and workspace name ("Default workspace" without one):
    [usage in exact dollars, requests, prompt, completion, reasoning, BYOK dollars]."""
    today = account.today  # type: ignore[attr-defined]
    sums: dict[tuple[date, str, str], list] = {}
    for raw in account.rows:  # type: ignore[attr-defined]
        day = date.fromisoformat(raw["date"])
        if not (first <= day <= last and today - timedelta(days=30) <= day < today):
            continue
        wid = raw.get("workspace_id")
        actor = OPENROUTER_WORKSPACES.get(wid, wid) if wid else "Default workspace"
        s = sums.setdefault((day, raw["model"], actor), [Decimal(0), 0, 0, 0, 0, Decimal(0)])
        for i, value in enumerate(
            (
                oracle.number(raw["usage"]),
                raw["requests"],
                raw["prompt_tokens"],
                raw["completion_tokens"],
                raw["reasoning_tokens"],
                oracle.number(raw["byok_usage_inference"]),
            )
        ):
            s[i] += value
    return sums


def _dollars_micro(value: object) -> int:
    micro = value * 100_000_000  # type: ignore[operator]
    assert micro == int(micro), "the kit's fake sends dollars to the micro-cent"
    return int(micro)


def _openrouter_expected(account: object, first: date, last: date) -> Sums:
    return {
        (day, model, actor, False): [_dollars_micro(s[0]), s[1], 0, s[2], s[3], None, None]
        for (day, model, actor), s in _openrouter_rows(account, first, last).items()
    }


def _openrouter_store(account: object, first: date, last: date, today: date) -> list[list[tuple]]:
    sums = _openrouter_rows(account, first, last)
    # [cost, requests, prompt, completion, reasoning] per day and per (day, model); BYOK per day.
    days: dict[date, list] = defaultdict(lambda: [0, 0, 0, 0, 0])
    byok: dict[date, int] = defaultdict(int)
    models: dict[tuple[date, str], list] = defaultdict(lambda: [0, 0, 0, 0, 0])
    members: dict[tuple[date, str], list] = defaultdict(lambda: [0, 0])
    for (day, model, actor), s in sums.items():
        cost = _dollars_micro(s[0])
        for target in (days[day], models[(day, model)]):
            for i, value in enumerate((cost, *s[1:5])):
                target[i] += value
        byok[day] += _dollars_micro(s[5])
        members[(day, actor)][0] += cost
        members[(day, actor)][1] += s[1]
    # No on-demand split (NULL), no cache tokens (NULL). Today is never reported by OpenRouter, so it
    # has no row; every other day of the range had rows, so each is complete.
    day_rows = [
        (day, cost, None, None, requests, 0, prompt, completion, None, None, reasoning, byok[day], True)
        for day, (cost, requests, prompt, completion, reasoning) in sorted(days.items())
    ]
    model_rows = sorted(
        (day, model, cost, requests, prompt, completion, None, None, reasoning)
        for (day, model), (cost, requests, prompt, completion, reasoning) in models.items()
    )
    member_rows = sorted((day, actor, *u) for (day, actor), u in members.items())
    return [day_rows, model_rows, member_rows]


_COPILOT_SEATS = ["octo-ana", "octo-bo", "octo-cy"]


def _copilot_fake(key: str, first: date, last: date) -> tuple[object, int]:
    """Three seat holders (one of them sends usage under another spelling of its login), a person whose
    seat ended and usage nobody's seat covers; premium requests (the contract's today is before
    2026-06-01), the monthly allowance pooled over three seats."""
    usage = make_copilot_usage(
        seed=17,
        start=first - timedelta(days=1),
        days=(last - first).days + 3,
        people=["octo-ana", "octo-bo", "Octo-Cy", "gone-dee", None],
        per_day=5,
        seats=3,
    )
    account = providers.fake("copilot")(
        api_key=key, org="acme", usage=usage, seats=[CopilotSeat(login) for login in _COPILOT_SEATS], today=TODAY
    )
    return account, len(_COPILOT_SEATS)


def _copilot_edge(today: date) -> date:
    """GitHub keeps 24 months: the first day of the month 23 months before today's (documented)."""
    index = today.year * 12 + today.month - 1 - 23
    return date(index // 12, index % 12 + 1, 1)


def _copilot_money(account: object, first: date, last: date) -> dict[tuple[date, str, str], list[Decimal]]:
    """shared/copilot-billing-api.md, from the fake's raw items: [Σ grossAmount, Σ netAmount] exact per day,
    model and actor. The 31 latest days are split: each seat holder (their login as the seat list spells
    it, matched without case) and everyone else as "(other usage)" (a model whose rest is exactly zero
    left out); older days are "(all users)". Days before GitHub's 24 months are never read."""
    split_from = TODAY - timedelta(days=30)
    seats = {login.casefold(): login for login in _COPILOT_SEATS}
    money: dict[tuple[date, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for day, people in account.usage.items():  # type: ignore[attr-defined]
        if not (first <= day <= last and day <= TODAY and day >= _copilot_edge(TODAY)):
            continue
        for login, items in people.items():
            if day < split_from:
                actor = "(all users)"
            else:
                actor = seats.get(login.casefold(), "(other usage)") if login else "(other usage)"
            for item in items:
                m = money[(day, item.model, actor)]
                m[0] += item.gross
                m[1] += item.net
    return {k: v for k, v in money.items() if k[2] != "(other usage)" or v != [0, 0]}


def _micro(dollars: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = 200
        return int((dollars * 100_000_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _copilot_expected(account: object, first: date, last: date) -> Sums:
    """Included (gross − net) and, when not 0, on-demand (net) per day, model and actor; requests and
    tokens unknown."""
    sums: Sums = {}
    for (day, model, actor), (gross, net) in _copilot_money(account, first, last).items():
        sums[(day, model, actor, False)] = [_micro(gross - net), None, 0, None, None, None, None]
        if net != 0:
            sums[(day, model, actor, True)] = [_micro(net), None, 0, None, None, None, None]
    return sums


def _copilot_store(account: object, first: date, last: date, today: date) -> list[list[tuple]]:
    """Days from GitHub's edge (or `first`) to today, each stored (an empty one as $0): cost, on-demand,
    included; requests and tokens unknown (NULL)."""
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    models: dict[tuple[date, str], int] = defaultdict(int)
    members: dict[tuple[date, str], int] = defaultdict(int)
    for (day, model, actor, on_demand), (cost, *_) in _copilot_expected(account, first, last).items():
        d = days[day]
        d[0] += cost
        d[1 if on_demand else 2] += cost
        models[(day, model)] += cost
        members[(day, actor)] += cost
    start = max(first, _copilot_edge(today))
    day_rows = [
        (day, *days.get(day, [0, 0, 0]), None, 0, None, None, None, None, None, None, day < today)
        for day in (start + timedelta(days=i) for i in range((last - start).days + 1))
    ]
    model_rows = sorted((day, model, cost, None, None, None, None, None, None) for (day, model), cost in models.items())
    member_rows = sorted((day, actor, cost, None) for (day, actor), cost in members.items())
    return [day_rows, model_rows, member_rows]


XAI_TEAM = "3f9a1c2e-7b4d-4e8f-a6c5-1d2e3f4a5b6c"
_XAI_KEYS = [
    XaiKey("0cfea97f-ead0-4e22-a8f9-46db941c962d", "prod-backend", "xai-...3Xxp"),
    XaiKey("7e11b2c4-3a5d-4f60-8b9c-0d1e2f3a4b5c", "batch", "xai-...Qw8e"),
    XaiKey("b84c0d9e-1f2a-4b3c-9d4e-5f6a7b8c9d0e", "batch", "xai-...Lm2z"),  # another key of the same name
    XaiKey("", "", ""),  # usage without a key (the Console's playground)
]


def _xai_fake(key: str, first: date, last: date) -> tuple[object, int]:
    spend = make_xai_spend(
        seed=23, start=first - timedelta(days=1), days=(last - first).days + 3, keys=_XAI_KEYS, per_day=6
    )
    team = providers.fake("xai")(api_key=key, team_id=XAI_TEAM, spend=spend, today=TODAY)
    # The members are the keys that spent yesterday (the validation's day).
    yesterday = TODAY - timedelta(days=1)
    spent = {s.key.key_id for s in spend if s.day == yesterday and s.key.key_id and s.usd != 0}
    return team, len(spent)


def _xai_names(team: object) -> dict[str, str]:
    """shared/xai-management-api.md: a key's name is its label before " ("; two keys of one name carry
    their id's first 8 characters; usage without a key is "(no API key)"."""
    counts: dict[str, int] = defaultdict(int)
    for key in _XAI_KEYS:
        if key.key_id:
            counts[key.name] += 1
    return {
        key.key_id: (f"{key.name} ({key.key_id[:8]})" if counts[key.name] > 1 else key.name)
        if key.key_id
        else "(no API key)"
        for key in _XAI_KEYS
    }


def _xai_expected(team: object, first: date, last: date) -> Sums:
    """Σ values[0] exact per day, description label (whole) and key; a zero point makes nothing;
    requests and tokens unknown, no on-demand split."""
    names = _xai_names(team)
    dollars: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
    for s in team.spend:  # type: ignore[attr-defined]
        if first <= s.day <= last:
            dollars[(s.day, s.description, names[s.key.key_id])] += s.usd
    return {(d, m, a, False): [_micro(v), None, 0, None, None, None, None] for (d, m, a), v in dollars.items() if v}


def _xai_store(team: object, first: date, last: date, today: date) -> list[list[tuple]]:
    """Every day of the range stored (xAI's answer is dense): cost only; the split, requests and tokens
    not applicable or unknown (NULL)."""
    days: dict[date, int] = defaultdict(int)
    models: dict[tuple[date, str], int] = defaultdict(int)
    members: dict[tuple[date, str], int] = defaultdict(int)
    for (day, model, actor, _), (cost, *_) in _xai_expected(team, first, last).items():
        days[day] += cost
        models[(day, model)] += cost
        members[(day, actor)] += cost
    day_rows = [
        (day, days.get(day, 0), None, None, None, 0, None, None, None, None, None, None, day < today)
        for day in (first + timedelta(days=i) for i in range((last - first).days + 1))
    ]
    model_rows = sorted((day, model, cost, None, None, None, None, None, None) for (day, model), cost in models.items())
    member_rows = sorted((day, actor, cost, None) for (day, actor), cost in members.items())
    model_rows = sorted((day, model, cost, None, None, None, None, None, None) for (day, model), cost in models.items())
    member_rows = sorted((day, actor, cost, None) for (day, actor), cost in members.items())
    return [day_rows, model_rows, member_rows]


# --------------------------------------------------------------------------- Google (billing export)

_GOOGLE_KEY = service_account_key(seed=41)
_GOOGLE_TABLE = "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"
_GOOGLE_PROJECTS = [("chat-prod", "Chat Prod"), ("search-ai-7f3", "Search AI"), ("ml-sandbox", "ML Sandbox")]
_GOOGLE_NAMES = dict(_GOOGLE_PROJECTS)
# shared/google-billing-export.md, "Model breakdown", written out again here
_GEMINI = re.compile(r"(?i)gemini[\s-]+(\d+(?:\.\d+)?)[\s-]+(flash[\s-]+lite|flash|pro|ultra|nano)\b")


def _google_fake(key: str, first: date, last: date) -> tuple[object, int]:
    rows = make_export_rows(
        seed=13, start=first - timedelta(days=1), days=(last - first).days + 3, projects=_GOOGLE_PROJECTS
    )
    export = providers.fake("google")(keys=[_GOOGLE_KEY], table=_GOOGLE_TABLE, rows=rows, page_rows=700)
    # The validation reads yesterday (the provider's today is TODAY): the projects with Gemini spend then.
    yesterday = TODAY - timedelta(days=1)
    return export, len({r["project"]["id"] if r["project"] else None for r in _gemini_rows(rows, yesterday, yesterday)})


def _gemini_rows(rows: list[dict], first: date, last: date) -> list[dict]:
    """The contract's WHERE clause over raw export rows."""
    return [
        r
        for r in rows
        if first <= r["usage_start_time"].date() <= last
        and (r["cost_type"] or "regular") not in ("tax", "rounding_error")
        and (
            r["service"] in ("Gemini API", "Generative Language API")
            or (r["service"] == "Vertex AI" and "gemini" in r["sku"].lower())
        )
    ]


def _google_model(sku: str) -> str:
    found = _GEMINI.search(sku)
    if found is None:
        return sku.strip()
    return f"gemini-{found.group(1)}-{'-'.join(found.group(2).lower().split())}"


def _google_sums(export: object, first: date, last: date) -> dict[tuple[date, str, str], list[Decimal]]:
    """(day, model, project name) -> [bill, credits] in exact US dollars: Σ (cost + credits) ÷ rate and
    Σ −credits ÷ rate over the raw rows (every rate is 1 here: a USD account)."""
    sums: dict[tuple[date, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    with localcontext() as ctx:
        ctx.prec = 60
        for r in _gemini_rows(export.rows, first, last):  # type: ignore[attr-defined]
            project = _GOOGLE_NAMES[r["project"]["id"]] if r["project"] else "No project"
            credits = sum((Decimal(repr(c["amount"])) for c in r["credits"]), Decimal(0))
            rate = Decimal(repr(r["currency_conversion_rate"]))
            s = sums[(r["usage_start_time"].date(), _google_model(r["sku"]), project)]
            s[0] += (Decimal(repr(r["cost"])) + credits) / rate
            s[1] += -credits / rate
    return sums


def _google_expected(export: object, first: date, last: date) -> Sums:
    out: Sums = {}
    for (day, model, actor), (bill, credits) in _google_sums(export, first, last).items():
        out[(day, model, actor, True)] = [_micro(bill), None, 0, None, None, None, None]
        out[(day, model, actor, False)] = [_micro(credits), None, 0, None, None, None, None]
    return out


def _google_store(export: object, first: date, last: date, today: date) -> list[list[tuple]]:
    """Every day of the range is stored (days without Gemini rows are $0); total = bill + credits,
    the bill as on-demand and the credits as included; requests, tokens and BYOK unknown (NULL)."""
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    models: dict[tuple[date, str], int] = defaultdict(int)
    members: dict[tuple[date, str], int] = defaultdict(int)
    for (day, model, actor), (bill, credits) in _google_sums(export, first, last).items():
        b, c = _micro(bill), _micro(credits)
        days[day][0] += b
        days[day][1] += c
        models[(day, model)] += b + c
        members[(day, actor)] += b + c
    day_rows = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        bill, credits = days.get(day, [0, 0])
        day_rows.append((day, bill + credits, bill, credits, None, 0, None, None, None, None, None, None, day < today))
    model_rows = sorted((day, model, cost, None, None, None, None, None, None) for (day, model), cost in models.items())
    member_rows = sorted((day, actor, cost, None) for (day, actor), cost in members.items())
    return [day_rows, model_rows, member_rows]


# --------------------------------------------------------------------------- ElevenLabs (credits, an estimate)


def _elevenlabs_fake(key: str, first: date, last: date) -> tuple[object, int]:
    usage = make_voice_usage(seed=17, start=first - timedelta(days=1), days=(last - first).days + 3)
    return providers.fake("elevenlabs")(api_key=key, tier="pro", character_limit=500_000, usage=usage), 1


def _elevenlabs_micro(credits: Decimal) -> int:
    """shared/elevenlabs-api.md: Pro is $99 for 500,000 credits; a credit's dollars, to the micro-cent."""
    with localcontext() as ctx:
        ctx.prec = 60
        return int((credits * Decimal(99) / Decimal(500_000) * 100_000_000).quantize(Decimal(1), ROUND_HALF_EVEN))


def _elevenlabs_expected(workspace: object, first: date, last: date) -> Sums:
    out: Sums = {}
    for day, models in workspace.usage.items():  # type: ignore[attr-defined]
        if first <= day <= last:
            for model, (credits, _) in models.items():
                out[(day, model, "Workspace", False)] = [_elevenlabs_micro(credits), None, 0, None, None, None, None]
    return out


def _elevenlabs_store(workspace: object, first: date, last: date, today: date) -> list[list[tuple]]:
    """Every day of the range is stored; the cost is the estimate; no on-demand split, requests,
    tokens or BYOK (NULL); the workspace is the one actor."""
    sums = _elevenlabs_expected(workspace, first, last)
    days: dict[date, int] = defaultdict(int)
    for (day, _, _, _), (cost, *_) in sums.items():
        days[day] += cost  # type: ignore[operator]
    day_rows = [
        (first + timedelta(days=i), days.get(first + timedelta(days=i), 0), None, None, None, 0)
        + (None,) * 6
        + (first + timedelta(days=i) < today,)
        for i in range((last - first).days + 1)
    ]
    model_rows = sorted(
        (day, model, s[0], None, None, None, None, None, None) for (day, model, _, _), s in sums.items()
    )
    member_rows = sorted((day, "Workspace", cost, None) for day, cost in days.items())
    return [day_rows, model_rows, member_rows]


KITS: dict[str, Kit] = {
    "cursor": Kit(
        good_key=GOOD_KEY,
        wrong_key="key_" + "0" * 64,
        make_fake=_cursor_fake,
        expected=_cursor_expected,
        expected_store=_cursor_store,
    ),
    "anthropic": Kit(
        good_key="sk-ant-admin01-" + "Kq4vT9mZ" * 11 + "-Wd3AA",
        wrong_key="sk-ant-admin01-" + "0" * 88 + "-AAAA",
        make_fake=_anthropic_fake,
        expected=_anthropic_expected,
        expected_store=_anthropic_store,
    ),
    "openai": Kit(
        good_key="sk-admin-" + "Jq4wE8rT2yU6iO0pA3sD7fG1hK5lZ9xC",
        wrong_key="sk-admin-" + "0" * 32,
        make_fake=_openai_fake,
        expected=_openai_expected,
        expected_store=_openai_store,
    ),
    "openrouter": Kit(
        good_key="sk-or-v1-" + "7c1e4a9b" * 8,
        wrong_key="sk-or-v1-" + "0" * 64,
        make_fake=_openrouter_fake,
        expected=_openrouter_expected,
        expected_store=_openrouter_store,
    ),
    "copilot": Kit(
        good_key="github_pat_" + "11AbCdEfG0" * 8 + "xY",
        wrong_key="ghp_" + "0" * 36,
        make_fake=_copilot_fake,
        expected=_copilot_expected,
        expected_store=_copilot_store,
        account={"org": "acme"},
        rate_limit_403=True,
    ),
    "xai": Kit(
        good_key="xai-token-" + "Xk9Lm2Qp" * 10,
        wrong_key="xai-token-" + "0" * 80,
        make_fake=_xai_fake,
        expected=_xai_expected,
        expected_store=_xai_store,
        account={"team_id": XAI_TEAM},
    ),
    "google": Kit(
        good_key=_GOOGLE_KEY,
        wrong_key=service_account_key(seed=42),  # well formed, but not a key the account knows
        make_fake=_google_fake,
        expected=_google_expected,
        expected_store=_google_store,
        account={"table": _GOOGLE_TABLE},
    ),
    "elevenlabs": Kit(
        good_key="sk_" + "3f9a1c7e" * 6,
        wrong_key="sk_" + "0" * 48,
        make_fake=_elevenlabs_fake,
        expected=_elevenlabs_expected,
        expected_store=_elevenlabs_store,
    ),
}


@pytest.fixture(params=providers.names())
def name(request: pytest.FixtureRequest) -> str:
    if request.param not in KITS:
        pytest.fail(f"provider {request.param!r} is registered but has no contract kit in {__name__}")
    return request.param


def open_provider(name: str, key: str, fake: object) -> Provider:
    transport = httpx.MockTransport(fake.handler)  # type: ignore[attr-defined]
    provider = providers.get(name).from_settings(
        key, Settings.from_env(), transport=transport, account=KITS[name].account
    )
    provider.today = TODAY  # as the sync engine sets it: the kits' accounts live on TODAY
    return provider


def summed(lines: list[CostLine]) -> Sums:
    """Per (day, model, actor, on demand): [cost, requests, units, input, output, cache read, cache
    write]. A count only the lines that report it add to (None until one does), one unknown makes
    it unknown (providers/base.py CostLine)."""
    sums: Sums = {}
    reported: set[tuple] = set()
    for line in lines:
        key = (line.day, line.model, line.actor, line.on_demand)
        s = sums.setdefault(key, [0, None, 0, None, None, None, None])
        s[0] += line.cost_micro
        s[2] += line.request_units_micro
        counts = [(1, line.requests, line.reports_requests)] + [
            (i, value, line.reports_tokens)
            for i, value in (
                (3, line.input_tokens),
                (4, line.output_tokens),
                (5, line.cache_read_tokens),
                (6, line.cache_write_tokens),
            )
        ]
        for i, value, reports in counts:
            if not reports:
                continue
            if (key, i) not in reported:
                s[i] = value
            else:
                s[i] = None if value is None or s[i] is None else s[i] + value  # type: ignore[operator]
            reported.add((key, i))
    return sums


def window(name: str) -> tuple[date, date]:
    last = TODAY - timedelta(days=1)
    return last - timedelta(days=providers.get(name).limits.max_window_days - 1), last


def test_the_registry_names_real_providers(name: str) -> None:
    provider = providers.get(name)
    assert issubclass(provider, Provider) and provider.name == name
    assert provider.title and provider.key_help and provider.key_placeholder and provider.key_kind
    assert providers.title(name) == provider.title  # the screens' light lookup agrees with the provider
    limits = provider.limits
    assert limits.max_window_days >= 1 and limits.settle_days >= 0 and limits.default_rpm > 0
    assert 1 <= limits.history_for("free") <= limits.max_history_days


async def test_a_good_key_gives_the_account(name: str) -> None:
    kit = KITS[name]
    fake, members = kit.make_fake(kit.good_key, *window(name))
    async with open_provider(name, kit.good_key, fake) as provider:
        info = await provider.validate()
    assert isinstance(info, AccountInfo)
    assert info.members == members
    # The account is named (one account, one integration), except by a provider that says it never can.
    assert (info.fingerprint is None) == (providers.get(name).unnamed_account is not None)


async def test_a_wrong_key_is_one_sentence_without_the_key(name: str) -> None:
    kit = KITS[name]
    fake, _ = kit.make_fake(kit.good_key, *window(name))
    async with open_provider(name, kit.wrong_key, fake) as provider:
        with pytest.raises(ProviderError) as raised:
            await provider.validate()
    sentence = raised.value.sentence
    assert sentence and "\n" not in sentence and str(raised.value) == sentence
    assert providers.get(name).title.split()[0] in sentence  # "GitHub rejected this token …"
    for key in (kit.wrong_key, kit.good_key):
        assert key not in sentence and key[-12:] not in sentence


async def test_a_window_is_fetched_exactly_and_again_the_same(name: str) -> None:
    kit = KITS[name]
    first, last = window(name)
    fake, _ = kit.make_fake(kit.good_key, first, last)
    want = kit.expected(fake, first, last)
    assert want and {day for day, *_ in want} == {first + timedelta(days=i) for i in range((last - first).days + 1)}
    async with open_provider(name, kit.good_key, fake) as provider:
        got = summed([line async for batch in provider.cost_lines(first, last) for line in batch])
        again = summed([line async for batch in provider.cost_lines(first, last) for line in batch])
    assert got == want  # every day of the window, nothing from the days either side
    assert again == got
    if not providers.get(name).capabilities.has_requests:
        assert all(s[1] is None for s in got.values())


async def test_a_sync_stores_the_expected_figures_and_a_second_one_changes_nothing(name: str) -> None:
    kit = KITS[name]
    settings = Settings.from_env()
    settings.ensure_dirs()
    db, vault = Database(settings), Vault(settings)
    first = TODAY - timedelta(days=settings.backfill_days())
    fake, _ = kit.make_fake(kit.good_key, first, TODAY)
    iid = int(
        add_integration(
            db, vault, label="Contract", provider=name, api_key=Secret(kit.good_key), account=kit.account
        ).id
    )
    transport = httpx.MockTransport(fake.handler)  # type: ignore[attr-defined]

    assert (await run_sync(db, vault, settings, iid, "backfill", transport=transport, now=NOW)).outcome == "success"
    want = kit.expected_store(fake, first, TODAY, TODAY)
    assert oracle.snapshot_via_store(db, iid) == want
    assert (await run_sync(db, vault, settings, iid, "force", transport=transport, now=NOW)).outcome == "success"
    assert oracle.snapshot_via_store(db, iid) == want


class Faults:
    """The second call and every third after it answer 500, every fifth 429 (Retry-After 0), every
    seventh a 200 whose body is cut off mid-JSON; with `rate_limit_403` (GitHub) two of every three of
    those 429s are 403s instead: a secondary rate limit (Retry-After 0) and a primary one (nothing
    remaining, the reset already past). The retries must land every window exactly as if nothing had
    happened."""

    def __init__(self, inner, *, rate_limit_403: bool = False) -> None:
        self.inner, self.calls, self.rate_limit_403 = inner, 0, rate_limit_403
        self.forbidden = 0  # the 403 rate limits sent

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls % 3 == 2:
            return httpx.Response(500, json={"error": {"message": "internal error"}})
        if self.calls % 5 == 0:
            kind = (self.calls // 5) % 3 if self.rate_limit_403 else 0
            if kind == 1:
                self.forbidden += 1
                message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
                return httpx.Response(403, headers={"retry-after": "0"}, json={"message": message, "status": "403"})
            if kind == 2:
                self.forbidden += 1
                return httpx.Response(
                    403,
                    headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1", "x-ratelimit-limit": "5000"},
                    json={"message": "API rate limit exceeded for user ID 583231.", "status": "403"},
                )
            return httpx.Response(429, headers={"retry-after": "0"}, json={"error": {"message": "slow down"}})
        answer = self.inner(request)
        if self.calls % 7 == 0 and answer.status_code == 200:
            return httpx.Response(
                200, content=answer.content[: len(answer.content) // 2], headers={"content-type": "application/json"}
            )
        return answer


async def test_the_providers_maximum_history_is_backfilled_exactly_under_faults_and_the_key_stays_secret(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from tests.helpers import all_bytes_under

    caplog.set_level(logging.DEBUG)
    kit = KITS[name]
    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.set_plan("pro")
    limits = providers.get(name).limits
    first = TODAY - timedelta(days=limits.history_for("pro"))
    fake, _ = kit.make_fake(kit.good_key, first, TODAY)
    db, vault = Database(settings), Vault(settings)
    iid = int(
        add_integration(db, vault, label="Year", provider=name, api_key=Secret(kit.good_key), account=kit.account).id
    )
    faults = Faults(fake.handler, rate_limit_403=kit.rate_limit_403)  # type: ignore[attr-defined]
    transport = httpx.MockTransport(faults)

    result = await run_sync(db, vault, settings, iid, "backfill", transport=transport, now=NOW)
    assert result.outcome == "success", result.error
    assert result.retries > 0 and faults.calls > result.requests - result.retries
    if kit.rate_limit_403:  # each 403 rate limit was counted as one and retried, never read as a refusal
        slots = sum(1 for c in range(1, faults.calls + 1) if c % 5 == 0 and c % 3 != 2)  # 429s and 403s sent
        assert faults.forbidden > 0 and result.rate_limited == slots
    want = kit.expected_store(fake, first, TODAY, TODAY)
    assert oracle.snapshot_via_store(db, iid) == want
    again = await run_sync(db, vault, settings, iid, "force", transport=transport, now=NOW)
    assert again.outcome == "success", again.error
    assert oracle.snapshot_via_store(db, iid) == want  # idempotent
    db.dispose()

    secret = kit.good_key.encode()
    assert secret not in all_bytes_under(settings.data_dir) and secret not in all_bytes_under(settings.config_dir)
    assert kit.good_key not in caplog.text and kit.good_key[-12:] not in caplog.text
