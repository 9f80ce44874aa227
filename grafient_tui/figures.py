"""The figures Grafient reads and shows: one read model for the CLI, the app and the home snapshot.

Plain frozen dataclasses with named fields, built by the store's queries (store/queries.py,
store/budget_queries.py) and the budget rules (budgets/), handed out by the service, rendered by
the CLI and the screens, and written to and read back from the home snapshot (home_snapshot.py) as
they are. Standard library only, so the app's first paint can hold them before SQLAlchemy is even
imported.

Money is integer micro-cents (grafient_tui.money converts it, only for output). None in a figure is
unknown or not applicable (a provider that gives no request count, a day never synced), never 0.
Figures whose dollars are an estimate (ElevenLabs' credits priced at the plan's list price) carry a
Basis that says so, and every output marks them with it (grafient_tui.estimates reads it back from
the store).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

# --------------------------------------------------------------------------- how the dollars were made

ESTIMATE_MARK = "≈"
UNKNOWN = "—"


@dataclass(frozen=True)
class Basis:
    """One integration's (or a total's) cost basis, as every output shows it."""

    estimated: bool = False  # an estimate (ElevenLabs' credits priced at the plan's list price)
    cost_known: bool = True  # False: the provider cannot price it; every dollar figure is unknown
    note: str | None = None  # one sentence for beside the figures
    # For `report --format json` only: the home snapshot does not keep it (a screen never shows it).
    estimate: dict[str, Any] | None = field(default=None, compare=False, metadata={"snapshot": False})
    estimated_labels: tuple[str, ...] = ()  # in a total: the integrations whose dollars are estimates
    unknown_labels: tuple[str, ...] = ()  # in a total: those whose cost is unknown (not in it)

    @property
    def kind(self) -> str:
        """`cost_basis` in JSON: "estimate" or "billed"."""
        return "estimate" if self.estimated else "billed"

    @property
    def short_note(self) -> str | None:
        """A few words for a card: "estimate", "cost unknown", "converted from EUR"."""
        if not self.cost_known:
            return "cost unknown"
        if self.estimated:
            return "estimate"
        if self.note and self.note.startswith("converted from "):
            return self.note.split(" at ", 1)[0]
        return None

    def money(self, micro: int | None, *, cents: bool = True) -> str:
        """`$12.34`, `≈$12.34` for an estimate, `—` when the cost is unknown (never $0)."""
        from grafient_tui.money import format_usd  # here: importing the read model loads nothing of ours

        if micro is None or not self.cost_known:
            return UNKNOWN
        text = format_usd(micro, cents=cents)
        return ESTIMATE_MARK + text if self.estimated else text

    def usd(self, value: float | None) -> float | None:
        """A JSON dollar figure: null when the cost is unknown."""
        return value if self.cost_known else None

    @property
    def billed_words(self) -> str:
        """What its amount is called: "Billed", or "Estimated cost" where every dollar of it is an estimate
        (ElevenLabs' credits at its plan's price: no invoice says it). A total that only includes
        estimates stays "Billed", its note saying which (`total_note`)."""
        return "Estimated cost" if self.estimated and not self.estimated_labels else "Billed"

    def total_note(self) -> str | None:
        """What a total over several integrations says about itself, or None."""
        parts = []
        if self.estimated_labels:
            parts.append("includes estimates (" + ", ".join(self.estimated_labels) + ")")
        if self.unknown_labels:
            parts.append("leaves out " + ", ".join(self.unknown_labels) + " (cost unknown)")
        return "; ".join(parts) or None


BILLED = Basis()

# --------------------------------------------------------------------------- integrations


@dataclass(frozen=True, kw_only=True)
class IntegrationInfo:
    """Who an integration is: what `grafient list` and the report name it by. Never its key."""

    integration_id: int
    label: str
    provider: str
    key_hint: str  # the key's last four characters, as stored
    created: datetime  # UTC
    team_members: int | None = None
    history_from: date | None = None  # the earliest day the provider returned usage for
    cycle_start: date | None = None  # the provider's billing-cycle anchor (Cursor's), as a UTC day
    # The provider's account settings besides the key ({"org": "acme"}); not secret. None when the
    # stored ones cannot be read (the row is damaged: its sync says so).
    account: dict[str, str] | None = field(default_factory=dict)
    basis: Basis = BILLED  # how its dollars are made (its provider's kind, and what its last sync stored)


@dataclass(frozen=True, kw_only=True)
class SyncStatus:
    """An integration's sync state as the store has it (corrected by the sync lock)."""

    status: str  # never synced | syncing | ok | failed | interrupted
    last_sync: datetime | None  # UTC, when the last successful sync ended
    error: str | None


