"""`grafient report`: the stored costs as a table, JSON or CSV. No network, no Textual."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from grafient_tui import providers
from grafient_tui.estimates import together
from grafient_tui.figures import (
    BILLED,
    ESTIMATE_MARK,
    NOT_REPORTED,
    OVER_REPORTING,
    OVER_REPORTING_NOTE,
    Basis,
    DayFigures,
    IntegrationInfo,
    ModelFigures,
    PeriodChoice,
    Summary,
)
from grafient_tui.money import cents, format_usd, usd_cents, usd_exact, usd_float
from grafient_tui.rounding import adding_up
from grafient_tui.store.queries import (
    daily_costs,
    member_breakdown,
    model_billed,
    model_breakdown,
    model_costs,
    models_across,
    models_by_day,
    period_summary,
    summed,
)
from grafient_tui.store.read import Reader, ReadSource
from grafient_tui.tables import format_table
from grafient_tui.untrusted import csv_cell, visible

BY = ("day", "model", "member")


UNKNOWN = "—"  # a figure the provider does not give (never shown as 0)


def _usd(micro: int | None) -> float | None:
    return None if micro is None else usd_float(micro)


def _exact(micro: int | None) -> str:
    return "" if micro is None else usd_exact(micro)


def _exact_or_null(micro: int | None) -> str | None:
    return None if micro is None else usd_exact(micro)


def _count(value: int | None) -> str:
    return UNKNOWN if value is None else f"{value:,}"


def _said(model: dict[str, Any], count: str, flag: str) -> str:
    """A model's count: n/a where no line of it reports one, — where unknown."""
    return _count(model[count]) if model[flag] else NOT_REPORTED


def _reported_total(models: list[dict[str, Any]], count: str, flag: str) -> str:
    """The models' count over those that report it, marked when some do not; n/a when none does."""
    said = [m[count] for m in models if m[flag]]
    if models and not said:
        return NOT_REPORTED
    return _count(_known_total(said) if said else 0) + (OVER_REPORTING if len(said) < len(models) else "")


