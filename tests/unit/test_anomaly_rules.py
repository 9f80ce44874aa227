"""The anomaly rules (grafient_tui.anomalies): the same-weekday baseline, its spread, both floors,
suppression on thin data, drops only when asked, incomplete days left out, and the drivers."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest

from grafient_tui.anomalies import Series, SeriesDay, Thresholds, baseline, find, judge, median, together
from grafient_tui.anomalies.settings import amount_of, ratio_of, thresholds_of
from grafient_tui.errors import ConfigError

USD = 100_000_000
DAY = date(2026, 11, 30)  # a Monday
T = Thresholds(ratio=1.5, min_amount_micro=20 * USD)


def weeks(values: list[int | None], *, on: date = DAY, complete: bool = True) -> dict[date, SeriesDay]:
    """The same weekday in the weeks before `on`, newest first (None: not stored)."""
    out = {}
    for i, value in enumerate(values, start=1):
        if value is not None:
            out[on - timedelta(days=7 * i)] = SeriesDay(billed_micro=value * USD, complete=complete)
    return out


def series(day_usd: float, before: list[int | None], **day: object) -> Series:
    days = weeks(before)
    days[DAY] = SeriesDay(billed_micro=int(day_usd * USD), complete=bool(day.get("complete", True)))
    return Series(integration_id=1, integration="Eng", provider="openai", days=days)


def test_median_of_odd_and_even_counts():
    assert median([5, 1, 3]) == 3
    assert median([1, 2, 3, 4]) == 3  # 2.5 rounded half away from zero
    assert median([4, 2]) == 3


def test_baseline_is_the_median_of_the_previous_same_weekdays_and_their_mad():
    s = series(300, [100, 110, 90, 120, 80, 100, 105, 95, 1000])  # the ninth week is too old to count
    base = baseline(s, DAY)
    assert base is not None
    assert len(base.days) == 8 and all((DAY - d).days % 7 == 0 for d in base.days)
    assert base.median_micro == 100 * USD  # of 80 90 95 100 100 105 110 120
    assert base.mad_micro == 7 * USD + 50_000_000  # deviations 20 10 5 0 0 5 10 20 -> 7.5


def test_other_weekdays_never_count():
    s = series(300, [100, 100, 100, 100])
    days = dict(s.days)
    days[DAY - timedelta(days=1)] = SeriesDay(billed_micro=10_000 * USD, complete=True)
    assert baseline(Series(1, "Eng", "openai", days), DAY).median_micro == 100 * USD  # type: ignore[union-attr]


def test_a_day_above_by_both_ratio_and_amount_is_an_anomaly():
    found = judge(series(160, [100, 100, 100, 100]), DAY, T)
    assert found is not None and found.direction == "rise"
    assert (found.billed_micro, found.baseline_micro, found.ratio) == (160 * USD, 100 * USD, 1.6)


def test_the_ratio_floor_alone_blocks():
    assert judge(series(1400, [1000, 1000, 1000, 1000]), DAY, T) is None  # +$400 but only x1.4


def test_the_amount_floor_alone_blocks():
    assert judge(series(19, [5, 5, 5, 5]), DAY, T) is None  # x3.8 but only +$14
    assert judge(series(26, [5, 5, 5, 5]), DAY, T) is not None  # +$21


def test_a_day_within_the_weekdays_usual_spread_is_not_one():
    noisy = series(260, [100, 40, 160, 30, 170, 100])  # median 100, MAD 60: 3 robust sigmas ~ $267
    assert judge(noisy, DAY, T) is None
    assert judge(series(260, [100, 95, 105, 100, 100, 100]), DAY, T) is not None


def test_fewer_than_four_complete_same_weekdays_judge_nothing():
    assert judge(series(1000, [100, 100, 100]), DAY, T) is None
    assert judge(series(1000, [100, None, 100, None, 100]), DAY, T) is None
    assert judge(series(1000, [100, None, 100, None, 100, 100]), DAY, T) is not None


def test_incomplete_days_are_never_anomalies_nor_in_a_baseline():
    assert judge(series(1000, [100, 100, 100, 100], complete=False), DAY, T) is None
    s = series(1000, [100, 100, 100])
    days = dict(s.days)
    days[DAY - timedelta(days=28)] = SeriesDay(billed_micro=100 * USD, complete=False)
    assert judge(Series(1, "Eng", "openai", days), DAY, T) is None
    # today (not over) is never judged, even if stored as complete
    assert judge(series(1000, [100, 100, 100, 100]), DAY, T, today=DAY) is None


def test_drops_only_when_asked():
    s = series(40, [100, 100, 100, 100])
    assert judge(s, DAY, T) is None
    found = judge(s, DAY, T, drops=True)
    assert found is not None and found.direction == "drop" and found.ratio == 0.4
    assert judge(series(80, [100, 100, 100, 100]), DAY, T, drops=True) is None  # not by the ratio


def test_a_zero_baseline_has_no_ratio():
    found = judge(series(50, [0, 0, 0, 0]), DAY, T)
    assert found is not None and found.ratio is None


def test_drivers_name_members_and_models_by_their_own_rise_with_their_share():
    days = {}
    for i in range(1, 5):
        days[DAY - timedelta(days=7 * i)] = SeriesDay(
            billed_micro=100 * USD,
            complete=True,
            members={"ann@x.io": 60 * USD, "bob@x.io": 40 * USD},
            models={"gpt-5": 100 * USD},
        )
    days[DAY] = SeriesDay(
        billed_micro=300 * USD,
        complete=True,
        members={"ann@x.io": 50 * USD, "bob@x.io": 200 * USD, "cy@x.io": 50 * USD},
        models={"gpt-5": 100 * USD, "o3": 200 * USD},
    )
    found = judge(Series(1, "Eng", "openai", days), DAY, T)
    assert found is not None
    members = [(d.name, d.delta_micro, d.share) for d in found.drivers if d.kind == "member"]
    models = [(d.name, d.delta_micro, d.share) for d in found.drivers if d.kind == "model"]
    # ann fell: no driver of a rise; bob rose most, then cy, who had nothing before: shares of all
    # that rose ($210), not of the net move ($200), which would add up to 105%
    assert members == [("bob@x.io", 160 * USD, Fraction(16, 21)), ("cy@x.io", 50 * USD, Fraction(5, 21))]
    assert models == [("o3", 200 * USD, Fraction(1))]


def test_drivers_are_bounded_to_three_of_each_kind():
    days = {DAY - timedelta(days=7 * i): SeriesDay(billed_micro=10 * USD, complete=True) for i in range(1, 5)}
    days[DAY] = SeriesDay(
        billed_micro=500 * USD, complete=True, members={f"m{i}": (i + 1) * 10 * USD for i in range(50)}
    )
    found = judge(Series(1, "Eng", "openai", days), DAY, T)
    assert found is not None
    assert [d.name for d in found.drivers] == ["m49", "m48", "m47"]


def test_find_covers_the_range_and_together_adds_integrations():
    a = series(300, [100, 100, 100, 100])
    b = Series(2, "Ops", "anthropic", {d: SeriesDay(billed_micro=USD, complete=True) for d in a.days})
    both = together([a, b], label="all")
    assert both.days[DAY].billed_micro == 301 * USD
    found = find([a, b, both], DAY - timedelta(days=6), DAY, T)
    assert [(x.integration, x.day) for x in found] == [("all", DAY), ("Eng", DAY)]
    # A day one integration has not completed is not complete for all of them together
    c = Series(3, "Late", "xai", {**{d: SeriesDay(billed_micro=0, complete=True) for d in a.days if d != DAY}})
    c_days = dict(c.days)
    c_days[DAY] = SeriesDay(billed_micro=0, complete=False)
    assert together([a, Series(3, "Late", "xai", c_days)]).days[DAY].complete is False


def test_thresholds_from_settings_and_their_sentences():
    assert thresholds_of({}, "config.toml") == Thresholds()
    assert thresholds_of({"ratio": 2, "min_amount": 12.5}, "c") == Thresholds(2.0, 1250 * 1_000_000)
    assert thresholds_of({"ratio": 2}, "c", ratio="3", min_amount="$5").ratio == 3.0
    assert ratio_of(1.25, "x") == 1.25
    assert amount_of(0, "x") == 0
    for bad in (1, 0.5, "abc", True, float("nan"), [1]):
        with pytest.raises(ConfigError, match="must be a number above 1"):
            ratio_of(bad, "--ratio")
    for bad in (-1, "12.345", "1e3", True, "ten"):
        with pytest.raises(ConfigError, match="must be an amount in US dollars"):
            amount_of(bad, "--min-amount")
    with pytest.raises(ConfigError, match="must be a table"):
        thresholds_of(3, "config.toml")
    with pytest.raises(ConfigError, match="has ratio and min_amount"):
        thresholds_of({"ratoi": 2}, "config.toml")


def test_all_together_compares_a_day_only_with_days_the_same_integrations_had_begun():
    """An integration whose history begins inside the baseline's weeks (the demo's Gemini export, begun
    on the 1st of last month) made all together's later days look like rises: the earlier days lacked it."""
    old = series(100, [100, 100, 100, 100, 100, 100, 100, 100])
    new_days = {d: SeriesDay(billed_micro=60 * USD, complete=True) for d in old.days if d >= DAY - timedelta(days=21)}
    new = Series(2, "Gemini", "google", new_days)  # begun 3 weeks before DAY: in 3 of the 8 weeks
    both = together([old, new], label="all")
    assert both.days[DAY].billed_micro == 160 * USD
    assert baseline(both, DAY) is None  # 3 same weekdays with both: too few
    assert judge(both, DAY, T) is None
    assert judge(old, DAY, T) is None and judge(new, DAY, T) is None  # neither rose on its own
    # Once both have 4 weeks together, the day is judged against those weeks only
    later = DAY + timedelta(days=7)
    grown = {**old.days, later: SeriesDay(billed_micro=100 * USD, complete=True)}
    grown_new = {**new_days, later: SeriesDay(billed_micro=200 * USD, complete=True)}
    both = together([Series(1, "Eng", "openai", grown), Series(2, "Gemini", "google", grown_new)], label="all")
    base = baseline(both, later)
    assert base is not None and base.median_micro == 160 * USD and len(base.days) == 4
    found = judge(both, later, T)
    assert found is not None and found.billed_micro == 300 * USD


