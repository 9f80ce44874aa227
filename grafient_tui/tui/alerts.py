"""The toasts for budget alerts: one toast, short enough not to cover the cards; and, opt-in
(`[alerts] desktop = true` in config.toml), the same words as a desktop notification by the terminal
(OSC 9 and OSC 777, through tmux when inside it: grafient_tui/alerts/desktop.py builds the sequence).

Each alert's gauge already says on screen what it crossed (✗, ▲ and its figures, widgets/gauge.py);
several alerts at start-up used to come as one long toast each, covering most of the cards at 80x24
for 15 s. One alert keeps its sentence; several are one toast naming the budgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from grafient_tui.tui.syncing import Toast

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import App

    from grafient_tui.config import Settings
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


def desktop_notify(app: App[Any], settings: Settings, said: Toast) -> bool:
    """Ask the terminal for a desktop notification with the toast's words, when config.toml opts in;
    True when it was written. Written where Textual writes its bell (App.bell does the same): its
    driver's one writer, so the sequence is never cut into by a frame. A config.toml that cannot be
    read (its sentence shows at the next start) sends none."""
    import os

    from grafient_tui.alerts.desktop import notification
    from grafient_tui.errors import GrafientError

    try:
        if not settings.desktop_alerts():
            return False
    except GrafientError:
        return False
    driver = getattr(app, "_driver", None)  # App.bell's own path; there is no public one
    if app.is_headless or driver is None:
        return False
    driver.write(notification(said.title or "Grafient", said.text, tmux=bool(os.environ.get("TMUX"))))
    return True
