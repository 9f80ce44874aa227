"""One window's sums as the store writes them: per day, per day and model, per day and member.

Named fields, one per stored column. None is unknown (a provider that does not report a figure, a
report that failed), never 0, and a sum keeps it unknown by one of two rules, each a function here:
`known_plus` (unknown as soon as one part is: requests, tokens, BYOK money) and `units_plus`
(unknown only while no part is known: credits and characters, which some models make and others
do not). A third rule, `reported_plus`, sums requests and tokens over lines some of which do not
report them (providers/base.py CostLine: a cost line whose usage another line counts, an event
without token counts): such a line adds nothing, and a sum that no line reports stays unknown.
Importing this loads no database library: the sync's aggregation (sync/totals.py) and its
planner share it with the writer (store/sync_writes.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from grafient_tui.providers.base import Capabilities

# What one stored row (a day, a day's model, a day's member) may count at most, as its money may hold
# money.MAX_DAY_MICRO (store/sync_writes.check_storable refuses more; store/row_check.py names a
# row that holds more): requests, tokens or request units of one integration's day: 922,337 such rows
# fit a SUM.
MAX_DAY_COUNT = 10**13
# Credits in millionths (ElevenLabs): 100 million credits in a day, ten times a month of the largest
# plan it lists; like money, 92,233 such rows fit a SUM.
MAX_DAY_CREDITS_MICRO = 10**14

# A window's capabilities when its caller names none (a test's own sums): Cursor's.
CURSOR_LIKE = Capabilities(has_requests=True, actor_kind="member")


def known_plus(total: int | None, value: int | None) -> int | None:
    """A count summed where one unknown part makes the sum unknown (requests, tokens, BYOK money)."""
    return None if total is None or value is None else total + value


def units_plus(total: int | None, value: int | None) -> int | None:
    """Credits or characters summed: a part without them (a model that makes no characters) adds
    nothing, and the sum is unknown only when no part has any."""
    if value is None:
        return total
    return value if total is None else total + value


# The figures a sum has had a reporting line for (its `reported` bits), for `reported_plus`.
REQUESTS = 1
TOKENS = 2


def reported_plus(total: int | None, value: int | None, *, first: bool) -> int | None:
    """A count summed over the lines that report it (a line that does not is never passed): the
    first one starts the sum, each next one adds by `known_plus`. So a sum no line reports stays
    None (unknown, never 0), and one reporting line with an unknown count makes the sum unknown."""
    return value if first else known_plus(total, value)


def all_known(values: Iterable[int | None]) -> int | None:
    """0 when every value is known, else None: what a day without lines knows of a figure."""
    return None if any(value is None for value in values) else 0


@dataclass(slots=True)
class DaySums:
    """One UTC day of one integration: a row of `dailycost`."""

    cost_micro: int
    on_demand_micro: int | None = None  # None: the provider has no on-demand / included split
    included_micro: int | None = None
    requests: int | None = None
    request_units_micro: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    byok_micro: int | None = None  # billed by another provider: beside the cost, never in it
    credits_micro: int | None = None  # units billed instead of money (ElevenLabs), in millionths
    characters: int | None = None
    reported: int = field(default=0, repr=False, compare=False)  # REQUESTS | TOKENS: what a line reported

    def columns(self) -> dict[str, int | None]:
        return {
            "cost_micro": self.cost_micro,
            "on_demand_micro": self.on_demand_micro,
            "included_micro": self.included_micro,
            "requests": self.requests,
            "request_units_micro": self.request_units_micro,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "byok_micro": self.byok_micro,
            "credits_micro": self.credits_micro,
            "characters": self.characters,
        }


@dataclass(slots=True)
class ModelSums:
    """One model's share of a day: a row of `dailymodelcost`."""

    cost_micro: int
    requests: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    credits_micro: int | None = None
    characters: int | None = None
    # The model's on-demand part, summed as the day's is (0 where a split provider's lines are all
    # included); None: the provider has no on-demand / included split
    on_demand_micro: int | None = None
    reported: int = field(default=0, repr=False, compare=False)

    def columns(self) -> dict[str, int | None]:
        return {
            "cost_micro": self.cost_micro,
            "on_demand_micro": self.on_demand_micro,
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "credits_micro": self.credits_micro,
            "characters": self.characters,
        }


@dataclass(slots=True)
class MemberSums:
    """One actor's (member, workspace, project) share of a day: a row of `dailymembercost`."""

    cost_micro: int
    requests: int | None = None
    reported: int = field(default=0, repr=False, compare=False)


class WindowSums:
    """The sums of one window of days, keyed by day, (day, model) and (day, actor)."""

    __slots__ = ("capabilities", "days", "members", "models")

    def __init__(self, *, capabilities: Capabilities | None = None) -> None:
        self.capabilities = capabilities or CURSOR_LIKE
        self.days: dict[date, DaySums] = {}
        self.models: dict[tuple[date, str], ModelSums] = {}
        self.members: dict[tuple[date, str], MemberSums] = {}

    def empty_day(self) -> DaySums:
        """The sums of a day the answer covers without a single line: zero where this window's lines
        know the figure, unknown where they do not (a usage report that failed for the window leaves
        its quiet days' requests or tokens unknown too, never 0). Without any line, the provider's
        capabilities decide."""
        caps = self.capabilities
        split = 0 if caps.has_on_demand else None
        tokens = 0 if caps.has_tokens else None
        estimated = 0 if caps.cost_basis == "estimate" else None  # credits: what an estimate is made from
        day = DaySums(
            cost_micro=0,
            on_demand_micro=split,
            included_micro=split,
            requests=0 if caps.has_requests else None,
            input_tokens=tokens,
            output_tokens=tokens,
            cache_read_tokens=tokens,
            cache_write_tokens=tokens,
            reasoning_tokens=None,
            byok_micro=0 if caps.has_byok else None,
            credits_micro=estimated,
            characters=estimated,
        )
        if self.days:
            # Only the days whose lines reported a figure say whether this window knows it: a day
            # of embeddings alone (no line reports its requests) says nothing of a quiet day's.
            seen = list(self.days.values())
            counted = [d for d in seen if d.reported & REQUESTS]
            tokened = [d for d in seen if d.reported & TOKENS]
            day.requests = all_known(d.requests for d in counted) if counted else day.requests
            if tokened:
                day.input_tokens = all_known(d.input_tokens for d in tokened)
                day.output_tokens = all_known(d.output_tokens for d in tokened)
                day.cache_read_tokens = all_known(d.cache_read_tokens for d in tokened)
                day.cache_write_tokens = all_known(d.cache_write_tokens for d in tokened)
                day.reasoning_tokens = all_known(d.reasoning_tokens for d in tokened)
            day.byok_micro = all_known(d.byok_micro for d in seen)
        return day


def day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """The days as runs of consecutive days, (first, last) each, oldest first."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
