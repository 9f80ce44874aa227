"""Integration labels: the shape a label must have, and when two labels are the same.

Standard library only: the add form checks a label's shape on the event loop, before any store is open.
"""

from __future__ import annotations

from grafient_tui.errors import ConfigError
from grafient_tui.secret import KEY_IN_ARGV, looks_like_key
from grafient_tui.untrusted import visible

MAX_LABEL = 64
MAX_ID = 2**63 - 1  # the largest id: a 64-bit integer on SQLite and PostgreSQL alike


def clean_label(label: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise ConfigError("a label cannot be empty.")
    if looks_like_key(label):  # a key pasted into the wrong field: refuse it, first, without showing it back
        raise ConfigError(f"a label cannot be an API key: {KEY_IN_ARGV}.")
    if len(label) > MAX_LABEL:
        raise ConfigError(f"a label can be at most {MAX_LABEL} characters.")
    if not label.isprintable():
        raise ConfigError("a label cannot contain control characters.")
    if visible(label) != label:
        raise ConfigError(
            "a label cannot contain characters that show nothing (variation selectors, fillers, blank patterns)."
        )
    if "[" in label or "]" in label:
        # A terminal app reads [...] as markup: `Eng [/]` broke the palette, `[@click=...]` made an action.
        raise ConfigError("a label cannot contain square brackets (they read as markup in the app); use ( ) instead.")
    if label.isdigit():
        raise ConfigError("a label cannot be only digits (it would read as an id).")
    return label


def label_key(label: str) -> str:
    """What makes two labels the same: surrounding and repeated spaces, and case, do not count.
    Computed in Python and stored (integration.label_key, unique), so the rule is the same on every
    database, and the database itself refuses a second "eng" beside "Eng" however the adds race."""
    return " ".join(label.split()).casefold()
