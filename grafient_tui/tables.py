"""Plain-text tables for the CLI's output (`grafient list`, `grafient report`). No dependencies."""

from __future__ import annotations


def format_table(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """Columns padded to their widest cell, two spaces apart; the columns in `right` right-aligned.
    Every cell goes through the one rule (untrusted.visible): a table prints text from anywhere."""
    from grafient_tui.untrusted import visible

    headers = [visible(str(c)) for c in headers]
    rows = [[visible(str(c)) for c in row] for row in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])