# --------------------------------------------------------------------------- days, models, members


@dataclass(frozen=True, kw_only=True)
class DayFigures:
    """One UTC day of one integration. `synced` False: never fetched, which is not "no usage"."""

    day: date
    synced: bool
    complete: bool  # the day had ended when it was synced
    cost_micro: int = 0
    on_demand_micro: int | None = 0
    included_micro: int | None = 0
    requests: int | None = 0
    request_units_micro: int | None = 0  # None: the provider has no request units (only Cursor's days do)
    input_tokens: int | None = 0
    output_tokens: int | None = 0
    cache_read_tokens: int | None = 0
    cache_write_tokens: int | None = 0
    top_model: str | None = None  # the dearest model of the day (of equally dear ones, the first by name)
    reasoning_tokens: int | None = None
    byok_micro: int | None = None  # bring-your-own-key spend billed by other providers, beside the cost
    credits_micro: int | None = None  # units billed instead of money (ElevenLabs' credits, millionths)
    characters: int | None = None
    # Why a day has no figures, in words: "not reported yet" (today, from a provider that reports
    # completed days only), "older than OpenRouter keeps", "never synced"; None for a synced day.
    gap: str | None = None


# A model's count no line of it reports (ModelFigures.reports_requests / reports_tokens False), as every
# table and screen words it: not an unknown (—), not 0. A total over models some of which do not report
# it is over the others, and carries the mark with a note saying so.
NOT_REPORTED = "n/a"
OVER_REPORTING = " *"
OVER_REPORTING_NOTE = "n/a: not reported for that model by its provider; * a total over the models that report it"


@dataclass(frozen=True, kw_only=True)
class ModelFigures:
    """One model's totals over a range (or one day)."""

    model: str
    cost_micro: int
    requests: int | None
    input_tokens: int | None = 0
    output_tokens: int | None = 0
    cache_read_tokens: int | None = 0
    cache_write_tokens: int | None = 0
    reasoning_tokens: int | None = None
    credits_micro: int | None = None  # units billed instead of money (ElevenLabs' credits, millionths)
    characters: int | None = None
    # The on-demand part (a covered provider's billed amount), where the query reads it; None: not
    # read, no split, or a day of it stored before it was kept per model
    on_demand_micro: int | None = None
    # False: no line of this model reports the count (OpenAI's embeddings and web search, a Cursor
    # model billed per request), so its None is "not reported" (n/a), not unknown (—)
    reports_requests: bool = True
    reports_tokens: bool = True


@dataclass(frozen=True, kw_only=True)
class ModelAcross:
    """One model over several integrations, under its one key (grafient_tui.model_keys): the raw
    names and the providers it covers, and its totals; a count is unknown where any part's is."""

    key: str  # `claude-sonnet-4.5`
    names: tuple[str, ...]  # the raw names it covers, sorted
    providers: tuple[str, ...]  # the providers that billed it, sorted
    cost_micro: int  # usage value
    requests: int | None
    input_tokens: int | None
    output_tokens: int | None
    # What invoices charge for it (a covered provider's on-demand part); None: unknown, a day of it
    # stored before that part was kept per model
    billed_micro: int | None = None
    # False: no part of it reports the count (ModelFigures): None is "not reported" (n/a), not unknown
    reports_requests: bool = True
    reports_tokens: bool = True


@dataclass(frozen=True, kw_only=True)
class MemberFigures:
    """One actor's totals over a range: a member's email, a workspace's or a project's name
    (the provider's capabilities say which)."""

    actor: str
    cost_micro: int
    requests: int | None


