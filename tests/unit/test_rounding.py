"""Displayed parts add up to their displayed total (issue 21): round once, hand out the remainder."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from grafient_tui.money import format_usd
from grafient_tui.rounding import CENT_MICRO, adding_up, can_share


def test_the_issue_legend_adds_up() -> None:
    # three providers whose cents each round up: rounded alone they read a cent over the total
    parts = [100_600_000, 200_600_000, 300_600_000]  # $1.006 + $2.006 + $3.006 = $6.018
    assert sum(round(p / CENT_MICRO) for p in parts) == 603  # $6.03 when each is rounded alone
    shown = adding_up(parts)
    assert [format_usd(p) for p in shown] == ["$1.00", "$2.01", "$3.01"]
    assert sum(shown) == 602 * CENT_MICRO  # $6.02, the total as shown


def test_no_parts_and_exact_parts() -> None:
    assert adding_up([]) == []
    assert adding_up([CENT_MICRO * 5, 0]) == [CENT_MICRO * 5, 0]


@given(st.lists(st.integers(min_value=0, max_value=10**14), max_size=12))
def test_always_adds_up_and_moves_each_part_less_than_a_cent(parts: list[int]) -> None:
    shown = adding_up(parts)
    total = sum(parts)
    rounded_total = adding_up([total])[0]
    assert sum(shown) == rounded_total
    assert all(s % CENT_MICRO == 0 and abs(s - p) < CENT_MICRO for s, p in zip(shown, parts, strict=True))


@given(st.lists(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=8), min_size=1, max_size=6))
def test_a_tables_columns_add_up_to_totals_that_add_up_to_the_grand_total(columns: list[list[int]]) -> None:
    """A table's column totals are parts of its grand total (rounded once); each column's cells are
    then handed its total, and every part still moves less than a cent."""
    totals = adding_up([sum(column) for column in columns])
    assert sum(totals) == adding_up([sum(map(sum, columns))])[0]
    for column, total in zip(columns, totals, strict=True):
        shown = adding_up(column, total=total)
        assert sum(shown) == total
        assert all(s % CENT_MICRO == 0 and abs(s - p) < CENT_MICRO for s, p in zip(shown, column, strict=True))


def test_a_given_total_is_shared_only_within_a_cent_of_each_part() -> None:
    parts = [1_400_000, 2_600_000]  # $0.014 + $0.026: $0.03 to $0.05 can be shown, each part up or down
    assert [can_share(parts, cents * CENT_MICRO) for cents in (2, 3, 4, 5, 6)] == [False, True, True, True, False]
    assert adding_up(parts, total=4 * CENT_MICRO) == [CENT_MICRO, 3 * CENT_MICRO]  # the larger remainder first
    assert adding_up(parts, total=5 * CENT_MICRO) == [2 * CENT_MICRO, 3 * CENT_MICRO]
    assert not can_share(parts, 3 * CENT_MICRO + 1)  # whole cents only


def test_a_credits_negative_part_adds_up_too():
    """Gemini's "No project" credits (−$2.464): the parts still add up to their total rounded once,
    each moved less than a cent."""
    parts = [331_174_000_00 // 100, 289_165_000_00 // 100, 247_264_000_00 // 100, -246_400_000]
    shown = adding_up(parts)
    assert sum(shown) == adding_up([sum(parts)])[0] and shown[-1] in (-247_000_000, -246_000_000)
    assert all(abs(s - p) < CENT_MICRO and s % CENT_MICRO == 0 for s, p in zip(shown, parts, strict=True))