def _known_total(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return None if not values or len(known) < len(values) else sum(known)


def _units(row: DayFigures | ModelFigures) -> dict[str, Any]:
    """`credits` (exact, as a decimal string) and `characters`, for rows of a provider that bills
    credits (ElevenLabs); nothing for the others, whose JSON stays as it was."""
    if row.credits_micro is None:
        return {}
    return {"credits": format(Decimal(row.credits_micro).scaleb(-6).normalize(), "f"), "characters": row.characters}


def actor_kind(provider: str) -> str:
    """What a provider's per-actor split is by: member (Cursor), workspace, project."""
    from grafient_tui.errors import GrafientError

    try:
        return providers.capabilities(provider).actor_kind
    except GrafientError:  # a provider this version does not know: its rows are still shown
        return "member"


def billed_of(provider: str, cost_micro: int, on_demand_micro: int | None) -> int:
    """What invoices charge for a cost of `provider`: its on-demand part where a plan or credits cover
    the rest (Capabilities.covered_by), else all of it."""
    from grafient_tui.errors import GrafientError

    try:
        covered = providers.capabilities(provider).covered_by is not None
    except GrafientError:  # a provider this version does not know: all of it, as it was shown
        covered = False
    return (on_demand_micro or 0) if covered else cost_micro


# A day's public figures, all null on a day that was never synced.
_DAY_FIGURES = ("cost_usd", "on_demand_usd", "included_usd", "requests", "request_units", "billed_usd")


def _units_cell(day: dict[str, Any]) -> str:
    units = day["request_units"]
    return UNKNOWN if units is None else f"{units:,.1f}"


@dataclass(frozen=True)
class ReportRange:
    since: date
    until: date
    # A calendar month (spans.month): the span its change compares with, and for a month so far the
    # month's last day, whose spend is forecast beside it.
    previous: tuple[date, date] | None = None
    forecast_until: date | None = None
    month: str | None = None

    @staticmethod
    def of(choice: PeriodChoice) -> ReportRange:
        """The range of a period the app or `report --month` offers."""
        return ReportRange(
            since=choice.since,
            until=choice.until,
            previous=choice.previous,
            forecast_until=choice.forecast_until,
            month=choice.month,
        )


def summary_data(summary: Summary) -> dict[str, Any]:
    """The `summary` object of the JSON report (the table prints the same facts in words)."""
    average = summary.daily_average_micro
    return {
        "days": summary.days,
        "synced_days": summary.synced_days,
        "complete_days": summary.complete_days,
        "total_usd": _usd(summary.total_micro),  # null (with billed, usage_value): no day of the period synced
        "on_demand_usd": _usd(summary.on_demand_micro),
        "included_usd": _usd(summary.included_micro),
        "requests": summary.requests,
        # true: `requests` counts only the integrations whose provider gives a count (Anthropic gives none)
        "requests_partial": summary.requests_partial,
        "daily_average_usd": None if average is None else float(usd_cents(average)),
        # What the average, the change and the forecast are of: the usage value (`total_usd`), which is
        # also what is billed where no plan or credits cover any of it (`billed` == `usage_value`)
        "daily_average_basis": "usage_value",
        "change_pct": None if summary.change_pct is None else round(summary.change_pct, 1),
        "change_note": summary.change_note,
        # Exact decimal dollars: what invoices charge for usage, and that plus what a plan or credits
        # cover (Cursor's included usage); equal where nothing is covered.
        "billed": _exact_or_null(summary.billed),
        "usage_value": _exact_or_null(summary.usage_value_micro),
        "on_demand_of": list(summary.split_labels),  # whose on-demand / included split that is
        "expected_days": summary.expected_days,  # days some integration can have (see `limits`)
        "limits": list(summary.limits),  # what they cannot have: "OpenRouter keeps 30 days"
        # The integrations with no synced day in the period, left out of every amount (all of them: null)
        "unsynced": list(summary.unsynced),
        # A month so far: its spend at the month's end, as a budget forecasts it (null otherwise, or not ready)
        "forecast_usd": _usd(summary.forecast_micro),
        "forecast_basis": "usage_value",
        "_summary": summary,
    }


def _summary_for(
    read: Reader, ids: list[int], span: ReportRange, today: date, costs: dict[str, int], plan: str | None
) -> dict[str, Any]:
    days = (span.until - span.since).days + 1
    summary = period_summary(
        read,
        ids,
        days=days,
        until=span.until,
        today=today,
        costs=costs,
        plan=plan,
        previous=span.previous,
        forecast_until=span.forecast_until,
    )
    data = summary_data(summary)
    if span.previous is not None:  # a calendar month: against the month before, or its same days
        first, last = span.previous
        last = min(last, first + timedelta(days=(today - span.since).days - 1))  # its finished days' match
        data["_compared"] = (
            f"{first:%b %Y}" if span.forecast_until is None else f"the same days of {first:%b %Y} ({first} .. {last})"
        )
    return data


def build_report(
    source: ReadSource,
    integrations: list[IntegrationInfo],
    span: ReportRange,
    by: str,
    today: date | None = None,
    *,
    day_models: bool = True,
    plan: str | None = None,
) -> dict[str, Any]:
    """The report as plain data; JSON is this, table and CSV render it. `today` (default: the last
    day of the range) is the day that is not over yet. Every figure is read in one read transaction.

    `day_models` False leaves out each day's list of models (`by` day), which only JSON shows: the
    table and the CSV name each day's top model, which the day's own figures carry, and reading
    every model of every day was most of a report's work."""
    with source.reader() as read:
        return _build(read, integrations, span, by, span.until if today is None else today, day_models, plan)


def _build(
    read: Reader,
    integrations: list[IntegrationInfo],
    span: ReportRange,
    by: str,
    today: date,
    day_models: bool,
    plan: str | None = None,
) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    out: dict[str, Any] = {
        "currency": "USD",
        "timezone": "UTC",
        "since": span.since.isoformat(),
        "until": span.until.isoformat(),
        "by": by,
        "month": span.month,  # "2026-11" for `--month`, else null
        "integrations": entries,
        "_today": today.isoformat(),
    }
    every_cost = []  # each integration's model costs over the range: its summary's top model, and all of theirs
    for integ in integrations:
        iid = integ.integration_id
        kind = actor_kind(integ.provider)
        basis = integ.basis
        models = model_breakdown(read, iid, span.since, span.until) if by == "model" else []
        costs = (
            {m.model: m.cost_micro for m in models} if by == "model" else model_costs(read, iid, span.since, span.until)
        )
        every_cost.append(costs)
        entry: dict[str, Any] = {
            "id": iid,
            "label": integ.label,
            "provider": integ.provider,
            "actor": kind,
            "history_from": integ.history_from.isoformat() if integ.history_from else None,
            # "estimate": dollars Grafient works out (ElevenLabs' credits at the plan's list price);
            # "billed": the provider's own money. `cost_note` says how (or that a currency was converted).
            "cost_basis": basis.kind,
            "cost_note": basis.note,
            "summary": _summary_for(read, [iid], span, today, costs, plan),
            "_basis": basis,
        }
        if basis.estimated:
            entry["estimate"] = basis.estimate
        if entry["summary"]["_summary"].byok_micro is not None:  # OpenRouter: billed by your own providers
            entry["byok_usd"] = _usd(entry["summary"]["_summary"].byok_micro)
        if by == "day":
            per_model = models_by_day(read, iid, span.since, span.until) if day_models else {}
            entry["days"] = []
            for row in daily_costs(read, iid, span.since, span.until, today):
                day: dict[str, Any] = {
                    "date": row.day.isoformat(),
                    "synced": row.synced,
                    "complete": row.complete,
                    "cost_usd": usd_float(row.cost_micro),
                    "on_demand_usd": _usd(row.on_demand_micro),
                    "included_usd": _usd(row.included_micro),
                    "requests": row.requests,
                    # null where the provider has no request units (only Cursor's days have them)
                    "request_units": None if row.request_units_micro is None else row.request_units_micro / 1_000_000,
                    "billed_usd": usd_float(billed_of(integ.provider, row.cost_micro, row.on_demand_micro)),
                }
                if not row.synced:  # never fetched (or not reported yet): no figure is known, none is 0
                    day.update(dict.fromkeys(_DAY_FIGURES))
                if day_models:
                    day["models"] = [
                        {"model": m.model, "cost_usd": usd_float(m.cost_micro), "requests": m.requests, **_units(m)}
                        for m in per_model.get(row.day, [])
                    ]
                day.update(_units(row))
                day.update(
                    _micro=row.cost_micro,
                    _on_demand_micro=row.on_demand_micro,
                    _included_micro=row.included_micro,
                    _units_micro=row.request_units_micro,
                    _billed_micro=billed_of(integ.provider, row.cost_micro, row.on_demand_micro),
                    _top_model=row.top_model,
                    _gap=row.gap,
                )
                entry["days"].append(day)
        elif by == "model":
            entry["models"] = [
                {
                    "model": m.model,
                    "cost_usd": usd_float(m.cost_micro),
                    "requests": m.requests,
                    "input_tokens": m.input_tokens,
                    "output_tokens": m.output_tokens,
                    "cache_read_tokens": m.cache_read_tokens,
                    "cache_write_tokens": m.cache_write_tokens,
                    "reasoning_tokens": m.reasoning_tokens,
                    # false: no line of the model reports the count (its null is "not reported", n/a)
                    "reports_requests": m.reports_requests,
                    "reports_tokens": m.reports_tokens,
                    # null where a covered provider's day of it was stored before billed was kept per model
                    "billed_usd": _usd(model_billed(integ.provider, m.cost_micro, m.on_demand_micro)),
                    **_units(m),
                    "_micro": m.cost_micro,
                    "_billed_micro": model_billed(integ.provider, m.cost_micro, m.on_demand_micro),
                }
                for m in models
            ]
        else:
            entry["members"] = [
                # `email` for people known by their email (Cursor), null for anyone else (a GitHub login,
                # a workspace, a project, an API key); `actor` names every one of them.
                {
                    "actor": m.actor,
                    "email": m.actor if kind == "member" and "@" in m.actor else None,
                    "cost_usd": usd_float(m.cost_micro),
                    "requests": m.requests,
                    "_micro": m.cost_micro,
                }
                for m in member_breakdown(read, iid, span.since, span.until)
            ]
        if not basis.cost_known:
            _money_unknown(entry)
        entries.append(entry)
    if by == "model" and len(integrations) > 1:  # one row per model, whichever provider billed it
        out["models"] = [
            {
                "model": m.key,
                "names": list(m.names),
                "providers": list(m.providers),
                "usage_value_usd": usd_float(m.cost_micro),
                # null where a covered provider's day of it was stored before billed was kept per model
                "billed_usd": _usd(m.billed_micro),
                "requests": m.requests,
                "input_tokens": m.input_tokens,
                "output_tokens": m.output_tokens,
                "reports_requests": m.reports_requests,
                "reports_tokens": m.reports_tokens,
                "_micro": m.cost_micro,
                "_billed_micro": m.billed_micro,
            }
            for m in models_across(read, [i.integration_id for i in integrations], span.since, span.until)
        ]
    out["summary"] = _summary_for(read, [i.integration_id for i in integrations], span, today, summed(every_cost), plan)
    overall = together((i.label, i.basis) for i in integrations)
    out["summary"]["cost_basis"] = overall.kind
    out["summary"]["cost_note"] = overall.note
    out["_basis"] = overall
    return out


def _money_unknown(value: object) -> None:
    """Every dollar figure of an integration whose cost is unknown (a plan without a list price) as
    null, never $0; its credits and counts stay."""
    if isinstance(value, dict):
        for key in list(value):
            if key.endswith("_usd") or key in ("billed", "usage_value"):
                value[key] = None
            elif key != "_summary":
                _money_unknown(value[key])
    elif isinstance(value, list):
        for item in value:
            _money_unknown(item)


def as_json_data(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the exact micro-cent fields kept for rendering."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not k.startswith("_")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    stripped: dict[str, Any] = strip(report)
    return stripped


def _rows_key(by: str) -> str:
    return {"day": "days", "model": "models", "member": "members"}[by]


def render_csv(report: dict[str, Any]) -> str:
    by = report["by"]
    buffer = io.StringIO()
    writer = _SafeWriter(csv.writer(buffer, lineterminator="\n"))
    if by == "day":
        writer.writerow(
            [
                "integration_id",
                "label",
                "date",
                "synced",
                "complete",
                "cost_usd",
                "on_demand_usd",
                "included_usd",
                "requests",
                "request_units",
                "top_model",
                "billed_usd",
                "usage_value_usd",
                "cost_basis",
            ]
        )
        for integ in report["integrations"]:
            money = _csv_money(integ)
            for d in integ["days"]:
                writer.writerow(
                    [
                        integ["id"],
                        integ["label"],
                        d["date"],
                        str(d["synced"]).lower(),
                        str(d["complete"]).lower(),
                        # A day never synced knows no figure: empty cells, never 0
                        money(d["_micro"]) if d["synced"] else "",
                        money(d["_on_demand_micro"]) if d["synced"] else "",
                        money(d["_included_micro"]) if d["synced"] else "",
                        d["requests"],
                        "" if d["request_units"] is None else format(Decimal(d["_units_micro"]).scaleb(-6), "f"),
                        d["_top_model"] or "",
                        money(d["_billed_micro"]) if d["synced"] else "",
                        money(d["_micro"]) if d["synced"] else "",
                        integ["cost_basis"],
                    ]
                )
    elif by == "model":
        writer.writerow(
            [
                "integration_id",
                "label",
                "model",
                "cost_usd",
                "requests",
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_write_tokens",
                "billed_usd",
                "cost_basis",
                # false: the model's empty count is one its provider does not report for it
                "reports_requests",
                "reports_tokens",
            ]
        )
        for integ in report["integrations"]:
            money = _csv_money(integ)
            for m in integ["models"]:
                writer.writerow(
                    [
                        integ["id"],
                        integ["label"],
                        m["model"],
                        money(m["_micro"]),
                        m["requests"],
                        m["input_tokens"],
                        m["output_tokens"],
                        m["cache_read_tokens"],
                        m["cache_write_tokens"],
                        "" if m["_billed_micro"] is None else money(m["_billed_micro"]),
                        integ["cost_basis"],
                        str(m["reports_requests"]).lower(),
                        str(m["reports_tokens"]).lower(),
                    ]
                )
    else:
        # The first five columns as before; `email` is empty for a workspace or project, which
        # `actor` (with `actor_kind`) names for every provider.
        writer.writerow(
            ["integration_id", "label", "email", "cost_usd", "requests", "actor_kind", "actor", "cost_basis"]
        )
        for integ in report["integrations"]:
            money = _csv_money(integ)
            for m in integ["members"]:
                writer.writerow(
                    [
                        integ["id"],
                        integ["label"],
                        m["email"] or "",
                        money(m["_micro"]),
                        m["requests"],
                        integ["actor"],
                        m["actor"],
                        integ["cost_basis"],
                    ]
                )
    return buffer.getvalue()


def _csv_money(integ: dict[str, Any]) -> Callable[[int | None], str]:
    """An integration's exact dollar cells: empty where a figure is unknown, the whole integration's
    when its cost is (a plan without a list price); `cost_basis` in the last column says estimate."""
    basis: Basis = integ.get("_basis", BILLED)
    return lambda micro: _exact(micro) if basis.cost_known else ""


class _SafeWriter:
    """A csv writer whose text cells are neutralised: nothing from an API can run as a formula."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow([csv_cell(cell) for cell in row])


def partly_covered(provider: str) -> bool:
    """A plan or credits cover part of this provider's cost: its tables show billed and usage value."""
    from grafient_tui.errors import GrafientError

    try:
        return providers.capabilities(provider).covered_by is not None
    except GrafientError:
        return False


ROWS_ROUNDED = (
    "Rows rounded to the cent so that they add up to the TOTAL (a row may read a cent off its exact amount); "
    "the TOTAL is the exact sum rounded once"
)


def _moved(rows: list[dict[str, Any]], key: str, shown: Sequence[int | None]) -> bool:
    """Whether a row shows other than its exact amount rounded alone (adding up moved it by a cent)."""
    return any(
        r.get("synced", True) and r[key] is not None and s is not None and cents(r[key]) != cents(s)
        for r, s in zip(rows, shown, strict=True)
    )


def _shown(micros: list[int]) -> list[int]:
    """Amounts as a table shows them: rounded to the cent so that they add up to their shown total (a
    credit's negative row too)."""
    return adding_up(micros)


def render_table(report: dict[str, Any]) -> str:
    by = report["by"]
    blocks = []
    for integ in report["integrations"]:
        rows_in = integ[_rows_key(by)]
        total = sum(r["_micro"] for r in rows_in)
        shown = _shown([r["_micro"] for r in rows_in])
        basis: Basis = integ.get("_basis", BILLED)
        money = basis.money
        covered = partly_covered(integ["provider"])
        billed_head = basis.billed_words.upper()  # ESTIMATED COST: no invoice charges an estimate
        amount = "USAGE VALUE" if covered else billed_head  # what a model's or a member's cost is
        # No synced day of the range: its totals are unknown, never $0
        total_money = known_money(basis, integ["summary"]["_summary"].known)

        title = (
            f"{visible(integ['label'])} ({visible(integ['provider'])}, id {integ['id']})  "
            f"{report['since']} .. {report['until']} UTC"
        )
        if basis.note:
            title += f"\n{ESTIMATE_MARK + ' ' if basis.estimated else ''}{basis.note}"
        notes = ""  # what a table's marks mean, under it
        if by == "day":
            billed = _shown([d["_billed_micro"] for d in rows_in])
            headers = ["DATE", billed_head, *(["USAGE VALUE"] if covered else []), "REQUESTS", "UNITS", "TOP MODEL"]
            rows: list[list[str]] = [
                [
                    d["date"],
                    money(billed[i]) if d["synced"] else visible(d["_gap"] or "never synced"),
                    *([money(shown[i]) if d["synced"] else "-"] if covered else []),
                    _count(d["requests"]) if d["synced"] else "-",
                    _units_cell(d) if d["synced"] else "-",
                    visible(d["_top_model"] or "") + _partial_note(d, report),
                ]
                for i, d in enumerate(rows_in)
            ]
            requests = _known_total([d["requests"] for d in rows_in if d["synced"]])
            rows.append(
                [
                    "TOTAL",
                    total_money(sum(billed)),
                    *([total_money(total)] if covered else []),
                    _count(requests),
                    "",
                    "",
                ]
            )
            right = {1, 2, 3, 4} if covered else {1, 2, 3}
            moved = _moved(rows_in, "_billed_micro", billed)
        elif by == "model":
            # a covered provider's billed part per model beside its usage value (— where a day of it was
            # stored before it was kept per model); every other provider's amount is billed already
            billed_in: list[int | None] = [m["_billed_micro"] for m in rows_in]
            billed_total = _known_total(billed_in) if billed_in else 0
            billed_shown = _shown([b or 0 for b in billed_in]) if billed_total is not None else billed_in

            def billed_cells(
                micro: int | None, money: Callable[[int], str] = money, shown: bool = covered
            ) -> list[str]:
                return [UNKNOWN if micro is None else money(micro)] if shown else []

            headers = [
                "MODEL",
                amount,
                *(["BILLED"] if covered else []),
                "SHARE",
                "REQUESTS",
                "INPUT TOK",
                "OUTPUT TOK",
            ]
            rows = [
                [
                    visible(m["model"]),
                    money(shown[i]),
                    *billed_cells(billed_shown[i]),
                    _share(m["_micro"], total),
                    _said(m, "requests", "reports_requests"),
                    _said(m, "input_tokens", "reports_tokens"),
                    _said(m, "output_tokens", "reports_tokens"),
                ]
                for i, m in enumerate(rows_in)
            ]
            rows.append(
                [
                    "TOTAL",
                    total_money(total),
                    *billed_cells(billed_total, total_money),
                    "",
                    _reported_total(rows_in, "requests", "reports_requests"),
                    "",
                    "",
                ]
            )
            if any(not m["reports_requests"] or not m["reports_tokens"] for m in rows_in):
                notes = OVER_REPORTING_NOTE + "\n"
            right = {1, 2, 3, 4, 5, 6} if covered else {1, 2, 3, 4, 5}
            moved = billed_total is not None and _moved(rows_in, "_billed_micro", billed_shown)
        else:
            headers = [integ["actor"].replace("_", " ").upper(), amount, "SHARE", "REQUESTS"]  # API KEY
            rows = [
                [visible(m["actor"]), money(shown[i]), _share(m["_micro"], total), _count(m["requests"])]
                for i, m in enumerate(rows_in)
            ]
            rows.append(["TOTAL", total_money(total), "", _count(_known_total([m["requests"] for m in rows_in]))])
            right = {1, 2, 3}
            moved = False
        table = format_table(headers, rows, right)
        if moved or _moved(rows_in, "_micro", shown):
            table += "\n" + ROWS_ROUNDED
        blocks.append(title + "\n" + table + "\n" + notes + summary_words(integ["summary"], basis))
    if len(report["integrations"]) > 1:
        every = f"All {len(report['integrations'])} integrations  {report['since']} .. {report['until']} UTC\n"
        if "models" in report:
            every += _models_across_table(report["models"], report.get("_basis", BILLED)) + "\n"
        blocks.append(every + summary_words(report["summary"], report.get("_basis", BILLED)))
    return (
        "\n\n".join(blocks)
        if blocks
        else "No integrations yet. Add one with: grafient add PROVIDER --label NAME (see `grafient add --help`)"
    )


def _models_across_table(models: list[dict[str, Any]], basis: Basis) -> str:
    """Every integration's models by key: one row per model, with the names and providers it covers."""
    total = sum(m["_micro"] for m in models)
    shown = _shown([m["_micro"] for m in models])
    billed: list[int | None] = [m["_billed_micro"] for m in models]
    billed_total = _known_total(billed) if billed else 0
    billed_shown = _shown([b for b in billed if b is not None]) if billed_total is not None else billed

    def billed_cell(micro: int | None) -> str:
        return UNKNOWN if micro is None else basis.money(micro)

    rows = [
        [
            visible(m["model"]),
            basis.money(shown[i]),
            billed_cell(billed_shown[i]),
            _share(m["_micro"], total),
            _said(m, "requests", "reports_requests"),
            ", ".join(visible(p) for p in m["providers"]),
            ", ".join(visible(n) for n in m["names"]),
        ]
        for i, m in enumerate(models)
    ]
    rows.append(
        [
            "TOTAL",
            basis.money(total),
            billed_cell(billed_total),
            "",
            _reported_total(models, "requests", "reports_requests"),
            "",
            "",
        ]
    )
    table = format_table(
        ["MODEL", "USAGE VALUE", "BILLED", "SHARE", "REQUESTS", "PROVIDERS", "NAMES"], rows, {1, 2, 3, 4}
    )
    moved = _moved(models, "_micro", shown) or (
        billed_total is not None and _moved(models, "_billed_micro", billed_shown)
    )
    notes = [ROWS_ROUNDED] if moved else []
    if any(not m["reports_requests"] for m in models):
        notes.append(OVER_REPORTING_NOTE)
    return "\n".join([table, *notes])


def summary_words(data: dict[str, Any], basis: Basis = BILLED) -> str:
    """The summary object as the table format prints it: the same facts, in words; the amounts marked
    as `basis` says (≈ for an estimate, — for a cost that is unknown)."""
    s: Summary = data["_summary"]
    money = basis.money
    lines = [amounts_words(s, basis)]
    coverage = f"{s.synced_days} of {s.days} days synced, {s.complete_days} complete"
    if s.today_partial:
        coverage += ", today so far included"
    if s.limits:
        coverage += " (" + "; ".join(s.limits) + ")"
    if (unsynced := s.unsynced_words()) is not None:
        coverage += f"; {visible(unsynced)}"
    lines.append(f"Coverage: {coverage}")
    if s.daily_average_micro is None:
        lines.append("Daily average (usage value): n/a (no complete synced day)")
    else:
        lines.append(
            f"Daily average (usage value): {money(s.daily_average_micro)} over {s.complete_days} complete "
            f"day{'s' if s.complete_days != 1 else ''}"
        )
    if s.forecast_micro is not None:
        lines.append(
            f"Forecast for the month (usage value): {money(s.forecast_micro)} "
            "(spend so far + the average complete day x days left)"
        )
    elif s.forecast_note:
        lines.append(f"Forecast for the month: not ready ({s.forecast_note})")
    if s.change_pct is None:
        why = s.change_note or ""
        if s.plan_limited:
            why += "; `grafient plan` shows what each plan keeps"
        lines.append(f"vs previous: n/a ({why})")
    else:
        against = data.get("_compared") or "the same days one period earlier"
        words = f"vs previous: {s.change_pct:+.1f}% (finished days against {against}"
        lines.append(words + (f"; {s.change_note})" if s.change_note else ")"))
    return "\n".join(lines)


def amounts_words(s: Summary, basis: Basis = BILLED) -> str:
    """`Billed $1,330.13 · usage value $2,342.28 (Eng: on-demand $1,330.13 + included $1,012.15)`, then the
    requests: what invoices charge, and beside it, where it differs, everything used at its price; the
    split only where it exists, saying whose it is, its parts adding up to their shown sum."""
    money = basis.money
    if not s.known:  # no day of the period synced: nothing is known, nothing is $0
        return f"Billed {UNKNOWN} · usage value {UNKNOWN} · requests {UNKNOWN} (no day of the period is synced)"
    billed = s.billed
    words = f"{basis.billed_words} {money(billed)}"  # an estimate (ElevenLabs) is never called billed
    if billed != s.total_micro:
        words += f" · usage value {money(s.total_micro)}"
    if s.on_demand_micro is not None and s.included_micro:
        # on-demand is (for Cursor, Copilot, Gemini) the billed figure itself: rounded once, as beside it;
        # included is the part that makes their shown sum the usage value's (a cent off its own, at most)
        on_demand = cents(s.on_demand_micro)
        included = cents(s.on_demand_micro + s.included_micro) - on_demand
        whose = f"{', '.join(visible(label) for label in s.split_labels)}: " if s.split_labels else ""
        words += f" ({whose}on-demand {money(on_demand)} + included {money(included)})"
    if basis.total_note():
        words += f" · {basis.total_note()}"
    if s.requests is None:
        words += " · requests unknown (the provider gives no count)"
    else:
        words += f" · {s.requests:,} request{'s' if s.requests != 1 else ''}"
        if s.requests_partial:
            words += " (where counted; some providers give none)"
    if s.byok_micro:
        words += f" · BYOK {format_usd(s.byok_micro)} billed by your providers, not included"
    return words


def _partial_note(day: dict[str, Any], report: dict[str, Any]) -> str:
    if day["complete"] or not day["synced"]:
        return ""
    return "  (today so far)" if day["date"] == report["_today"] else "  (not final)"


def known_money(basis: Basis, known: bool) -> Callable[[int], str]:
    """`basis.money`, or `—` for a total with no synced day under it (unknown, never $0)."""
    return lambda micro: basis.money(micro if known else None)


def _share(part: int, total: int) -> str:
    return f"{part * 100 / total:.1f}%" if total else "-"