def test_a_drops_shares_are_of_the_drop_even_when_usage_value_rose():
    """Copilot: the billed (on-demand) part falls to $0 while the plan covers more, so the usage value
    rises; the members and models that fell still explain all of what fell (no 0%, no 111%)."""
    days = {}
    for i in range(1, 5):
        days[DAY - timedelta(days=7 * i)] = SeriesDay(
            billed_micro=35 * USD,
            usage_micro=40 * USD,
            complete=True,
            members={"(all users)": 40 * USD},
            models={"GPT-5.2": 30 * USD, "Claude": 10 * USD},
        )
    days[DAY] = SeriesDay(
        billed_micro=0,
        usage_micro=45 * USD,
        complete=True,
        members={"(all users)": 9 * USD, "ann@x.io": 36 * USD},
        models={"GPT-5.2": 27 * USD, "Claude": 2 * USD, "o3": 16 * USD},
    )
    found = judge(Series(1, "Copilot", "copilot", days), DAY, T, drops=True)
    assert found is not None and found.direction == "drop"
    shares = {(d.kind, d.name): d.share for d in found.drivers}
    assert shares == {
        ("member", "(all users)"): Fraction(1),
        ("model", "Claude"): Fraction(8, 11),
        ("model", "GPT-5.2"): Fraction(3, 11),
    }


