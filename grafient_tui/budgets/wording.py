"""How a budget reads, the same in `grafient check`, `grafient budget list` and the app's gauges."""

from __future__ import annotations

from dataclasses import dataclass

from grafient_tui.figures import BudgetStatus
from grafient_tui.money import MICRO_PER_USD, format_usd

BAR_FULL, BAR_EMPTY = "█", "░"


def in_words(names: list[str]) -> str:
    """`Cursor`, `Cursor and GitHub Copilot`, `Cursor, GitHub Copilot and Google Gemini`."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def amount(micro: int) -> str:
    """`$500` for whole dollars, `$1,250.50` otherwise."""
    return format_usd(micro, cents=micro % MICRO_PER_USD != 0)


def rough(micro: int) -> str:
    """Dollars without cents, for compact figures: `$540`."""
    return format_usd(micro, cents=False)


def period_words(period: str, measure: str, *, follows_cycle: bool = True) -> str:
    """`monthly, usage value`, `billing cycle, on-demand`, `monthly, billed`; `billing cycle (calendar
    month: no cycle known), usage value`: the period and the amount it measures."""
    words = "monthly" if period == "month" else "billing cycle"
    if period == "cycle" and not follows_cycle:
        words += " (calendar month: no cycle known)"
    from grafient_tui.budgets.periods import MEASURE_WORDS

    return f"{words}, {MEASURE_WORDS.get(measure, measure)}"


def bar(fraction: float, width: int = 12) -> str:
    """A compact bar: `████████░░░░`; full at or past 100%."""
    filled = max(0, min(width, round(fraction * width)))
    if fraction > 0 and filled == 0:
        filled = 1  # something spent is never drawn as nothing
    return BAR_FULL * filled + BAR_EMPTY * (width - filled)


def estimated(status: BudgetStatus) -> str:
    """`≈` before a figure whose spend includes an estimate (ElevenLabs' credits priced), else ""."""
    return "≈" if status.estimated else ""


def spent(status: BudgetStatus) -> str:
    """`$412.00` (`≈$412.00` with an estimate); `—` when no day of the period is synced."""
    return estimated(status) + format_usd(status.spent_micro) if status.spent_known else "—"


def percent(status: BudgetStatus) -> str:
    if not status.spent_known:
        return "—"
    value = status.percent
    return estimated(status) + (f"{value:.0f}%" if value >= 10 or value == 0 else f"{value:.1f}%")


def gauge_text(status: BudgetStatus, *, why: bool = False) -> str:
    """`62% of $500 · forecast $540 · day 12 of 30 · resets 2026-12-01` (`≈62%`, `forecast ≈$540` when
    the spend includes an estimate); `why`: say why a forecast is not ready."""
    forecast = (
        f"forecast {estimated(status)}{rough(status.forecast.micro)}"
        if status.forecast.micro is not None
        else "forecast not ready"
    )
    if why and status.forecast.micro is None and status.forecast.note:
        forecast += f" ({status.forecast.note})"
    return (
        f"{percent(status)} of {amount(status.budget_micro)} · {forecast} · "
        f"day {status.day} of {status.bounds.days} · resets {status.bounds.resets.isoformat()}"
    )


STATUS_MARKS = {"ok": "✓ ok", "forecast_over": "▲ forecast over", "over": "✗ over"}


def target_words(status: BudgetStatus) -> str:
    from grafient_tui.untrusted import visible

    return "all integrations" if status.target_id is None else visible(status.target)


def check_line(status: BudgetStatus) -> str:
    """`✗ over           Eng · monthly: $612.40 spent, 122% of $500 · forecast $900 · day 12 of 30 · …`:
    the status in words and its mark, as the app's gauge has them (JSON keeps `forecast_over`)."""
    words = period_words(status.period, status.measure, follows_cycle=status.bounds.follows_cycle)
    mark = STATUS_MARKS[status.status].ljust(max(len(m) for m in STATUS_MARKS.values()))
    line = f"{mark}  {target_words(status)} · {words}: {spent(status)} spent, {gauge_text(status, why=True)}"
    if status.synced_days < status.finished_days:
        line += f" · {status.synced_days} of {status.finished_days} finished days synced"
    if status.note:
        line += f" · {status.note}"
    return line


def budget_title(status: BudgetStatus) -> str:
    """`Monthly budget`, `Cycle budget, on-demand`, `Cycle (month) budget` (no cycle known yet)."""
    title = "Monthly budget" if status.period == "month" else "Cycle budget"
    if status.period == "cycle" and not status.bounds.follows_cycle:
        title = "Cycle (month) budget"
    if status.measure == "on_demand":
        title += ", on-demand"
    elif status.measure == "billed":
        title += ", billed"
    return title


def budget_phrase(status: BudgetStatus) -> str:
    """The budget inside a sentence: `monthly budget`, `cycle billed budget`, `cycle (month) on-demand
    budget` (budget_title's words in the order English puts them)."""
    period = "monthly" if status.period == "month" else "cycle"
    if status.period == "cycle" and not status.bounds.follows_cycle:
        period = "cycle (month)"
    measure = {"on_demand": "on-demand ", "billed": "billed "}.get(status.measure, "")
    return f"{period} {measure}budget"


def period_noun(status: BudgetStatus) -> str:
    """What the budget's period is, as `by the end of this ...` says it: `month` or `billing cycle`."""
    return "billing cycle" if status.period == "cycle" and status.bounds.follows_cycle else "month"


def alert_text(status: BudgetStatus, thresholds: tuple[str, ...]) -> str:
    """The toast for thresholds just crossed: the highest spend threshold, and the forecast.
    `Eng · monthly budget: 80% reached, $412.00 of $500; forecast $540 is above it · resets 2026-12-01`
    (`≈$412.00`, `forecast ≈$540` when the spend includes an estimate)."""
    title = budget_title(status)
    parts = []
    spend = [t for t in thresholds if t != "forecast"]
    if spend:
        top = max(spend, key=int)
        reached = "over budget" if top == "100" else f"{top}% reached"
        parts.append(f"{reached}, {estimated(status)}{format_usd(status.spent_micro)} of {amount(status.budget_micro)}")
    if "forecast" in thresholds and status.forecast.micro is not None:
        parts.append(f"forecast {estimated(status)}{rough(status.forecast.micro)} is above it")
    return (
        f"{target_words(status)} · {title[0].lower()}{title[1:]}: "
        + "; ".join(parts)
        + f" · resets {status.bounds.resets.isoformat()}"
    )


@dataclass(frozen=True)
class Replaced:
    """The budget a `budget set` replaced (one per target and period: its amount and measure change)."""

    amount_micro: int
    measure: str


def set_words(
    target: str,
    target_id: int | None,
    period: str,
    measure: str,
    amount_micro: int,
    *,
    replaced: Replaced | None,
) -> str:
    """What setting a budget did, the same in `grafient budget set` and the app's budgets screen:
    `set a budget of $500 per calendar month (UTC) on 'Eng' (id 3), counting total cost`; a replaced one
    says what it was, its amount and measure (a target has one budget per period, whatever it counts)."""
    from grafient_tui.untrusted import quoted, visible

    where = "all integrations" if target_id is None else f"{quoted(target)} (id {target_id:d})"
    counted = visible(_counted(measure, target_id))
    per = "calendar month (UTC)" if period == "month" else "billing cycle"
    if replaced is None:
        return f"set a budget of {amount(amount_micro)} per {per} on {where}, counting {counted}"
    was = amount(replaced.amount_micro)
    if replaced.measure != measure:
        was += f", counting {visible(_counted(replaced.measure, target_id))}"
    return (
        f"replaced the budget per {per} on {where}: it was {was}; it is now {amount(amount_micro)}, counting {counted}"
    )


def _counted(measure: str, target_id: int | None) -> str:
    from grafient_tui import providers

    counted = {
        "on_demand": "on-demand cost",
        "billed": "the billed amount (what invoices charge for usage)",
    }.get(measure, "the usage value (plan-included usage too)")
    if measure == "on_demand" and target_id is None:
        split = [providers.title(n) for n in providers.names() if providers.get(n).capabilities.has_on_demand]
        counted += f" ({in_words(split)} only: the other providers bill everything per use)"
    return counted


def removed_words(target: str, target_id: int | None, period: str, measure: str, amount_micro: int) -> str:
    """`removed the monthly budget of $500 on 'Eng'`, as `grafient budget remove` says it."""
    from grafient_tui.untrusted import quoted, visible

    where = "all integrations" if target_id is None else quoted(target)
    return f"removed the {period_words(period, measure)} budget of {amount(amount_micro)} on {visible(where)}"
