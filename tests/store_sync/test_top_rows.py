"""The detail's tables are asked of the database as its first rows and every row's totals
(store/top_rows.py): each order is the one the screen promises, ties and unknown figures included,
and "N others" is exactly the rest. Checked against sums and sorts done here, line by line, on
SQLite and (.ci/run) on PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from grafient_tui.config import Settings
from grafient_tui.figures import MemberFigures, ModelFigures
from grafient_tui.providers.base import CostLine
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.sync_writes import write_window
from grafient_tui.store.top_rows import member_pages, member_totals, members_among, model_pages, model_totals
from grafient_tui.store.vault import Vault
from grafient_tui.sync.totals import WindowTotals
from grafient_tui.tops import (
    MEMBER_SORTS,
    MODEL_MEASURES,
    MODEL_SORT_KEYS,
    REPORTED_BY,
    UNITS,
    member_table_of,
    model_table_of,
)

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
DAYS = [date(2026, 5, 17), date(2026, 5, 18)]
LIMIT = 40
# Names that sort differently by case, by code point and by bytes of another encoding.
MODEL_NAMES = [f"model-{i:03d}" for i in range(90)] + ["Zeta", "zeta", "éclair", "Ωmega", "a"]
MEMBER_NAMES = [f"m{i:03d}@x.io" for i in range(80)] + ["Ann@x.io", "ann@x.io", "bob@x.io", "Bob@y.io", "a@x.io"]


# Models no line of which reports requests and tokens (OpenAI's web search, a Cursor model billed per
# request): their counts are not reported, neither unknown nor a part of any total.
# On DAYS[1], whose counts a failed line leaves unknown, that makes them unknown; "web search" (on
# DAYS[0] alone, whose counts are known) is not reported.
SILENT = {"model-007", "model-042", "éclair", "web search"}


def line(day: date, model: str, actor: str, i: int) -> CostLine:
    unknown = i % 11 == 0 and day == DAYS[1]  # a figure unknown on one day is unknown for the period
    silent = model in SILENT
    return CostLine(
        day,
        model,
        actor,
        i % 4 == 1,  # on demand (billed); the rest included in the plan
        cost_micro=1_000 * (i % 7),  # many ties in cost
        requests=None if unknown else i % 5,  # and in the figures
        input_tokens=None if i % 13 == 0 and day == DAYS[1] else 10 * (i % 4),
        output_tokens=i % 3,
        cache_read_tokens=None if i % 17 == 0 else i % 6,
        cache_write_tokens=i % 2,
        reasoning_tokens=None if i % 2 else i,
        credits_micro=None if i % 3 == 0 else 500_000 * (i % 4),  # units: unknown only where no line has any
        characters=None if i % 5 else 10 * i,
        reports_requests=not silent,
        reports_tokens=not silent,
    )


def seed(db: Database, vault: Vault) -> tuple[int, list[CostLine]]:
    iid = int(add_integration(db, vault, label="Top", provider="cursor", api_key=Secret("key_" + "t4" * 32)).id)
    lines = [
        line(day, MODEL_NAMES[i % len(MODEL_NAMES)], MEMBER_NAMES[(i * 7) % len(MEMBER_NAMES)], i)
        for d, day in enumerate(DAYS)
        for i in range(d, 300 + d)
    ] + [line(DAYS[0], "web search", MEMBER_NAMES[i], i) for i in range(1, 4)]
    totals = WindowTotals(DAYS[0], DAYS[-1])
    totals.add(lines)
    write_window(db, iid, DAYS[0], DAYS[-1], totals, NOW)
    return iid, lines


@pytest.fixture
def store() -> Any:
    settings = Settings.from_env()
    settings.ensure_dirs()
    db = Database(settings)
    iid, lines = seed(db, Vault(settings))
    yield db, iid, lines
    db.dispose()


def plus(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def units(values: list[int | None]) -> int | None:
    """Credits or characters summed: what the rows that have them add up to, None when none has any."""
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def known(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def on_demand(row: Any) -> int | None:
    if isinstance(row, CostLine):
        return row.cost_micro if row.on_demand else 0
    return row.on_demand_micro


# The day's own count each flag is judged by: a model's count no line reports is "not reported" only
# where its days know theirs (else a line that failed may have been its: unknown, store/read.reports).
DAY_COLUMN = {"reports_requests": "requests", "reports_tokens": "input_tokens"}


def day_knows(lines: list[CostLine], flag: str, day: date) -> bool:
    said = [getattr(e, DAY_COLUMN[flag]) for e in lines if e.day == day and getattr(e, flag)]
    return bool(said) and all(v is not None for v in said)


def summed(name: str, rows: list[Any], every_line: list[CostLine] | None = None) -> ModelFigures:
    """`rows` (cost lines of one model, `every_line` all of them, or models) as one model, each measure
    summed its own way: a count over the rows that report it, not reported (None, flag False) where
    none does (and, for lines, each of their days knows its own)."""
    flags = {
        flag: not rows
        or any(getattr(r, flag) for r in rows)
        or (every_line is not None and not all(day_knows(every_line, flag, r.day) for r in rows))
        for flag in set(REPORTED_BY.values())
    }
    figures: dict[str, Any] = {}
    for m in MODEL_MEASURES:
        flag = REPORTED_BY.get(m)
        values = [getattr(r, m) for r in rows if flag is None or getattr(r, flag)]
        if flag is None:
            figures[m] = (units if m in UNITS else known)(values)
        else:  # no line reports it on a day whose own is unknown: unknown
            figures[m] = known(values) if flags[flag] and values else None
    return ModelFigures(
        model=name,
        cost_micro=sum(r.cost_micro for r in rows),
        on_demand_micro=known([on_demand(r) for r in rows]),
        **figures,
        **flags,
    )


def model_rows(lines: list[CostLine]) -> list[ModelFigures]:
    groups: dict[str, list[CostLine]] = defaultdict(list)
    for e in lines:
        groups[e.model].append(e)
    return [summed(name, rows, lines) for name, rows in groups.items()]


def member_rows(lines: list[CostLine]) -> list[MemberFigures]:
    """Each member's cost, and requests over the lines that report them (None where none does)."""
    groups: dict[str, list[CostLine]] = defaultdict(list)
    for e in lines:
        groups[e.actor].append(e)
    return [
        MemberFigures(
            actor=name,
            cost_micro=sum(e.cost_micro for e in rows),
            requests=known(said) if (said := [e.requests for e in rows if e.reports_requests]) else None,
        )
        for name, rows in groups.items()
    ]


