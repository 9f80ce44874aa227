"""The toasts for budget alerts: one toast, short enough not to cover the cards.

Each alert's gauge already says on screen what it crossed (✗, ▲ and its figures, widgets/gauge.py);
several alerts at start-up used to come as one long toast each, covering most of the cards at 80x24
for 15 s. One alert keeps its sentence; several are one toast naming the budgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from grafient_tui.tui.syncing import Toast

if TYPE_CHECKING:
    from collections.abc import Sequence

    from grafient_tui.figures import BudgetStatus

ALERT_SECONDS = 8


def budget_toasts(alerts: Sequence[tuple[BudgetStatus, tuple[str, ...]]]) -> list[Toast]:
    from grafient_tui.budgets.wording import alert_text, budget_title, target_words

    if not alerts:
        return []
    over = any("100" in thresholds for _status, thresholds in alerts)
    severity: Literal["warning", "error"] = "error" if over else "warning"
    if len(alerts) == 1:
        status, thresholds = alerts[0]
        return [Toast(alert_text(status, thresholds), "Budget", severity, ALERT_SECONDS)]
    names = "; ".join(f"{target_words(s)} · {budget_title(s).lower()}" for s, _t in alerts)
    said = f"{len(alerts):d} budgets crossed a threshold: {names}. Their gauges say how far."
    return [Toast(said, "Budgets", severity, ALERT_SECONDS)]
