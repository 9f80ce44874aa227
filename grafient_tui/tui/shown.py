"""The one rule for the app's widgets: text from anywhere (an API, the database, a config file) is
shown as literal text with control and invisible characters made visible (untrusted.visible), and
never read as markup. Widgets, toasts and table cells take what these build, not a str (Textual
reads a plain str as markup: `[@click=app.bell]` would become an action, `[/]` a crash).
tests/unit/test_sinks.py checks every sink of the app goes through here or holds only literals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.content import Content

from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from typing import Any

    from rich.console import JustifyMethod
    from textual.app import App
    from textual.notifications import SeverityLevel
    from textual.widget import Widget


def literal(text: str, style: str = "") -> Content:
    """`text` through the rule, as Content (never markup)."""
    content = Content(visible(text))
    return content.stylize(style) if style else content


def literal_cell(text: str, *, style: str = "", justify: JustifyMethod | None = None) -> Text:
    """`text` through the rule, as a Text for a DataTable cell or column label (never markup)."""
    return Text(visible(text), style=style, justify=justify)


def toast(
    node: Widget | App[Any],
    *lines: str,
    title: str = "",
    severity: SeverityLevel = "information",
    timeout: float | None = None,
) -> None:
    """A toast whose every line (and title) goes through the rule, shown as text, never markup."""
    node.notify(
        "\n".join(visible(line) for line in lines),
        title=visible(title),
        severity=severity,
        timeout=timeout,
        markup=False,
    )