NEAR_LIMIT_PCT = 80  # members at or above this share of their spend limit are marked


@dataclass(frozen=True, kw_only=True)
class MemberLimit:
    """One member's spend in the current billing cycle and their spend limit, as the provider last said."""

    member: str  # the email; else the name or id the provider gives
    name: str | None
    spend_micro: int | None  # the cycle's total
    on_demand_micro: int | None
    limit_micro: int | None  # the effective limit; None: none sent

    @property
    def used_micro(self) -> int | None:
        """What counts against the limit: the on-demand spend, else the cycle's total."""
        return self.on_demand_micro if self.on_demand_micro is not None else self.spend_micro

    @property
    def near(self) -> bool:
        """At NEAR_LIMIT_PCT or more of a limit the provider sent."""
        used = self.used_micro
        return bool(
            self.limit_micro
            and self.limit_micro > 0
            and used is not None
            and used * 100 >= self.limit_micro * NEAR_LIMIT_PCT
        )


@dataclass(frozen=True, kw_only=True)
class MemberTable:
    """The members as the detail's table shows them, for one order: the first rows (grafient_tui.tops:
    at most MAX_TABLE_ROWS) and the rest summed exactly in one row."""

    rows: tuple[MemberFigures, ...]
    others: MemberFigures | None  # the rest summed ("1,234 others"); None when nothing was left out
    others_count: int
    total_micro: int  # every member's, listed or not
    total_requests: int | None


@dataclass(frozen=True, kw_only=True)
class ModelTable:
    """The models as the detail's table shows them, for one order (see MemberTable)."""

    rows: tuple[ModelFigures, ...]
    others: ModelFigures | None  # the rest summed ("1,234 others"); None when nothing was left out
    others_count: int
    total: ModelFigures  # every model's figures together, each unknown where any model's is
    # How many models (of all of them) do not report requests / tokens: a known total then covers
    # only the models that report them, and says so
    unreported_requests: int = 0
    unreported_tokens: int = 0


# --------------------------------------------------------------------------- the period's headline


@dataclass(frozen=True, kw_only=True)
class Summary:
    """The headline figures for the UTC days [since, until], and what they cover.

    With several integrations, a day counts as synced (or complete) only when it is for every one
    of them: a total over teams is only as complete as its least complete team.
    """

    since: date
    until: date
    days: int
    synced_days: int
    complete_days: int
    today_partial: bool  # today is in the range and counted so far
    # The usage value. None: no integration here has a synced day in the period, so every amount is
    # unknown (`—`, null, empty), never $0. An integration counts only over the days it has synced.
    total_micro: int | None
    on_demand_micro: int | None  # None: no integration here has an on-demand split
    included_micro: int | None
    requests: int | None  # over the days whose count is known; None when none is
    daily_average_micro: int | None  # over complete synced days; None when there are none
    top_model: str | None
    top_model_micro: int
    change_pct: float | None
    change_note: str | None  # why there is no change figure, in a few words
    requests_partial: bool = False  # some synced days have no request count (a provider gives none)
    byok_micro: int | None = None  # bring-your-own-key spend billed by other providers, beside the total
    # What invoices charge for usage: every provider's cost, but the on-demand part alone of one whose
    # plan or credits cover the rest (Capabilities.covered_by). `total_micro` is the usage value:
    # billed plus what a plan or credits cover. None only in a Summary built without it.
    billed_micro: int | None = None
    split_labels: tuple[str, ...] = ()  # the integrations the on-demand / included split is of
    # The days of the range at least one integration can have (not today where its provider reports
    # completed days only, not older than its provider keeps); None: every day.
    expected_days: int | None = None
    limits: tuple[str, ...] = ()  # what the integrations cannot have in the range, in words
    plan_limited: bool = False  # the change is n/a because the plan keeps too little history
    left_out: tuple[str, ...] = ()  # the integrations the change leaves out (change_note says why)
    # A month not over yet: its spend at the month's end, as budgets forecast it (None: not ready).
    forecast_micro: int | None = None
    forecast_note: str | None = None  # why there is no forecast of a month so far
    # The integrations with no synced day in the period: left out of every sum (named, never $0).
    unsynced: tuple[str, ...] = ()

    @property
    def usage_value_micro(self) -> int | None:
        """Billed plus what a plan or credits cover: everything used, at its price (None: unknown)."""
        return self.total_micro

    @property
    def known(self) -> bool:
        """Some integration has a synced day in the period: its amounts are figures, not unknowns."""
        return self.total_micro is not None

    @property
    def billed(self) -> int | None:
        """What invoices charge for usage (the usage value in a Summary built without it); None: unknown."""
        return self.billed_micro if self.billed_micro is not None else self.total_micro

    @property
    def fully_synced(self) -> bool:
        return self.synced_days >= (self.days if self.expected_days is None else self.expected_days)

    def coverage(self) -> str | None:
        """`31 of 90 days synced` when a day some integration can have is missing, else None."""
        return None if self.fully_synced else f"{self.synced_days} of {self.days} days synced"

    def unsynced_words(self) -> str | None:
        """`nothing synced in this period`, or among several `no day synced: Router (left out)`; else None."""
        if not self.known:
            return "nothing synced in this period"
        if self.unsynced:
            return f"no day synced: {', '.join(self.unsynced)} (left out)"
        return None

    def coverage_words(self) -> str:
        """What the figures cover, when not everything: `31 of 90 days synced · OpenRouter keeps 30 days`."""
        return " · ".join(part for part in (self.coverage(), *self.limits, self.unsynced_words()) if part)


