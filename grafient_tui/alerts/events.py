"""What alerts: pure source functions, figures in, `AlertEvent`s out (no I/O, no clock).

Each event's key is the same in every process that notices the same situation, and new when the
situation happens again, so the store delivers it once per channel (store/alerts.py):

- a budget: `budget:<id>:<period start>:<threshold>`: the highest of 50/80/100% its spend stands
  past in the period, and `forecast` while the forecast is above the budget and spend is not yet;
- a rejected key: `key-rejected:<integration>:<last good sync>`: the last run failed with its key
  rejected (the run's error family); again only after a good sync in between;
- not synced for 48 hours: `stale:<integration>:<last good sync>`;
- an anomaly: `anomaly:<integration id|all>:<day>[:drop]`: a complete day whose billed cost left its
  same-weekday baseline (grafient_tui/anomalies), with the members and models that moved it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from grafient_tui import errors, providers
from grafient_tui.budgets.wording import amount, budget_phrase, estimated, period_noun, rough
from grafient_tui.figures import AlertEvent, Anomaly, BudgetStatus, IntegrationHealth
from grafient_tui.money import format_usd

STALE_AFTER = timedelta(hours=48)


def _key_rejected_kinds() -> frozenset[str]:
    found = {errors.KeyRejected}
    todo = [errors.KeyRejected]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return frozenset(kind.__name__ for kind in found)


def _target(status: BudgetStatus) -> str:
    return "All integrations" if status.target_id is None else status.target


def budget_events(statuses: Sequence[BudgetStatus]) -> list[AlertEvent]:
    out = []
    for status in statuses:
        phrase = budget_phrase(status)
        provider = None if status.provider is None else providers.title(status.provider)
        spent = f"{estimated(status)}{format_usd(status.spent_micro)}"
        figure = f"{spent} of {amount(status.budget_micro)} ({status.percent:.0f}%)"
        base = f"budget:{status.budget_id}:{status.bounds.start.isoformat()}"
        spend = [t for t in status.thresholds if t != "forecast"]
        if spend:
            top = max(spend, key=int)
            reached = "is over" if top == "100" else f"has reached {top}% of"
            out.append(
                AlertEvent(
                    key=f"{base}:{top}",
                    kind="budget",
                    sentence=f"{_target(status)} {reached} its {phrase}: {spent} of {amount(status.budget_micro)}, "
                    f"resets {status.bounds.resets.isoformat()}.",
                    figure=figure,
                    integration=None if status.target_id is None else status.target,
                    provider=provider,
                )
            )
        if "forecast" in status.thresholds and "100" not in spend and status.forecast.micro is not None:
            forecast = f"{estimated(status)}{rough(status.forecast.micro)}"
            out.append(
                AlertEvent(
                    key=f"{base}:forecast",
                    kind="forecast",
                    sentence=f"{_target(status)} is forecast to spend {forecast} by the end of this "
                    f"{period_noun(status)}, above its {phrase} of {amount(status.budget_micro)}.",
                    figure=f"forecast {forecast} of {amount(status.budget_micro)}; spent so far {spent}",
                    integration=None if status.target_id is None else status.target,
                    provider=provider,
                )
            )
    return out


def _since(moment: datetime | None) -> str:
    return "never" if moment is None else str(int(moment.timestamp()))


def key_rejected_events(health: Sequence[IntegrationHealth]) -> list[AlertEvent]:
    kinds = _key_rejected_kinds()
    return [
        AlertEvent(
            key=f"key-rejected:{h.integration_id}:{_since(h.last_success)}",
            kind="key_rejected",
            sentence=f"{providers.title(h.provider)} rejected the API key of {h.label}: its syncs fail until it is "
            f"replaced (grafient rekey).",
            integration=h.label,
            provider=providers.title(h.provider),
        )
        for h in health
        if h.last_outcome == "failed" and h.last_error_kind in kinds
    ]


def stale_events(health: Sequence[IntegrationHealth], now: datetime) -> list[AlertEvent]:
    out = []
    for h in health:
        since = h.last_success or h.created
        if now - since < STALE_AFTER:
            continue
        hours = int((now - since).total_seconds() // 3600)
        when = "has never synced" if h.last_success is None else "has not synced"
        out.append(
            AlertEvent(
                key=f"stale:{h.integration_id}:{_since(h.last_success)}",
                kind="stale",
                sentence=f"{h.label} {when} for {hours} hours"
                + ("" if h.last_success is None else f" (last good sync {h.last_success:%Y-%m-%d %H:%M} UTC)")
                + ".",
                figure=f"{hours} hours",
                integration=h.label,
                provider=providers.title(h.provider),
            )
        )
    return out


def test_event(label: str, now: datetime) -> AlertEvent:
    """`grafient alert test`'s message: never recorded as a delivery."""
    return AlertEvent(
        key=f"test:{int(now.timestamp())}",
        kind="test",
        sentence=f"This is a test alert from Grafient to the channel {label}: it works.",
    )


MAX_DRIVERS = 6  # lines of drivers in one anomaly's alert


def anomaly_events(anomalies: Sequence[Anomaly]) -> list[AlertEvent]:
    """One event per anomaly, keyed by its integration and day (the same in every process that finds it)."""
    out = []
    for a in anomalies:
        who = "All integrations" if a.integration_id is None else a.integration
        provider = None if a.provider is None else providers.title(a.provider)
        moved = "far above" if a.direction == "rise" else "far below"
        ratio = "" if a.ratio is None else f", x{a.ratio:.2f}"
        out.append(
            AlertEvent(
                key=f"anomaly:{a.integration_id or 'all'}:{a.day.isoformat()}"
                + ("" if a.direction == "rise" else ":drop"),
                kind="anomaly",
                sentence=f"{who} was billed {format_usd(a.billed_micro)} on {a.day.isoformat()} (UTC), {moved} "
                f"its usual {format_usd(a.baseline_micro)} for that weekday.",
                figure=f"{format_usd(a.billed_micro)} against a baseline of {format_usd(a.baseline_micro)}{ratio}",
                integration=None if a.integration_id is None else a.integration,
                provider=provider,
                details=tuple(
                    f"{d.kind} {d.name}: {'+' if d.delta_micro >= 0 else '-'}{format_usd(abs(d.delta_micro))} "
                    f"({float(d.share) * 100:.0f}% of the change)"
                    for d in a.drivers[:MAX_DRIVERS]
                ),
            )
        )
    return out
