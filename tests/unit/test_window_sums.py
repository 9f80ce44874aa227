"""A window's named sums (store/sums.py) and how cost lines add up into them (sync/totals.py): an
unknown is never 0, and each figure keeps one of two rules when known and unknown parts meet."""

from __future__ import annotations

from datetime import date

import pytest

from grafient_tui.providers.base import Capabilities, CostLine
from grafient_tui.store.sums import DaySums, MemberSums, ModelSums, day_runs, known_plus, reported_plus, units_plus
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


@pytest.mark.parametrize(
    ("total", "value", "first", "summed"),
    [
        (None, 3, True, 3),  # the first reporting line starts the sum
        (None, None, True, None),  # ... and an unknown one starts it unknown
        (4, 3, False, 7),  # known lines add
        (4, None, False, None),  # one unknown line makes the sum unknown
        (None, 3, False, None),  # and it stays unknown
        (0, 0, False, 0),
    ],
)
def test_the_rule_for_lines_that_report_a_count(
    total: int | None, value: int | None, first: bool, summed: int | None
) -> None:
    assert reported_plus(total, value, first=first) == summed


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
    # each model's on-demand part as the day's is summed: o3's only line is included, so 0 (known)
    assert totals.models[(DAY, "gpt-5")] == ModelSums(
        cost_micro=100, requests=2, input_tokens=10, on_demand_micro=100, **zero
    )
    assert totals.models[(DAY, "o3")] == ModelSums(
        cost_micro=50, requests=1, input_tokens=5, credits_micro=7, on_demand_micro=0, **zero
    )
    assert sum(m.on_demand_micro or 0 for m in totals.models.values()) == day.on_demand_micro
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
    assert totals.models[(DAY, "gpt-5")].on_demand_micro is None  # billed per model is then its cost


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


# A cost line whose requests and tokens another line counts (OpenAI's, Anthropic's cost lines beside
# their usage lines), or that nothing counts (embeddings, web search)
ELSEWHERE: dict[str, object] = {
    "requests": None,
    "input_tokens": None,
    "output_tokens": None,
    "cache_read_tokens": None,
    "cache_write_tokens": None,
    "reports_requests": False,
    "reports_tokens": False,
}


def test_a_line_that_does_not_report_a_count_adds_nothing_to_it() -> None:
    totals = WindowTotals(DAY, DAY)
    totals.add(
        [
            line(cost_micro=300, **ELSEWHERE),  # the model's money
            line(cost_micro=0, requests=4, input_tokens=10, output_tokens=2),  # its usage, on a line of its own
            line(cost_micro=70, model="text-embedding-3-large", **ELSEWHERE),  # money that no usage line counts
        ]
    )
    gpt = totals.models[(DAY, "gpt-5")]
    assert (gpt.cost_micro, gpt.requests, gpt.input_tokens, gpt.output_tokens) == (300, 4, 10, 2)
    embedding = totals.models[(DAY, "text-embedding-3-large")]
    assert embedding.cost_micro == 70
    assert embedding.requests is None and embedding.input_tokens is None  # no line reported them: unknown, not 0
    assert embedding.cache_read_tokens is None and embedding.cache_write_tokens is None
    day = totals.days[DAY]
    assert (day.cost_micro, day.requests, day.input_tokens) == (370, 4, 10)  # the reporting lines' sum
    assert totals.members[(DAY, "a@x.io")].requests == 4


def test_an_unknown_line_still_makes_the_sum_unknown_beside_lines_that_do_not_report() -> None:
    totals = WindowTotals(DAY, DAY)
    totals.add([line(**ELSEWHERE), line(requests=None, input_tokens=None), line(requests=2, input_tokens=5)])
    model = totals.models[(DAY, "gpt-5")]
    assert model.requests is None and model.input_tokens is None
    assert totals.days[DAY].requests is None and totals.members[(DAY, "a@x.io")].requests is None


def test_tokens_and_requests_are_reported_apart() -> None:
    """A Cursor event that is not token-based counts as a request but reports no tokens."""
    totals = WindowTotals(DAY, DAY)
    no_tokens = {"input_tokens": None, "output_tokens": None, "cache_read_tokens": None, "cache_write_tokens": None}
    totals.add(
        [
            line(model="o3", requests=2, reports_tokens=False, **no_tokens),
            line(model="gpt-5", requests=1, reports_tokens=False, **no_tokens),
            line(
                model="gpt-5", requests=3, input_tokens=40, output_tokens=9, cache_read_tokens=0, cache_write_tokens=0
            ),
        ]
    )
    o3, gpt = totals.models[(DAY, "o3")], totals.models[(DAY, "gpt-5")]
    assert (o3.requests, o3.input_tokens, o3.output_tokens) == (2, None, None)
    assert (gpt.requests, gpt.input_tokens, gpt.output_tokens) == (4, 40, 9)
    assert (totals.days[DAY].requests, totals.days[DAY].input_tokens) == (6, 40)


def test_a_quiet_day_is_judged_by_the_days_whose_lines_reported_the_figure() -> None:
    """A day of embeddings alone (no line reports its requests) does not make a quiet day's unknown;
    a day whose usage report failed (its lines report None) does."""
    caps = Capabilities(has_requests=True, actor_kind="project", has_on_demand=False)
    other = date(2026, 11, 6)
    totals = WindowTotals(capabilities=caps)
    totals.add([line(**ELSEWHERE), line(day=other, requests=5, input_tokens=1)])
    assert totals.days[DAY].requests is None  # its spend's requests: no line counts them
    quiet = totals.empty_day()
    assert (quiet.requests, quiet.input_tokens) == (0, 0)
    failed = WindowTotals(capabilities=caps)
    failed.add([line(requests=None, input_tokens=None)])
    assert (failed.empty_day().requests, failed.empty_day().input_tokens) == (None, None)