# --------------------------------------------------------------------------- the periods one can look at


@dataclass(frozen=True, kw_only=True)
class PeriodChoice:
    """A period the app and `report` offer (grafient_tui.spans): the last N days, or a calendar month
    (this month so far, last month, any `YYYY-MM`), and the days its change compares against."""

    key: str  # "30", "this-month", "last-month", "2026-11"
    label: str  # "30 days", "this month (Dec 2026, to date)", "last month (Nov 2026)", "Oct 2026"
    since: date
    until: date  # the last day shown: today for a month so far
    previous_since: date  # the span "vs previous" compares with: the same days one period earlier,
    previous_until: date  # or for a month the same days of the month before (all of it for a whole month)
    month: str | None = None  # "2026-11" for a calendar month
    to_date: bool = False  # a month not over yet: its forecast is shown beside it

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def forecast_until(self) -> date | None:
        """The last day of a month so far (its spend there is forecast); None for any other period."""
        if not self.to_date:
            return None
        return (self.since.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)

    @property
    def previous(self) -> tuple[date, date] | None:
        """The span a calendar month compares with; None: the days just before (a rolling period)."""
        return (self.previous_since, self.previous_until) if self.month else None


# --------------------------------------------------------------------------- budgets


@dataclass(frozen=True, kw_only=True)
class PeriodBounds:
    """A budget's period: the UTC calendar month, or a billing cycle (budgets/periods.py works it out)."""

    start: date
    end: date  # the last day of the period, inclusive
    follows_cycle: bool = False  # False: the calendar month (asked for, or no billing cycle is known)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def resets(self) -> date:
        """The first day of the next period."""
        return self.end + timedelta(days=1)

    def day_of(self, today: date) -> int:
        """Today is day N of the period (1-based)."""
        return (today - self.start).days + 1

    def days_left(self, today: date) -> int:
        """The days still to come, today included."""
        return (self.end - today).days + 1


@dataclass(frozen=True, kw_only=True)
class Forecast:
    """A period's spend at its end, as budgets/forecast.py works it out."""

    micro: int | None  # None: not ready
    complete_days: int  # the complete days of the window the average is over
    average_micro: int | None  # one complete day on average; None when there is none
    note: str | None = None  # why there is no forecast

    @property
    def ready(self) -> bool:
        return self.micro is not None


