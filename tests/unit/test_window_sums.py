"""A window's named sums (store/sums.py) and how cost lines add up into them (sync/totals.py): an
unknown is never 0, and each figure keeps one of two rules when known and unknown parts meet."""

from __future__ import annotations

from datetime import date

import pytest

from grafient_tui.providers.base import Capabilities, CostLine
from grafient_tui.store.sums import DaySums, MemberSums, ModelSums, day_runs, known_plus, units_plus
from grafient_tui.sync.totals import WindowTotals

DAY = date(2026, 11, 5)


@pytest.mark.parametrize(
    ("total", "value", "known", "units"),
    [
        (None, None, None, None),
        (None, 3, None, 3),  # units: the first known part starts the sum
        (4, None, None, 4),  # units: a part without any adds nothing
        (4, 3, 7, 7),
        (0, 0, 0, 0),  # a known 0 stays a known 0
    ],
)
def test_the_two_rules_for_an_unknown(
    total: int | None, value: int | None, known: int | None, units: int | None
) -> None:
    assert known_plus(total, value) == known
    assert units_plus(total, value) == units


def line(**fields: object) -> CostLine:
    values: dict[str, object] = {
        "day": DAY,
        "model": "gpt-5",
        "actor": "a@x.io",
        "on_demand": True,
        "cost_micro": 100,
        "requests": 1,
    }
    values.update(fields)
    return CostLine(**values)  # type: ignore[arg-type]


def test_lines_add_up_per_day_model_and_member_by_name() -> None:
    totals = WindowTotals(DAY, DAY)
    totals.add(
        [
            line(cost_micro=100, requests=2, input_tokens=10, request_units_micro=5, credits_micro=None),
            line(cost_micro=50, on_demand=False, requests=1, input_tokens=5, model="o3", credits_micro=7),
        ]
    )
    day = totals.days[DAY]
    assert (day.cost_micro, day.on_demand_micro, day.included_micro) == (150, 100, 50)
    assert (day.requests, day.request_units_micro, day.input_tokens) == (3, 5, 15)
    assert day.credits_micro == 7 and day.characters is None  # units: a line without them adds nothing
    assert day.reasoning_tokens is None and day.byok_micro is None  # no line knew them
    zero = {"output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0}
    assert totals.models[(DAY, "gpt-5")] == ModelSums(cost_micro=100, requests=2, input_tokens=10, **zero)
    assert totals.models[(DAY, "o3")] == ModelSums(cost_micro=50, requests=1, input_tokens=5, credits_micro=7, **zero)
    assert totals.members[(DAY, "a@x.io")] == MemberSums(cost_micro=150, requests=3)


def test_one_line_without_a_count_makes_the_count_unknown_everywhere_it_is_summed() -> None:
    totals = WindowTotals(DAY, DAY)
    totals.add([line(requests=4, output_tokens=8), line(requests=None, output_tokens=None)])
    assert totals.days[DAY].requests is None and totals.days[DAY].output_tokens is None
    assert totals.models[(DAY, "gpt-5")].requests is None
    assert totals.members[(DAY, "a@x.io")].requests is None
    assert totals.days[DAY].cost_micro == 200  # money is always known


def test_a_provider_without_the_on_demand_split_stores_it_as_not_applicable() -> None:
    totals = WindowTotals(
        DAY, DAY, capabilities=Capabilities(has_requests=True, actor_kind="member", has_on_demand=False)
    )
    totals.add([line(on_demand=True), line(on_demand=False)])
    assert (totals.days[DAY].on_demand_micro, totals.days[DAY].included_micro) == (None, None)


def test_a_quiet_day_is_zero_where_the_provider_knows_the_figure_and_unknown_where_it_does_not() -> None:
    caps = Capabilities(has_requests=False, actor_kind="project", has_tokens=True, has_byok=True)
    assert WindowTotals(capabilities=caps).empty_day() == DaySums(
        cost_micro=0,
        on_demand_micro=0,
        included_micro=0,
        requests=None,
        input_tokens=0,
        output_tokens=0,
        cache_read_tokens=0,
        cache_write_tokens=0,
        reasoning_tokens=None,
        byok_micro=0,
    )
    estimate = Capabilities(has_requests=True, actor_kind="member", has_on_demand=False, cost_basis="estimate")
    quiet = WindowTotals(capabilities=estimate).empty_day()
    assert (quiet.credits_micro, quiet.characters, quiet.on_demand_micro) == (0, 0, None)


def test_a_quiet_day_follows_what_the_windows_lines_knew() -> None:
    """A usage report that failed for the window leaves its quiet days' tokens unknown too, never 0."""
    totals = WindowTotals()
    totals.add([line(input_tokens=None, reasoning_tokens=3, byok_micro=0)])
    quiet = totals.empty_day()
    assert quiet.input_tokens is None and quiet.output_tokens == 0
    assert quiet.reasoning_tokens == 0 and quiet.byok_micro == 0 and quiet.requests == 0


def test_days_make_runs_of_consecutive_days() -> None:
    days = [date(2026, 11, d) for d in (9, 1, 2, 3, 7, 8, 2)]
    assert day_runs(days) == [
        (date(2026, 11, 1), date(2026, 11, 3)),
        (date(2026, 11, 7), date(2026, 11, 9)),
    ]
    assert day_runs([]) == []
