"""`grafient report`: the stored costs as a table, JSON or CSV. No network, no Textual."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from datetime import date

from grafient_tui.money import format_usd, usd_cents, usd_exact, usd_float
from grafient_tui.store.db import Database
from grafient_tui.store.models import Integration
from grafient_tui.store.queries import (
    Summary,
    daily_costs,
    member_breakdown,
    model_breakdown,
    models_by_day,
    period_summary,
)
from grafient_tui.tables import format_table
from grafient_tui.untrusted import csv_cell, visible

BY = ("day", "model", "member")


@dataclass(frozen=True)
class ReportRange:
    since: date
    until: date


def summary_data(summary: Summary) -> dict:
    """The `summary` object of the JSON report (the table prints the same facts in words)."""
    average = summary.daily_average_micro
    return {
        "days": summary.days, "synced_days": summary.synced_days, "complete_days": summary.complete_days,
        "total_usd": usd_float(summary.total_micro), "on_demand_usd": usd_float(summary.on_demand_micro),
        "included_usd": usd_float(summary.included_micro), "requests": summary.requests,
        "daily_average_usd": None if average is None else float(usd_cents(average)),
        "change_pct": None if summary.change_pct is None else round(summary.change_pct, 1),
        "change_note": summary.change_note,
        "_summary": summary,
    }


def _summary_for(db: Database, ids: list[int], span: ReportRange, today: date) -> dict:
    days = (span.until - span.since).days + 1
    return summary_data(period_summary(db, ids, days=days, until=span.until, today=today))


def build_report(db: Database, integrations: list[Integration], span: ReportRange, by: str,
                 today: date | None = None) -> dict:
    """The report as plain data; JSON is this, table and CSV render it. `today` (default: the last
    day of the range) is the day that is not over yet."""
    today = span.until if today is None else today
    out = {"currency": "USD", "timezone": "UTC", "since": span.since.isoformat(), "until": span.until.isoformat(),
           "by": by, "integrations": [], "_today": today.isoformat()}
    for integ in integrations:
        entry: dict = {"id": integ.id, "label": integ.label, "provider": integ.provider,
                       "summary": _summary_for(db, [integ.id], span, today)}
        if by == "day":
            per_model = models_by_day(db, integ.id, span.since, span.until)
            entry["days"] = [
                {
                    "date": row.day.isoformat(), "synced": row.synced, "complete": row.complete,
                    "cost_usd": usd_float(row.cost_micro), "on_demand_usd": usd_float(row.on_demand_micro),
                    "included_usd": usd_float(row.included_micro), "requests": row.requests,
                    "request_units": float(row.request_units_micro) / 1_000_000,
                    "models": [{"model": m.model, "cost_usd": usd_float(m.cost_micro), "requests": m.requests}
                               for m in per_model.get(row.day, [])],
                    "_micro": row.cost_micro, "_on_demand_micro": row.on_demand_micro,
                    "_included_micro": row.included_micro, "_units_micro": row.request_units_micro,
                }
                for row in daily_costs(db, integ.id, span.since, span.until)
            ]
        elif by == "model":
            entry["models"] = [
                {"model": m.model, "cost_usd": usd_float(m.cost_micro), "requests": m.requests,
                 "input_tokens": m.input_tokens, "output_tokens": m.output_tokens,
                 "cache_read_tokens": m.cache_read_tokens, "cache_write_tokens": m.cache_write_tokens,
                 "_micro": m.cost_micro}
                for m in model_breakdown(db, integ.id, span.since, span.until)
            ]
        else:
            entry["members"] = [
                {"email": m.email, "cost_usd": usd_float(m.cost_micro), "requests": m.requests, "_micro": m.cost_micro}
                for m in member_breakdown(db, integ.id, span.since, span.until)
            ]
        out["integrations"].append(entry)
    out["summary"] = _summary_for(db, [i.id for i in integrations], span, today)
    return out


def as_json_data(report: dict) -> dict:
    """The report without the exact micro-cent fields kept for rendering."""
    def strip(value):  # noqa: ANN001, ANN202
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not k.startswith("_")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return strip(report)


def _rows_key(by: str) -> str:
    return {"day": "days", "model": "models", "member": "members"}[by]


def render_csv(report: dict) -> str:
    by = report["by"]
    buffer = io.StringIO()
    writer = _SafeWriter(csv.writer(buffer, lineterminator="\n"))
    if by == "day":
        writer.writerow(["integration_id", "label", "date", "synced", "complete", "cost_usd", "on_demand_usd",
                         "included_usd", "requests", "request_units", "top_model"])
        for integ in report["integrations"]:
            for d in integ["days"]:
                writer.writerow([integ["id"], integ["label"], d["date"], str(d["synced"]).lower(),
                                 str(d["complete"]).lower(), usd_exact(d["_micro"]), usd_exact(d["_on_demand_micro"]),
                                 usd_exact(d["_included_micro"]), d["requests"],
                                 format(Decimal(d["_units_micro"]).scaleb(-6), "f"),
                                 d["models"][0]["model"] if d["models"] else ""])
    elif by == "model":
        writer.writerow(["integration_id", "label", "model", "cost_usd", "requests", "input_tokens", "output_tokens",
                         "cache_read_tokens", "cache_write_tokens"])
        for integ in report["integrations"]:
            for m in integ["models"]:
                writer.writerow([integ["id"], integ["label"], m["model"], usd_exact(m["_micro"]), m["requests"],
                                 m["input_tokens"], m["output_tokens"], m["cache_read_tokens"], m["cache_write_tokens"]])
    else:
        writer.writerow(["integration_id", "label", "email", "cost_usd", "requests"])
        for integ in report["integrations"]:
            for m in integ["members"]:
                writer.writerow([integ["id"], integ["label"], m["email"], usd_exact(m["_micro"]), m["requests"]])
    return buffer.getvalue()


class _SafeWriter:
    """A csv writer whose text cells are neutralised: nothing from an API can run as a formula."""

    def __init__(self, writer) -> None:  # noqa: ANN001
        self._writer = writer

    def writerow(self, row: list) -> None:
        self._writer.writerow([csv_cell(cell) for cell in row])


def render_table(report: dict) -> str:
    by = report["by"]
    blocks = []
    for integ in report["integrations"]:
        rows_in = integ[_rows_key(by)]
        total = sum(r["_micro"] for r in rows_in)
        title = (f"{visible(integ['label'])} ({visible(integ['provider'])}, id {integ['id']})  "
                 f"{report['since']} .. {report['until']} UTC")
        if by == "day":
            headers = ["DATE", "COST", "REQUESTS", "UNITS", "TOP MODEL"]
            rows = [[d["date"], format_usd(d["_micro"]) if d["synced"] else "not synced",
                     str(d["requests"]) if d["synced"] else "-", f"{d['request_units']:,.1f}" if d["synced"] else "-",
                     visible(d["models"][0]["model"] if d["models"] else "") + _partial_note(d, report)]
                    for d in rows_in]
            requests = sum(d["requests"] for d in rows_in)
            rows.append(["TOTAL", format_usd(total), str(requests), "", ""])
            right = {1, 2, 3}
        elif by == "model":
            headers = ["MODEL", "COST", "SHARE", "REQUESTS", "INPUT TOK", "OUTPUT TOK"]
            rows = [[visible(m["model"]), format_usd(m["_micro"]), _share(m["_micro"], total), str(m["requests"]),
                     f"{m['input_tokens']:,}", f"{m['output_tokens']:,}"] for m in rows_in]
            rows.append(["TOTAL", format_usd(total), "", str(sum(m["requests"] for m in rows_in)), "", ""])
            right = {1, 2, 3, 4, 5}
        else:
            headers = ["MEMBER", "COST", "SHARE", "REQUESTS"]
            rows = [[visible(m["email"]), format_usd(m["_micro"]), _share(m["_micro"], total), str(m["requests"])] for m in rows_in]
            rows.append(["TOTAL", format_usd(total), "", str(sum(m["requests"] for m in rows_in))])
            right = {1, 2, 3}
        blocks.append(title + "\n" + format_table(headers, rows, right) + "\n" + summary_words(integ["summary"]))
    if len(report["integrations"]) > 1:
        blocks.append(f"All {len(report['integrations'])} integrations  {report['since']} .. {report['until']} UTC\n"
                      + summary_words(report["summary"]))
    return "\n\n".join(blocks) if blocks else "No integrations yet. Add one with: grafient add cursor --label NAME"


def summary_words(data: dict) -> str:
    """The summary object as the table format prints it: the same facts, in words."""
    s: Summary = data["_summary"]
    lines = [f"Total {format_usd(s.total_micro)} (on-demand {format_usd(s.on_demand_micro)}, "
             f"included {format_usd(s.included_micro)}) · {s.requests:,} request{'s' if s.requests != 1 else ''}"]
    coverage = f"{s.synced_days} of {s.days} days synced, {s.complete_days} complete"
    if s.today_partial:
        coverage += ", today so far included"
    lines.append(f"Coverage: {coverage}")
    if s.daily_average_micro is None:
        lines.append("Daily average: n/a (no complete synced day)")
    else:
        lines.append(f"Daily average: {format_usd(s.daily_average_micro)} over {s.complete_days} complete "
                     f"day{'s' if s.complete_days != 1 else ''}")
    if s.change_pct is None:
        lines.append(f"vs previous: n/a ({s.change_note})")
    else:
        lines.append(f"vs previous: {s.change_pct:+.1f}% (finished days against the same days one period earlier)")
    return "\n".join(lines)


def _partial_note(day: dict, report: dict) -> str:
    if day["complete"] or not day["synced"]:
        return ""
    return "  (today so far)" if day["date"] == report["_today"] else "  (not final)"


def _share(part: int, total: int) -> str:
    return f"{part * 100 / total:.1f}%" if total else "-"