@dataclass(frozen=True, kw_only=True)
class BudgetStatus:
    """One budget, evaluated for the period holding `today` (budgets/status.py decides `status` and
    `thresholds`: over, forecast over or ok, and the 50/80/100/forecast marks it stands past)."""

    budget_id: int
    target: str  # "all", or the integration's label
    target_id: int | None  # None: every integration together
    provider: str | None  # the target integration's provider; None for all
    period: str  # month | cycle
    measure: str  # cost | on_demand
    budget_micro: int
    bounds: PeriodBounds
    today: str  # ISO date of the evaluation
    spent_micro: int
    forecast: Forecast
    synced_days: int  # finished days of the period so far that are synced (for every integration counted)
    finished_days: int  # finished days of the period so far (today not counted)
    status: str  # ok | forecast_over | over
    thresholds: tuple[str, ...]  # every threshold it stands past now
    note: str | None = None  # what the figure covers, when not what one would assume
    # The spend counted includes dollars estimated from credits (ElevenLabs): every figure is marked ≈.
    estimated: bool = False
    # False: no integration counted has a synced day of the period, so the spend is unknown (`—`, null),
    # never $0; the status stays ok (nothing is known to be over: `check` exits 0 as before) and says why.
    spent_known: bool = True

    @property
    def day(self) -> int:
        return self.bounds.day_of(date.fromisoformat(self.today))

    @property
    def percent(self) -> float:
        return self.spent_micro * 100 / self.budget_micro


# --------------------------------------------------------------------------- anomalies (grafient_tui.anomalies)


@dataclass(frozen=True)
class AnomalyDriver:
    """A member (person, workspace, project) or a model whose cost moved most on an anomaly's day,
    against its own same-weekday baseline: `delta_micro` (negative for a drop) and the share of the
    day's move it explains (a fraction of 1; above 1 when others moved the other way)."""

    kind: str  # "member" | "model"
    name: str  # as stored: from a provider, shown through untrusted.py
    delta_micro: int
    share: Fraction | float


@dataclass(frozen=True)
class Anomaly:
    """A complete UTC day whose billed cost left its same-weekday baseline by the ratio and the amount."""

    day: date
    integration_id: int | None  # None = all integrations together
    integration: str  # its label, or "all"
    provider: str | None  # None for all together
    billed_micro: int
    baseline_micro: int  # the median of the previous 4-8 complete same weekdays
    ratio: float | None  # billed / baseline; None when the baseline is $0
    direction: str  # "rise" | "drop"
    drivers: tuple[AnomalyDriver, ...]


# --------------------------------------------------------------------------- what a screen shows


@dataclass(frozen=True, kw_only=True)
class IntegrationFigures:
    """One integration over the period: who it is, its figures, its days and its stored sync state."""

    integration_id: int
    label: str
    provider: str
    key_hint: str
    team_members: int | None
    summary: Summary
    days: tuple[DayFigures, ...]
    status: SyncStatus
    history_from: date | None = None  # the earliest day the provider returned usage for
    basis: Basis = BILLED  # how its dollars were made: every figure of it is marked this way
    # The period's days that are anomalies (grafient_tui.anomalies): marked under the chart. Read
    # again with the figures, not kept in the home snapshot.
    anomaly_days: tuple[date, ...] = field(default=(), metadata={"snapshot": False})


@dataclass(frozen=True, kw_only=True)
class HomeFigures:
    """The home screen: every integration over the period, all of them together, and the budgets."""

    period: int
    today: date
    plan: str
    integrations: tuple[IntegrationFigures, ...]
    summary: Summary | None  # every integration together; None when there are none
    budgets: tuple[BudgetStatus, ...] = ()  # every budget, for the period holding today
    basis: Basis = BILLED  # of the total over every integration (an estimate when one of them is)
    # The models of the period's estimated integrations, by key (grafient_tui.model_keys): the most
    # expensive model's figure is marked ≈ only when it is one of them.
    estimated_models: frozenset[str] = frozenset()
    month: str | None = None  # "2026-11" when the period is a calendar month (`period` is its days)
    # What the plan keeps and how to change it, when it keeps too little for a trend (the first screen
    # after the first add says it): one sentence, None when nothing needs saying.
    plan_note: str | None = None

    def budgets_of(self, integration_id: int | None) -> tuple[BudgetStatus, ...]:
        """The budgets on one integration, or (None) on all together."""
        return tuple(b for b in self.budgets if b.target_id == integration_id)


