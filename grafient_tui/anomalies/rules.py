"""The anomaly rules: each complete day's billed cost against the median of the same weekday in the
weeks before, and the members and models that moved it. Pure: no store, no clock, no Textual.

A series is one integration's days (or every integration's together): for each stored day its billed
cost (what invoices charge), its cost at usage value (what its members' and models' costs add up to:
the same for every provider but Cursor, whose plan covers part), whether the day is complete, and
each member's and model's cost. A day that is not complete, or not stored, is never an anomaly and
never in a baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from grafient_tui.figures import Anomaly, AnomalyDriver

DEFAULT_RATIO = 1.5
DEFAULT_MIN_AMOUNT_MICRO = 20 * 100_000_000  # $20
MIN_BASELINE_DAYS = 4  # fewer complete same weekdays than this: no judgement at all
MAX_BASELINE_DAYS = 8  # the same weekday of the previous 8 weeks at most
LOOKBACK_DAYS = 7 * MAX_BASELINE_DAYS  # how far before the first judged day a series must reach
# A day must also leave the weekday's usual spread: this many robust standard deviations (the median
# absolute deviation scaled by 1.4826, the standard deviation it estimates for normal data).
SPREAD_SIGMAS = 3
MAD_SIGMA = 1.4826
DRIVERS_PER_KIND = 3


@dataclass(frozen=True)
class Thresholds:
    """How far a day must leave its baseline: by `ratio` (billed >= baseline x ratio; for a drop,
    billed <= baseline / ratio) and by at least `min_amount_micro` dollars."""

    ratio: float = DEFAULT_RATIO
    min_amount_micro: int = DEFAULT_MIN_AMOUNT_MICRO

    def __post_init__(self) -> None:
        if not self.ratio > 1:  # also refuses NaN
            raise ValueError("the ratio must be above 1")
        if self.min_amount_micro < 0:
            raise ValueError("the amount must not be negative")


@dataclass(frozen=True)
class SeriesDay:
    """One stored day of a series."""

    billed_micro: int
    complete: bool
    usage_micro: int | None = None  # None: the same as billed (nothing covered)
    members: Mapping[str, int] = field(default_factory=dict)  # actor -> cost (usage value)
    models: Mapping[str, int] = field(default_factory=dict)  # model -> cost (usage value)

    @property
    def usage(self) -> int:
        return self.billed_micro if self.usage_micro is None else self.usage_micro


@dataclass(frozen=True)
class Series:
    """One integration's stored days (or all of them together: integration_id None)."""

    integration_id: int | None
    integration: str
    provider: str | None
    days: Mapping[date, SeriesDay]
    # All together: how many integrations had begun their history by each day. A day stands in another's
    # baseline only with the same count: a total that gained an integration since is no rise.
    begun: Mapping[date, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Baseline:
    """A day's same-weekday baseline: the days it stands on, their median and median absolute deviation."""

    days: tuple[date, ...]  # newest first
    median_micro: int
    mad_micro: int


def median(values: Iterable[int]) -> int:
    """The median, rounded half away from zero to a whole micro-cent (of two middles, their mean)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("the median of nothing")
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    total = ordered[mid - 1] + ordered[mid]
    return (total + (1 if total >= 0 else -1)) // 2 if total % 2 else total // 2


def usable(series: Series, when: date, today: date | None) -> SeriesDay | None:
    """The day's figures when it can be judged or stand in a baseline: stored, complete, before today."""
    stored = series.days.get(when)
    if stored is None or not stored.complete or (today is not None and when >= today):
        return None
    return stored


def baseline(series: Series, when: date, today: date | None = None) -> Baseline | None:
    """The same weekday in the 8 weeks before `when` that are complete; None with fewer than 4."""
    days = []
    for weeks in range(1, MAX_BASELINE_DAYS + 1):
        earlier = when - timedelta(days=7 * weeks)
        if usable(series, earlier, today) is not None and series.begun.get(earlier) == series.begun.get(when):
            days.append(earlier)
    if len(days) < MIN_BASELINE_DAYS:
        return None
    values = [series.days[d].billed_micro for d in days]
    middle = median(values)
    return Baseline(days=tuple(days), median_micro=middle, mad_micro=median(abs(v - middle) for v in values))


def judge(
    series: Series, when: date, thresholds: Thresholds, *, drops: bool = False, today: date | None = None
) -> Anomaly | None:
    """The anomaly of `when`, if it is one: a complete day beyond its baseline by the ratio, the amount
    and the weekday's spread (above it; below it only when `drops` is asked for)."""
    stored = usable(series, when, today)
    base = baseline(series, when, today)
    if stored is None or base is None:
        return None
    billed, usual = stored.billed_micro, base.median_micro
    move = billed - usual
    spread = SPREAD_SIGMAS * MAD_SIGMA * base.mad_micro
    if abs(move) < thresholds.min_amount_micro or abs(move) <= spread or move == 0:
        return None
    if move > 0:
        if billed < usual * thresholds.ratio:
            return None
        direction = "rise"
    else:
        if not drops or billed * thresholds.ratio > usual:
            return None
        direction = "drop"
    return Anomaly(
        day=when,
        integration_id=series.integration_id,
        integration=series.integration,
        provider=series.provider,
        billed_micro=billed,
        baseline_micro=usual,
        ratio=billed / usual if usual else None,
        direction=direction,
        drivers=drivers(series, when, base, rise=move > 0),
    )


def drivers(series: Series, when: date, base: Baseline, *, rise: bool = True) -> tuple[AnomalyDriver, ...]:
    """The members, then the models, that moved most in the day's direction against their own median
    over the baseline's days (absent from a complete day: $0 that day), at most 3 of each, each with
    its share of all that its kind moved in that direction (at usage value): a rise's or a drop's
    shares of one kind add up to 100%. Not of the day's net move: medians do not add up, and a drop in
    billed money may come with usage value moving the other way (a plan covering more of it), which
    made every share 0% or above 100%."""
    day = series.days[when]
    before = [series.days[d] for d in base.days]
    out: list[AnomalyDriver] = []
    for kind in ("member", "model"):
        today_costs = day.members if kind == "member" else day.models
        earlier = [b.members if kind == "member" else b.models for b in before]
        names = set(today_costs).union(*earlier)
        deltas = []
        for name in names:
            delta = today_costs.get(name, 0) - median(costs.get(name, 0) for costs in earlier)
            if (delta > 0) if rise else (delta < 0):
                deltas.append((name, delta))
        deltas.sort(key=lambda pair: (-abs(pair[1]), pair[0]))
        moved = sum(delta for _, delta in deltas)
        for name, delta in deltas[:DRIVERS_PER_KIND]:
            share = Fraction(delta, moved)
            out.append(AnomalyDriver(kind=kind, name=name, delta_micro=delta, share=share))
    return tuple(out)


def find(
    series: Iterable[Series],
    since: date,
    until: date,
    thresholds: Thresholds | None = None,
    *,
    drops: bool = False,
    today: date | None = None,
) -> list[Anomaly]:
    """Every anomaly of [since, until] in each series, by day, then all-together first, then by label.
    Each series must hold the 8 weeks before `since` too (LOOKBACK_DAYS) for a full baseline."""
    thresholds = thresholds or Thresholds()
    out = []
    for each in series:
        when = since
        while when <= until:
            found = judge(each, when, thresholds, drops=drops, today=today)
            if found is not None:
                out.append(found)
            when += timedelta(days=1)
    return sorted(out, key=lambda a: (a.day, a.integration_id is not None, a.integration.casefold(), a.integration))


def together(series: Iterable[Series], *, label: str = "all") -> Series:
    """Every integration's series as one: a day is in it, complete, only when every integration that
    had begun by then (has a stored day on or before it) has it complete; members are named by their
    integration ("label: member"), models as stored (the same name adds up across integrations). Each
    day says how many had begun (`begun`): the demo's Gemini export, begun on the 1st of last month,
    made every later Saturday of all together look like a rise against the Saturdays before it."""
    parts = list(series)
    starts = {id(p): min(p.days) for p in parts if p.days}
    every = sorted({d for p in parts for d in p.days})
    days: dict[date, SeriesDay] = {}
    begun: dict[date, int] = {}
    for when in every:
        present = [p for p in parts if p.days and starts[id(p)] <= when]
        begun[when] = len(present)
        rows = [p.days.get(when) for p in present]
        known = [r for r in rows if r is not None]
        members: dict[str, int] = {}
        models: dict[str, int] = {}
        for p, r in zip(present, rows, strict=True):
            if r is None:
                continue
            for name, cost in r.members.items():
                key = f"{p.integration}: {name}"
                members[key] = members.get(key, 0) + cost
            for name, cost in r.models.items():
                models[name] = models.get(name, 0) + cost
        days[when] = SeriesDay(
            billed_micro=sum(r.billed_micro for r in known),
            usage_micro=sum(r.usage for r in known),
            complete=len(known) == len(rows) and all(r.complete for r in known),
            members=members,
            models=models,
        )
    return Series(integration_id=None, integration=label, provider=None, days=days, begun=begun)
