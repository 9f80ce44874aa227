"""`grafient metrics`: the stored figures in the Prometheus text exposition format, for node_exporter's
textfile collector (README, Prometheus).

Three parts: `read_metrics` reads the figures (the same sums as `grafient report`, in one read
transaction), `render_metrics` writes them with the official client (`prometheus_client`, imported
there only: nothing the app loads at start-up imports it), and `write_textfile` puts them in place
atomically. No network, no Textual.

What the series carry, and why:
- Labels are bounded: the integration (its id, label and provider), the budget (its id, target,
  period and measure), a fixed set of periods, amounts and states; models only with `--by-model`,
  at most MAX_MODEL_SERIES of them per integration and period (the rest in one `others` series). Every
  label value from outside (a label, a provider or model name as stored) goes through the one rule
  (untrusted.visible: control characters as escapes) and is cut to MAX_LABEL_VALUE characters.
- Unknown is never 0: a figure Grafient does not know (a period with no synced day, an integration
  whose provider cannot price it, a forecast not ready, a sync that never succeeded) has no sample,
  and each metric's HELP says when that happens.
- Money is exact micro-cents to the nearest float (money.usd_float), which the client writes with
  repr(): 12.34 stays `12.34`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date
from pathlib import Path
from typing import TYPE_CHECKING

from grafient_tui.budgets.periods import month_bounds, period_bounds
from grafient_tui.errors import ConfigError
from grafient_tui.figures import IntegrationMetrics, MetricsFigures, PeriodSpend
from grafient_tui.money import usd_float
from grafient_tui.untrusted import cap, visible

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from grafient_tui.config import Settings
    from grafient_tui.store.db import Database
    from grafient_tui.store.read import Reader

PERIODS = ("today", "month_to_date", "billing_cycle")
MAX_LABEL_VALUE = 128  # characters of a label value from outside (an integration's label is at most 64)
MAX_MODEL_SERIES = 50  # models per integration and period with a series of their own (`--by-model`)
SYNC_STATES = ("ok", "failed", "syncing", "interrupted", "skipped", "never_synced", "unknown")
BUDGET_STATES = ("ok", "forecast_over", "over")
MEASURES = {"cost": "usage_value", "billed": "billed", "on_demand": "on_demand"}  # a budget's, as a label
TEXTFILE_SUFFIX = ".prom"  # node_exporter's textfile collector reads these files only
NEW_FILE_MODE = 0o644  # README, Prometheus: node_exporter runs as another user and must read it


# --------------------------------------------------------------------------- reading


def read_metrics(
    read: Reader, settings: Settings, locks: Database | None, today: date, *, by_model: bool = False
) -> MetricsFigures:
    """The figures for `today` (UTC), read in `read`'s transaction. `locks`: where a shared database's
    syncs hold their locks (None on a SQLite home, whose locks are files)."""
    from grafient_tui.store.budget_queries import evaluate
    from grafient_tui.store.queries import integrations
    from grafient_tui.sync.status import sync_status

    found = []
    for info in integrations(read):
        iid = info.integration_id
        spans = {
            "today": (today, today),
            "month_to_date": (month_bounds(today).start, today),
            "billing_cycle": (period_bounds("cycle", today, info.cycle_start).start, today),
        }
        found.append(
            IntegrationMetrics(
                integration_id=iid,
                label=info.label,
                provider=info.provider,
                basis=info.basis,
                status=sync_status(locks, settings, iid, read=read),
                spend=tuple(
                    _spend(read, iid, period, since, until, known=info.basis.cost_known, by_model=by_model)
                    for period, (since, until) in spans.items()
                ),
            )
        )
    return MetricsFigures(
        today=today, integrations=tuple(found), budgets=tuple(evaluate(read, today)), by_model=by_model
    )


def _spend(
    read: Reader, iid: int, period: str, since: date, until: date, *, known: bool, by_model: bool
) -> PeriodSpend:
    from grafient_tui.store.queries import model_costs, period_summary

    models = model_costs(read, iid, since, until) if by_model else {}
    # `costs` given: the summary's top model is not needed here, so it reads no model rows of its own
    summary = period_summary(read, iid, days=(until - since).days + 1, until=until, today=until, costs=models)
    has_figures = known and summary.known  # the one rule (period_summary): a synced day of the period
    return PeriodSpend(
        period=period,
        since=since,
        until=until,
        billed_micro=summary.billed_micro if has_figures else None,
        usage_value_micro=summary.usage_value_micro if has_figures else None,
        synced_days=summary.synced_days,
        expected_days=summary.days if summary.expected_days is None else summary.expected_days,
        models=models if has_figures else {},
    )


# --------------------------------------------------------------------------- rendering


def label_value(text: str) -> str:
    """A label value from outside: through the one rule (control and invisible characters as their
    escapes), then cut to MAX_LABEL_VALUE characters with a visible mark."""
    return cap(visible(text), MAX_LABEL_VALUE)


HELP = {
    "integration_info": (
        "One series per integration, always 1: its id, label, provider and cost_basis (billed: the provider's "
        "own dollars; estimate: dollars Grafient works out from credits; unknown: the provider cannot price "
        "it, so it has no spend series)."
    ),
    "spend_usd": (
        "Spend in US dollars over the UTC period, as `grafient report` sums the stored days: today (so far), "
        "month_to_date (the calendar month to today), billing_cycle (the provider's billing cycle to today; the "
        "calendar month for providers that bill by the month). amount=billed: what invoices charge for usage "
        "(Cursor's on-demand part, every other provider's cost); amount=usage_value: billed plus what a plan or "
        "credits cover. No sample when unknown (never 0): no day of the period synced, or the cost unknown; a "
        "period synced in part is summed over the days it has (grafient_spend_synced_dates)."
    ),
    "spend_synced_dates": (
        "UTC days (dates) of the period that are synced: a day never fetched is not a $0 day (named in dates: "
        "promtool takes a name ending in _days for a time in days)."
    ),
    "spend_expected_dates": (
        "UTC days (dates) of the period the provider can have (not today where it reports finished days only, "
        "nothing older than it keeps); fewer synced days than these: the spend is a part of the period's."
    ),
    "sync_state": (
        "1 for the integration's sync state as `grafient list` shows it, 0 for the others: ok, failed, syncing, "
        "interrupted, skipped, never_synced, unknown (the sync log holds an outcome this Grafient does not know)."
    ),
    "sync_last_success_timestamp_seconds": (
        "When the integration's last successful sync ended, in Unix seconds; no sample when none ever succeeded."
    ),
    "budget_usd": (
        'A budget in US dollars, on one integration or on all (budget="all"), per calendar month or billing '
        "cycle (period), measuring the usage value, the billed amount or the on-demand part (measure)."
    ),
    "budget_spent_usd": (
        "What the budget's measure has spent so far in its current period, in US dollars; no sample when no "
        "day of the period is synced (unknown, never 0)."
    ),
    "budget_ratio": "Spent over budget: 1 is the budget reached; no sample when the spend is unknown.",
    "budget_forecast_usd": (
        "The period's spend at its end, as `grafient check` forecasts it (spend through yesterday plus the "
        "average complete day of the 14 before today times the days left); no sample while not ready (fewer "
        "than 7 complete days)."
    ),
    "budget_status": (
        "1 for the budget's status as `grafient check` words it, 0 for the others: ok, forecast_over, over."
    ),
    "model_spend_usd": (
        "A model's usage value in US dollars over the period (--by-model only; the models a provider names, at "
        f"most {MAX_MODEL_SERIES} per integration and period, the dearest; the rest in "
        "grafient_model_spend_others_usd). No sample when the integration's spend is unknown."
    ),
    "model_spend_others_usd": (
        f"The usage value of the models past the {MAX_MODEL_SERIES} dearest of an integration and period, "
        "together (--by-model only); no sample when none was left out."
    ),
}

INTEGRATION = ("integration_id", "integration", "provider")
BUDGET = ("budget_id", "budget", "period", "measure")


class _Families:
    """The metric families, in the order they are written; each family lists its samples."""

    def __init__(self) -> None:
        from prometheus_client.core import GaugeMetricFamily

        labels = {
            "integration_info": (*INTEGRATION, "cost_basis"),
            "spend_usd": (*INTEGRATION, "amount", "period"),
            "spend_synced_dates": (*INTEGRATION, "period"),
            "spend_expected_dates": (*INTEGRATION, "period"),
            "sync_state": (*INTEGRATION, "state"),
            "sync_last_success_timestamp_seconds": INTEGRATION,
            "budget_usd": BUDGET,
            "budget_spent_usd": BUDGET,
            "budget_ratio": BUDGET,
            "budget_forecast_usd": BUDGET,
            "budget_status": (*BUDGET, "status"),
            "model_spend_usd": (*INTEGRATION, "model", "period"),
            "model_spend_others_usd": (*INTEGRATION, "period"),
        }
        self.families = {
            name: GaugeMetricFamily(f"grafient_{name}", HELP[name], labels=list(names))
            for name, names in labels.items()
        }

    def add(self, name: str, labels: tuple[str, ...], value: float) -> None:
        self.families[name].add_metric(list(labels), value)

    def written(self, by_model: bool) -> Iterator[Metric]:
        for name, family in self.families.items():
            if name.startswith("model_") and not by_model:
                continue
            yield family


def render_metrics(figures: MetricsFigures) -> bytes:
    """The text exposition format (version 0.0.4) of `figures`, every label value from outside through
    `label_value`; UTF-8."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.registry import Collector

    families = _Families()
    for integ in figures.integrations:
        _add_integration(families, integ)
    for budget in figures.budgets:
        who = (
            str(budget.budget_id),
            label_value(budget.target),
            label_value(budget.period),
            MEASURES.get(budget.measure, label_value(budget.measure)),
        )
        families.add("budget_usd", who, usd_float(budget.budget_micro))
        if budget.spent_known:  # no day of the period synced: no sample (unknown, never 0)
            families.add("budget_spent_usd", who, usd_float(budget.spent_micro))
            families.add("budget_ratio", who, budget.spent_micro / budget.budget_micro)
        if budget.forecast.micro is not None:
            families.add("budget_forecast_usd", who, usd_float(budget.forecast.micro))
        for state in BUDGET_STATES:
            families.add("budget_status", (*who, state), 1.0 if budget.status == state else 0.0)

    class _Collected(Collector):
        def collect(self) -> Iterator[Metric]:
            return families.written(figures.by_model)

    # A registry of its own: no process or platform collectors, only these families.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collected())
    return generate_latest(registry)