@dataclass(frozen=True, kw_only=True)
class DetailFigures:
    """The cost detail of one integration over the period."""

    period: int
    today: date
    plan: str
    plan_days: int  # the plan's history, as far as the provider goes
    figures: IntegrationFigures
    # The Models and Members tabs draw at most MAX_TABLE_ROWS rows of each order whatever the count,
    # the rest summed in one row, all read in the thread from what the database sorted and cut
    # (store/top_rows.py): a sort is a look-up. `models` and `members` are the first rows by cost.
    models: tuple[ModelFigures, ...]
    members: tuple[MemberFigures, ...]
    budgets: tuple[BudgetStatus, ...] = ()  # the budgets on this integration
    member_limits: tuple[MemberLimit, ...] = ()  # each member's cycle spend and limit (Cursor)
    model_views: Mapping[tuple[str, bool], ModelTable] = field(default_factory=dict)  # (key, descending) ->
    member_views: Mapping[str, MemberTable] = field(default_factory=dict)  # per sort (tops.MEMBER_SORTS)
    limits_by_member: Mapping[str, MemberLimit] = field(default_factory=dict)  # casefolded member ->
    near_unlisted: tuple[MemberLimit, ...] = ()  # near their limit, without spend this period (at most 200)
    near_count: int = 0  # members at NEAR_LIMIT_PCT or more of their limit
    month: str | None = None  # "2026-11" when the period is a calendar month (period is then its days)
    anomalies: tuple[Anomaly, ...] = ()  # the period's anomalies with their drivers, by day
    # Why there are none to show when the rules could not run (a bad [anomalies] in config.toml).
    anomaly_note: str | None = None


# --------------------------------------------------------------------------- a sync under way, and its end


@dataclass(frozen=True, kw_only=True)
class SyncProgress:
    """How far a running sync has got: its windows, the days written, the API calls made."""

    integration_id: int
    label: str
    trigger: str
    windows_done: int
    windows_total: int
    days_written: int
    requests: int
    # While a request is being retried (cleared when an answer comes): the try about to start, of how
    # many, and why the last one failed, in the HTTP client's own words (never a server's or a key).
    retry_attempt: int = 0
    retry_attempts: int = 0
    retry_reason: str | None = None

    @property
    def retry_line(self) -> str | None:
        """`retrying (2 of 6) · cannot reach the Cursor API at api.cursor.com (connection refused)`."""
        if self.retry_reason is None:
            return None
        return f"retrying ({self.retry_attempt} of {self.retry_attempts}) · {self.retry_reason}"


@dataclass(frozen=True, kw_only=True)
class SyncResult:
    """How one integration's sync ended."""

    integration_id: int
    label: str
    trigger: str
    outcome: str  # success | failed | skipped
    days_written: int = 0
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    error: str | None = None
    # The error's family (errors.py's class name: Unreachable, RateLimited, ...): the app's toast
    # groups failures by it, since each sentence names its own host. None: no error, or no family.
    error_kind: str | None = None
    # Skipped because another session held the lock past the wait (a shared database): the sentence
    # names the holder, and the CLI exits non-zero, since this sync gave up.
    blocked: bool = False


# --------------------------------------------------------------------------- `grafient metrics`


@dataclass(frozen=True, kw_only=True)
class PeriodSpend:
    """One integration's spend over one of the metrics' periods, as the report sums it.

    `period`: today (so far), month_to_date (the UTC calendar month to today) or billing_cycle (the
    provider's cycle to today; the calendar month for a provider that bills by the month). The
    amounts are None when unknown: no day of the period is synced, or the provider cannot price it."""

    period: str
    since: date
    until: date
    billed_micro: int | None  # what invoices charge for usage (Summary.billed_micro)
    usage_value_micro: int | None  # billed plus what a plan or credits cover (Summary.total_micro)
    synced_days: int  # days of the period that are synced
    expected_days: int  # days of the period the provider can have
    models: Mapping[str, int] = field(default_factory=dict)  # model -> usage value (`--by-model` only)


