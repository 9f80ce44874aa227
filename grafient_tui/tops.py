"""The rows a detail table lists: the top MAX_TABLE_ROWS in the order asked for, and the rest summed
exactly in one "N others" row. Pure (the read model only): the detail is read in a thread worker from
what the database sorted, cut and summed (store/top_rows.py), so the event loop only ever draws a few
hundred rows, whatever an integration holds (a provider may send 50,000 members a window: 150,000
over a period, which drawn one by one stalled the app for 26 s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafient_tui.figures import MemberFigures, MemberTable, ModelFigures, ModelTable

MAX_TABLE_ROWS = 200  # rows a detail table lists before the rest are summed in one row
MEMBER_SORTS = ("cost", "name", "requests")
# A model's figures besides its cost, in ModelFigures' order; "cache" is read + write (unknown if either
# is). A count is unknown for a group when any of its rows' is; credits and characters (UNITS) are
# what the rows that have them add up to, unknown only when none has any (speech to text makes no
# characters).
MODEL_MEASURES = (
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "credits_micro",
    "characters",
)
UNITS = frozenset({"credits_micro", "characters"})
# The counts some models do not report at all (no line of theirs does: OpenAI's embeddings, a Cursor
# model billed per request), each with ModelFigures' flag for it: such a model's None is not an
# unknown, and a total over the models says it covers the ones that report it.
REPORTED_BY = {
    "requests": "reports_requests",
    "input_tokens": "reports_tokens",
    "output_tokens": "reports_tokens",
    "cache_read_tokens": "reports_tokens",
    "cache_write_tokens": "reports_tokens",
    "reasoning_tokens": "reports_tokens",
}
# What the Models tab sorts by (the detail screen's MODEL_SORTS name the same keys), each either way.
MODEL_SORT_KEYS = (
    "cost_micro",
    "on_demand_micro",  # billed, where a plan or credits cover part of the cost
    "requests",
    "input_tokens",
    "output_tokens",
    "cache",
    "credits_micro",
    "characters",
    "model",
)
MODEL_ORDERS = tuple((key, descending) for key in MODEL_SORT_KEYS for descending in (True, False))


@dataclass(frozen=True, kw_only=True)
class MemberTotals:
    """Every member (workspace, project) of a range together, summed by the database."""

    members: int
    cost_micro: int
    known_requests: int  # the requests of the members whose count is known
    unknown_requests: int  # how many members have an unknown count


@dataclass(frozen=True, kw_only=True)
class ModelTotals:
    """Every model of a range together, summed by the database."""

    models: int
    cost_micro: int
    known: dict[str, int]  # per measure (MODEL_MEASURES): the sum over the models that know it
    # per measure: how many models have it unknown (for UNITS: have none), not counting those that do
    # not report it
    unknown: dict[str, int]
    unreported: dict[str, int]  # per flag of REPORTED_BY: how many models do not report it
    on_demand_micro: int = 0  # the billed parts known
    unknown_on_demand: int = 0  # how many models have it unknown


def member_table_of(top: Sequence[MemberFigures], totals: MemberTotals) -> MemberTable:
    """The table of `top` (the first rows in some order, from the database) and every member's totals:
    the rest summed exactly from the totals, unknown where any of the rest is unknown."""
    left = totals.members - len(top)
    total_requests = None if totals.unknown_requests else totals.known_requests
    others = None
    if left > 0:
        unknown_left = totals.unknown_requests - sum(1 for r in top if r.requests is None)
        known_left = totals.known_requests - sum(r.requests for r in top if r.requests is not None)
        others = MemberFigures(
            actor=f"{left:,} others",
            cost_micro=totals.cost_micro - sum(r.cost_micro for r in top),
            requests=None if unknown_left else known_left,
        )
    return MemberTable(
        rows=tuple(top),
        others=others,
        others_count=max(left, 0),
        total_micro=totals.cost_micro,
        total_requests=total_requests,
    )


def model_table_of(top: Sequence[ModelFigures], totals: ModelTotals) -> ModelTable:
    """The table of `top` (the first models in some order, from the database) and every model's
    totals: the rest summed exactly from the totals, a count unknown where any of the rest is (a model
    that does not report it aside: not reported where none of them reports it), credits and
    characters unknown where none of the rest has any (UNITS)."""
    left = totals.models - len(top)
    others = None
    if left > 0:
        rest: dict[str, int | None] = {}
        flags: dict[str, bool] = {}
        for name in set(REPORTED_BY.values()):
            unreported_left = totals.unreported[name] - sum(1 for r in top if not getattr(r, name))
            flags[name] = unreported_left < left
        for measure in MODEL_MEASURES:
            listed = [getattr(r, measure) for r in top]
            flag = REPORTED_BY.get(measure)
            unknown_left = totals.unknown[measure] - sum(
                1 for r, v in zip(top, listed, strict=True) if v is None and (flag is None or getattr(r, flag))
            )
            known_left = totals.known[measure] - sum(v for v in listed if v is not None)
            if measure in UNITS:
                rest[measure] = None if unknown_left == left else known_left
            elif flag is not None and not flags[flag]:
                rest[measure] = None
            else:
                rest[measure] = None if unknown_left else known_left
        unknown_billed = totals.unknown_on_demand - sum(1 for r in top if r.on_demand_micro is None)
        billed = totals.on_demand_micro - sum(r.on_demand_micro or 0 for r in top)
        others = _model_row(
            f"{left:,} others",
            totals.cost_micro - sum(r.cost_micro for r in top),
            rest,
            on_demand_micro=None if unknown_billed else billed,
            flags=flags,
        )
    every = {name: not totals.models or totals.unreported[name] < totals.models for name in set(REPORTED_BY.values())}
    total = _model_row(
        "Total",
        totals.cost_micro,
        {m: _total(totals, m, every) for m in MODEL_MEASURES},
        on_demand_micro=None if totals.unknown_on_demand else totals.on_demand_micro,
        flags=every,
    )
    return ModelTable(
        rows=tuple(top),
        others=others,
        others_count=max(left, 0),
        total=total,
        unreported_requests=totals.unreported["reports_requests"],
        unreported_tokens=totals.unreported["reports_tokens"],
    )


def _model_row(
    name: str, cost_micro: int, figures: dict[str, int | None], *, on_demand_micro: int | None, flags: dict[str, bool]
) -> ModelFigures:
    return ModelFigures(
        model=name,
        cost_micro=cost_micro,
        requests=figures["requests"],
        input_tokens=figures["input_tokens"],
        output_tokens=figures["output_tokens"],
        cache_read_tokens=figures["cache_read_tokens"],
        cache_write_tokens=figures["cache_write_tokens"],
        reasoning_tokens=figures["reasoning_tokens"],
        credits_micro=figures["credits_micro"],
        characters=figures["characters"],
        on_demand_micro=on_demand_micro,
        reports_requests=flags["reports_requests"],
        reports_tokens=flags["reports_tokens"],
    )


def _total(totals: ModelTotals, measure: str, reported: dict[str, bool]) -> int | None:
    if measure in UNITS:
        return None if totals.unknown[measure] == totals.models else totals.known[measure]
    flag = REPORTED_BY.get(measure)
    if flag is not None and not reported[flag]:
        return None  # no model reports it
    return None if totals.unknown[measure] else totals.known[measure]
