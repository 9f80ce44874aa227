"""Plain-text formatting shared by the screens. No Textual here: easy to test, cheap to import."""

from __future__ import annotations

import calendar
from datetime import datetime

UNKNOWN = "—"  # a figure the provider does not give: never shown as 0


def count(value: int | None) -> str:
    return UNKNOWN if value is None else f"{value:,}"


def period_words(days: int, month: str | None) -> str:
    """`last 30 days`, or a calendar month's name: `Nov 2026` (`month` is "2026-11")."""
    if not month:
        return f"last {days:d} days"
    year, number = month.split("-")
    return f"{calendar.month_abbr[int(number)]} {year}"


def plural(value: int, word: str) -> str:
    return f"{value:,} {word}" if value == 1 else f"{value:,} {word}s"


def ago(moment: datetime | None, now: datetime) -> str:
    """'just now', '5 min ago', '3 h ago', '4 days ago'."""
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h ago"
    return f"{hours // 24} days ago"


def change(pct: float | None) -> str:
    """The change against the previous period. The arrow carries the meaning, not colour."""
    if pct is None:
        return f"{UNKNOWN} no earlier data"
    if abs(pct) < 0.05:
        return "= 0.0%"
    arrow = "▲" if pct > 0 else "▼"
    return f"{arrow} {abs(pct):,.1f}%"


def change_class(pct: float | None) -> str:
    if pct is None or abs(pct) < 0.05:
        return "-flat"
    return "-up" if pct > 0 else "-down"


def share(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else UNKNOWN


def tokens(value: int | None) -> str:
    """1,234 / 12.3k / 4.5M / 1.2B: short enough for a table column; — when unknown."""
    if value is None:
        return UNKNOWN
    if value < 10_000:
        return f"{value:,}"
    for unit, size in (("B", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)):
        if value >= size:
            return f"{value / size:,.1f}{unit}"
    return str(value)  # pragma: no cover


def sentence(text: str) -> str:
    """An error sentence as the UI shows it: capital first letter, a full stop at the end, and
    (a second guard: sentences can quote a server) control characters made visible."""
    from grafient_tui.untrusted import visible

    text = visible(text.strip())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def sentence_of(error: BaseException | None, fallback: str) -> str:
    """One sentence for an error: its own when it carries one, else a fixed text (never str() of it,
    which could quote a server's words or a request)."""
    own = getattr(error, "sentence", None)
    if isinstance(own, str) and own:
        return sentence(own)
    return sentence(f"{fallback} ({type(error).__name__})" if error is not None else fallback)
