"""`grafient anomalies` as a table, JSON or CSV: one row per anomaly (day, integration, billed cost,
baseline, ratio, drivers). Money in JSON and CSV as the report writes it (exact decimal dollars as
strings); names from providers through untrusted.py; CSV cells neutralised. No Textual."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from grafient_tui.anomalies.rules import Thresholds
from grafient_tui.figures import Anomaly, AnomalyDriver
from grafient_tui.money import format_usd, usd_exact
from grafient_tui.tables import format_table
from grafient_tui.untrusted import cap, csv_cell, visible

NAME_WIDTH = 40  # characters of a driver's name in a table cell


@dataclass(frozen=True)
class Covered:
    """What a run of the rules looked at, for the output's heading and its "none" sentence."""

    since: date
    until: date
    scope: str  # a label, or "all integrations"
    thresholds: Thresholds
    drops: bool = False


def ratio_words(anomaly: Anomaly) -> str:
    return "from $0" if anomaly.ratio is None else f"x{anomaly.ratio:.2f}"


def signed_usd(micro: int) -> str:
    return format_usd(micro) if micro < 0 else "+" + format_usd(micro)  # `−$2.46` for a fall: money's one sign


def driver_words(driver: AnomalyDriver, width: int = NAME_WIDTH) -> str:
    """`bob@x.io +$160.00 (80%)`: who or what, how much it moved, and its share of the day's move."""
    return f"{cap(visible(driver.name), width)} {signed_usd(driver.delta_micro)} ({float(driver.share) * 100:.0f}%)"


def drivers_words(anomaly: Anomaly) -> str:
    """Members, then models: `members: bob@x.io +$160.00 (80%); models: o3 +$200.00 (100%)`."""
    parts = []
    for kind, title in (("member", "members"), ("model", "models")):
        named = [driver_words(d) for d in anomaly.drivers if d.kind == kind]
        if named:
            parts.append(f"{title}: {', '.join(named)}")
    return "; ".join(parts) or "no single member or model"


def none_sentence(covered: Covered) -> str:
    kinds = "rises or drops" if covered.drops else "rises"
    return (
        f"No anomalies in {covered.since} .. {covered.until} UTC for {visible(covered.scope)} "
        f"({kinds} of a complete day's billed cost over x{covered.thresholds.ratio:g} and "
        f"{format_usd(covered.thresholds.min_amount_micro)} against the same weekday of the 4-8 weeks before)."
    )


def render_table(anomalies: list[Anomaly], covered: Covered) -> str:
    if not anomalies:
        return none_sentence(covered)
    rows = [
        [
            a.day.isoformat() + ("" if a.direction == "rise" else " (drop)"),
            cap(visible(a.integration), NAME_WIDTH) + ("" if a.provider is None else f" ({visible(a.provider)})"),
            format_usd(a.billed_micro),
            format_usd(a.baseline_micro),
            ratio_words(a),
            drivers_words(a),
        ]
        for a in anomalies
    ]
    title = (
        f"Anomalies {covered.since} .. {covered.until} UTC, {visible(covered.scope)}: billed cost against the median "
        f"of the same weekday over the 4-8 complete weeks before (x{covered.thresholds.ratio:g} and "
        f"{format_usd(covered.thresholds.min_amount_micro)} at least)"
    )
    table = format_table(["DAY", "INTEGRATION", "BILLED", "BASELINE", "RATIO", "DRIVERS"], rows, {2, 3, 4})
    return title + "\n" + table


def row_data(anomaly: Anomaly) -> dict[str, Any]:
    """One anomaly as JSON: exactly day, integration, provider, billed, baseline, ratio, drivers. Names
    are the data as stored (JSON escapes them), cut to MAX_NAME: what a sync stores is never longer,
    a row planted in a shared database may be."""
    return {
        "day": anomaly.day.isoformat(),
        "integration": cap(anomaly.integration),
        "provider": anomaly.provider,
        "billed": usd_exact(anomaly.billed_micro),
        "baseline": usd_exact(anomaly.baseline_micro),
        "ratio": None if anomaly.ratio is None else round(anomaly.ratio, 4),
        "drivers": [{"kind": d.kind, "name": cap(d.name), "delta": usd_exact(d.delta_micro)} for d in anomaly.drivers],
    }


def json_data(anomalies: list[Anomaly], covered: Covered) -> dict[str, Any]:
    """An object like the report's: what was covered, and the list of anomalies."""
    return {
        "currency": "USD",
        "timezone": "UTC",
        "since": covered.since.isoformat(),
        "until": covered.until.isoformat(),
        "ratio": covered.thresholds.ratio,
        "min_amount": usd_exact(covered.thresholds.min_amount_micro),
        "drops": covered.drops,
        "anomalies": [row_data(a) for a in anomalies],
    }


def render_csv(anomalies: list[Anomaly]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["day", "integration", "provider", "direction", "billed", "baseline", "ratio", "drivers"])
    for a in anomalies:
        drivers = "; ".join(f"{d.kind} {d.name} {usd_exact(d.delta_micro)}" for d in a.drivers)
        row: list[object] = [
            a.day.isoformat(),
            a.integration,
            a.provider or "",
            a.direction,
            usd_exact(a.billed_micro),
            usd_exact(a.baseline_micro),
            "" if a.ratio is None else f"{a.ratio:.4f}",
            drivers,
        ]
        writer.writerow([csv_cell(cell) for cell in row])
    return buffer.getvalue()