def model_value(row: ModelFigures, key: str) -> Any:
    if key == "cache":
        return plus(row.cache_read_tokens, row.cache_write_tokens)
    return getattr(row, key)


def models_in_order(rows: list[ModelFigures], key: str, descending: bool) -> list[ModelFigures]:
    """The screen's promise: unknown below every known figure, ties by cost (biggest first), then name
    (by code point)."""
    if key == "model":
        return sorted(rows, key=lambda r: r.model, reverse=descending)

    def order(r: ModelFigures) -> Any:
        v = model_value(r, key)
        if descending:
            return (v is None, -(v or 0), -r.cost_micro, r.model)
        return (v is not None, v or 0, -r.cost_micro, r.model)

    return sorted(rows, key=order)


def member_order(sort: str) -> Callable[[MemberFigures], Any]:
    if sort == "name":
        return lambda r: (r.actor.lower(), r.actor)
    if sort == "requests":
        return lambda r: (r.requests is None, -(r.requests or 0), -r.cost_micro, r.actor)
    return lambda r: (-r.cost_micro, r.actor)


@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
@pytest.mark.parametrize("key", MODEL_SORT_KEYS)
def test_the_first_models_in_every_order_and_the_rest_exactly(store, key: str, descending: bool) -> None:
    db, iid, lines = store
    expected = models_in_order(model_rows(lines), key, descending)
    assert len(expected) > LIMIT and any(r.requests is None and r.reports_requests for r in expected)
    assert any(not r.reports_requests for r in expected)  # the fixture holds every kind
    assert any(not r.reports_tokens for r in expected) and any(r.input_tokens is None for r in expected)

    top = model_pages(db, iid, DAYS[0], DAYS[-1], limit=LIMIT)[key, descending]
    assert top == expected[:LIMIT]

    table = model_table_of(top, model_totals(db, iid, DAYS[0], DAYS[-1]))
    rest = expected[LIMIT:]
    assert table.others_count == len(rest)
    assert table.others == summed(f"{len(rest)} others", rest)
    assert table.total == summed("Total", expected)
    assert table.unreported_requests == sum(not r.reports_requests for r in expected)
    assert table.unreported_tokens == sum(not r.reports_tokens for r in expected)


