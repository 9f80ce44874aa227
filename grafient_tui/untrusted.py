"""Text from outside (an API, argv, a config file) is data. One rule, in one place, for showing it.

- `visible`: control, format and separator characters (ESC, NUL, bidi overrides, zero-width
  spaces, line breaks...) become their escapes (`\\x1b`, `\\u202e`), so nothing from a server can
  drive the terminal, hide text or split a line. The screens put the result in `Text`/`Content`
  (never markup), so `[@click=...]` stays the characters it is.
- `csv_cell`: a cell a spreadsheet would read as a formula (`= + - @`, tab, CR) is prefixed
  with `'`, the usual neutraliser, in every CSV Grafient writes.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def visible(text: str) -> str:
    """`text` with every character that is not printable (space aside) written as its escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


_PLAIN_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def csv_cell(value: object) -> object:
    """A CSV cell that cannot run as a formula; numbers (also written as text, like an exact
    `-0.25`) and other values pass unchanged."""
    if isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value):
        text = visible(value)
        return "'" + text if text.startswith(FORMULA_STARTS) or value.startswith(FORMULA_STARTS) else text
    return value