@dataclass(frozen=True, kw_only=True)
class IntegrationMetrics:
    """One integration as `grafient metrics` exposes it: who it is, its spend, its sync state."""

    integration_id: int
    label: str
    provider: str
    basis: Basis
    status: SyncStatus
    spend: tuple[PeriodSpend, ...]


@dataclass(frozen=True, kw_only=True)
class MetricsFigures:
    """Everything `grafient metrics` exposes, read for `today` (UTC) in one read transaction."""

    today: date
    integrations: tuple[IntegrationMetrics, ...]
    budgets: tuple[BudgetStatus, ...]
    by_model: bool = False


# --------------------------------------------------------------------------- FOCUS charges


@dataclass(frozen=True, kw_only=True)
class FocusCharge:
    """One row of the FOCUS export: one UTC day of one integration's usage of one model (or of one
    actor, on a day with a single model), as store/focus_charges.py splits the stored days."""

    integration_id: int
    label: str
    provider: str
    account_id: str  # the provider's account Grafient knows (org, team id), else "integration-<id>"
    day: date
    complete: bool  # the day had ended when it was synced
    billing_start: date  # the provider's billing cycle holding the day (or its calendar month)
    billing_end: date  # inclusive
    model: str | None  # None: the part of the day's cost no model row holds
    actor: str | None  # the day's only member, workspace or project; None when several share its models
    actor_kind: str  # member | workspace | project | api_key
    usage_value_micro: int  # billed plus what a plan or credits cover
    billed_micro: int
    # False: the day's billed amount was shared among its models in proportion to their usage value
    # (the store keeps a covered provider's on-demand part per day, not per model).
    billed_exact: bool
    requests: int | None
    estimated: bool  # dollars Grafient works out (ElevenLabs' credits at the plan's list price)


@dataclass(frozen=True, kw_only=True)
class FocusExport:
    """The FOCUS export's charges, and a sentence for each integration left out (its cost unknown)."""

    charges: tuple[FocusCharge, ...]
    left_out: tuple[str, ...] = ()


# --------------------------------------------------------------------------- alerts


@dataclass(frozen=True, kw_only=True)
class AlertEvent:
    """Something worth telling the team, once per channel (grafient_tui/alerts/).

    `key` is stable for as long as the situation lasts and new when it happens again (a budget's
    threshold in one period; a rejected key until the integration syncs again): the store records
    each (channel, key) once. Every text field may hold outside text (labels, model names): each
    channel's format escapes it; none may hold a secret."""

    key: str  # e.g. "budget:3:2026-12-01:80", "key-rejected:4:1733500000"
    kind: str  # budget | forecast | key_rejected | stale | anomaly | test
    sentence: str  # the event in one sentence
    figure: str | None = None  # the figure it is about, worded: "$812.40 of $1,000 (81%)"
    integration: str | None = None  # its label; None: every integration together
    provider: str | None = None  # its provider's title
    details: tuple[str, ...] = ()  # further lines (an anomaly's drivers)


@dataclass(frozen=True, kw_only=True)
class AlertChannelInfo:
    """An alert channel as `grafient alert list` shows it: never its secret."""

    id: int
    label: str
    kind: str  # slack | teams | webhook | email
    target: str  # where it goes, without secrets: "hooks.slack.com (URL sealed)", "ops@acme.com via smtp:587"
    created: datetime
    last_delivery: datetime | None  # UTC
    last_outcome: str | None  # one sentence
    last_ok: bool | None


@dataclass(frozen=True, kw_only=True)
class AlertDelivered:
    """How one event went to one channel in this run."""

    channel: str  # the channel's label
    event_key: str
    ok: bool
    attempts: int
    outcome: str  # one sentence, never a secret


@dataclass(frozen=True, kw_only=True)
class IntegrationHealth:
    """What the integration-level sources need about one integration (store/alerts.integration_health)."""

    integration_id: int
    label: str
    provider: str
    created: datetime  # UTC
    last_success: datetime | None  # when its last good sync ended
    last_outcome: str | None  # its last finished run's: success | failed | interrupted
    last_error_kind: str | None  # that run's error family (errors.py's class name)