def _add_integration(families: _Families, integ: IntegrationMetrics) -> None:
    who = (str(integ.integration_id), label_value(integ.label), label_value(integ.provider))
    basis = "unknown" if not integ.basis.cost_known else integ.basis.kind
    families.add("integration_info", (*who, basis), 1.0)
    for spend in integ.spend:
        if spend.billed_micro is not None:
            families.add("spend_usd", (*who, "billed", spend.period), usd_float(spend.billed_micro))
        if spend.usage_value_micro is not None:
            families.add("spend_usd", (*who, "usage_value", spend.period), usd_float(spend.usage_value_micro))
        families.add("spend_synced_dates", (*who, spend.period), float(spend.synced_days))
        families.add("spend_expected_dates", (*who, spend.period), float(spend.expected_days))
        _add_models(families, who, spend)
    state = integ.status.status.replace(" ", "_")
    state = state if state in SYNC_STATES else "unknown"
    for each in SYNC_STATES:
        families.add("sync_state", (*who, each), 1.0 if each == state else 0.0)
    if integ.status.last_sync is not None:
        moment = integ.status.last_sync
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        families.add("sync_last_success_timestamp_seconds", who, moment.timestamp())


def _add_models(families: _Families, who: tuple[str, ...], spend: PeriodSpend) -> None:
    """The dearest models of the period, each under its label value (names that read the same once
    cleaned and cut are one series, summed), the rest together."""
    by_label: dict[str, int] = {}
    for model, micro in spend.models.items():
        shown = label_value(model)
        by_label[shown] = by_label.get(shown, 0) + micro
    ranked = sorted(by_label.items(), key=lambda item: (-item[1], item[0]))
    for shown, micro in ranked[:MAX_MODEL_SERIES]:
        families.add("model_spend_usd", (*who, shown, spend.period), usd_float(micro))
    if len(ranked) > MAX_MODEL_SERIES:
        rest = sum(micro for _, micro in ranked[MAX_MODEL_SERIES:])
        families.add("model_spend_others_usd", (*who, spend.period), usd_float(rest))


# --------------------------------------------------------------------------- the textfile


def write_textfile(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically, as node_exporter's textfile collector needs (a scrape reads
    the old file or the new one, never half of one), through the one `--output` writer
    (config.write_output_file: no link followed, nothing but a regular file of this user replaced). A new
    file is NEW_FILE_MODE; an existing one keeps its mode. ConfigError with one sentence for a name the
    collector would not read, or anything the writer refuses."""
    from grafient_tui.config import write_output_file

    if not path.name.endswith(TEXTFILE_SUFFIX):
        raise ConfigError(
            f"--output {visible(str(path))}: node_exporter's textfile collector reads only files whose name ends "
            f"in {TEXTFILE_SUFFIX} (to write anywhere else, redirect standard output)."
        )
    write_output_file(path, data, new_mode=NEW_FILE_MODE, keep_mode=True)
