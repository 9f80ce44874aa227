"""Text from outside (an API, argv, a config file, a database row) is data. One rule, in one place,
for showing it.

- `visible`, THE rule for every text that reaches a terminal, whatever its origin: control, format
  and separator characters (ESC, NUL, bidi overrides, zero-width spaces, line breaks...) and the
  characters Python calls printable that show nothing (variation selectors, the combining grapheme
  joiner, Hangul fillers, the blank braille pattern) become their escapes (`\\x1b`, `\\u202e`,
  `\\ufe0f`), so nothing can drive the terminal, hide text, split a line or make two names look
  alike. The screens put the result in `Text`/`Content` (never markup), so `[@click=...]` stays the
  characters it is; tests/unit/test_sinks.py checks every place that writes to a terminal.
- `csv_cell`: a cell a spreadsheet would read as a formula (`= + - @`, tab, CR) is prefixed
  with `'`, the usual neutraliser, in every CSV Grafient writes, and so is a formula start after a
  `;` inside a cell (Excel where `;` is the list separator splits an unquoted `a;=cmd` into a second
  cell, `=cmd`); a cell is cut to MAX_CSV_CELL.
- `stored_name`: a name as it is stored: lone surrogates (which no database can encode) replaced,
  NUL and the other C0 controls dropped, and at most MAX_NAME characters, a longer one cut with a
  visible `…` at its end.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# Printable to Python (letters, marks, symbols) but drawn as nothing: the default-ignorable marks
# (U+034F, the variation selectors, Mongolian ones), the Hangul fillers and the blank braille
# pattern. Two names that differ only by these would look the same.
_SHOWS_NOTHING = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)


def _escape(ch: str) -> str:
    if not ch.isprintable():
        return repr(ch)[1:-1]  # \x1b, \n, \u202e, \ud800
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str) -> str:
    """`text` with every character that is not printable (space aside), or prints as nothing, written
    as its escape. Idempotent: an escape is printable text."""
    if text.isprintable() and _SHOWS_NOTHING.search(text) is None:
        return text
    return "".join(_escape(ch) if not ch.isprintable() or _SHOWS_NOTHING.match(ch) else ch for ch in text)


def quoted(text: str) -> str:
    """`text` through the rule, in single quotes: how a label is named in a sentence."""
    return f"'{visible(text)}'"


_PLAIN_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


# Characters of one CSV cell once made visible: a stored name is at most MAX_NAME (255), a cell such as
# FOCUS' ChargeDescription names two of them; a row planted in a shared database is cut here, with a mark.
MAX_CSV_CELL = 2048


# A formula start after `;`: the cell Excel makes of it where `;` separates cells (German, French,
# Dutch... locales) would run it. (A tab or CR there is already its escape: `visible`.)
_FORMULA_AFTER_SEMICOLON = re.compile(r";(?=[=+\-@])")


def csv_cell(value: object) -> object:
    """A CSV cell that cannot run as a formula, whether a spreadsheet splits cells at `,` or at `;`, and at
    most MAX_CSV_CELL characters; numbers (also written as text, like an exact `-0.25`) and other values
    pass unchanged."""
    if isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value):
        text = _FORMULA_AFTER_SEMICOLON.sub(";'", visible(value))
        text = "'" + text if text.startswith(FORMULA_STARTS) or value.startswith(FORMULA_STARTS) else text
        return cap(text, MAX_CSV_CELL)
    return value


MAX_NAME = 255  # characters of a model, member or workspace name as stored
CUT_MARK = "…"  # ends a name that was cut to MAX_NAME
_C0_AND_DEL = dict.fromkeys([*range(0x20), 0x7F])


def cap(text: str, limit: int = MAX_NAME) -> str:
    """`text` cut to `limit` characters, the last one then `…` so the cut shows."""
    return text if len(text) <= limit else text[: limit - 1] + CUT_MARK


def storable(text: str) -> str:
    """`text` that every database can store and every terminal encoder can write: a lone surrogate
    (JSON's `"\\ud800"` decodes to one) becomes U+FFFD instead of failing the encoder later."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _replace_surrogates(text)
    return text


def _replace_surrogates(text: str) -> str:
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


def stored_name(name: str, limit: int = MAX_NAME) -> str:
    """A model, member or workspace name as stored: storable, without NUL and the other C0 control
    characters (and DEL; PostgreSQL cannot store NUL, and dropping them all keeps SQLite's figures
    the same), and cut to `limit` with a visible mark. Names that differ only by what was dropped
    or cut count as one."""
    if not name.isprintable():
        name = storable(name).translate(_C0_AND_DEL)
    return cap(name, limit)