def test_all_together_never_judges_a_day_against_days_before_an_integration_began():
    """Gemini's export began in week 5: its first Mondays are in the total, the weeks before it are not
    a baseline for them (they lack it, not "it was $0"), so the total has no anomaly it alone made."""
    eng = series(100, [100] * 8)
    start = DAY - timedelta(days=7 * 2)
    gemini = Series(
        2, "Gemini", "google", {d: SeriesDay(billed_micro=80 * USD, complete=True) for d in eng.days if d >= start}
    )
    both = together([eng, gemini])
    assert both.days[DAY].billed_micro == 180 * USD and both.days[DAY - timedelta(days=21)].billed_micro == 100 * USD
    assert baseline(both, DAY) is None  # two like Mondays only
    assert find([eng, gemini, both], DAY - timedelta(days=6), DAY, T) == []
    # once it has four weeks of its own, the total is judged again, against those weeks only
    later = DAY + timedelta(days=14)
    more = {later - timedelta(days=7): SeriesDay(billed_micro=80 * USD, complete=True)}
    more[later] = SeriesDay(billed_micro=80 * USD, complete=True)
    eng_more = {**eng.days, **{d: SeriesDay(billed_micro=100 * USD, complete=True) for d in more}}
    both = together([Series(1, "Eng", "openai", eng_more), Series(2, "Gemini", "google", {**gemini.days, **more})])
    base = baseline(both, later)
    assert base is not None and base.median_micro == 180 * USD and len(base.days) == 4