@pytest.mark.parametrize("sort", MEMBER_SORTS)
def test_the_first_members_in_every_order_and_the_rest_exactly(store, sort: str) -> None:
    db, iid, lines = store
    expected = sorted(member_rows(lines), key=member_order(sort))
    top = member_pages(db, iid, DAYS[0], DAYS[-1], limit=LIMIT)[sort]
    assert top == expected[:LIMIT]

    table = member_table_of(top, member_totals(db, iid, DAYS[0], DAYS[-1]))
    rest = expected[LIMIT:]
    assert table.others == MemberFigures(
        actor=f"{len(rest)} others",
        cost_micro=sum(r.cost_micro for r in rest),
        requests=known([r.requests for r in rest]),
    )
    assert (table.others_count, table.total_micro) == (len(rest), sum(r.cost_micro for r in expected))
    assert table.total_requests == known([r.requests for r in expected])


def test_a_table_with_nothing_left_out_has_no_others_row(store) -> None:
    db, iid, lines = store
    members = member_table_of(
        member_pages(db, iid, DAYS[0], DAYS[-1], ["cost"], limit=10_000)["cost"],
        member_totals(db, iid, DAYS[0], DAYS[-1]),
    )
    assert members.others is None and len(members.rows) == len(member_rows(lines))
    models = model_table_of(
        model_pages(db, iid, DAYS[0], DAYS[-1], [("cost_micro", True)], limit=10_000)["cost_micro", True],
        model_totals(db, iid, DAYS[0], DAYS[-1]),
    )
    assert models.others is None and models.others_count == 0 and len(models.rows) == len(MODEL_NAMES) + 1  # web search


def test_which_names_have_spend_ignores_case_and_the_range(store) -> None:
    db, iid, _ = store
    asked = ["ANN@X.IO", "bob@X.io", "nobody@x.io", "M001@x.io"]
    assert members_among(db, iid, DAYS[0], DAYS[-1], asked) == {"ann@x.io", "bob@x.io", "m001@x.io"}
    later = DAYS[-1] + timedelta(days=1)
    assert members_among(db, iid, later, later + timedelta(days=5), asked) == set()
    many = [f"nobody{i}@x.io" for i in range(1_200)] + ["a@x.io"]  # asked in batches
    assert members_among(db, iid, DAYS[0], DAYS[-1], many) == {"a@x.io"}


def test_a_model_row_is_read_by_one_reader_for_the_detail_and_the_reports() -> None:
    """store/queries.py (the reports' models) and store/top_rows.py (the detail's first rows) select a
    model's row in the same shape and read it with store/read.model_figures: a PostgreSQL sum (a
    Decimal) exactly, an unknown figure as None, never 0; a cost no line gave as 0."""
    from decimal import Decimal

    from grafient_tui.store import queries, read, top_rows

    assert queries.model_figures is top_rows.model_figures is read.model_figures
    row = ("gpt-5", Decimal("123456789012345"), 7, None, Decimal(9), 1, 2, None, 5, None)
    assert read.model_figures(row) == ModelFigures(
        model="gpt-5",
        cost_micro=123456789012345,
        requests=7,
        input_tokens=None,
        output_tokens=9,
        cache_read_tokens=1,
        cache_write_tokens=2,
        reasoning_tokens=None,
        credits_micro=5,
        characters=None,
    )
    assert read.model_figures(("x", None, *[None] * len(MODEL_MEASURES))).cost_micro == 0
