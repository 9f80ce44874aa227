"""The `[keymap]` table checked before the app opens: every entry names a binding the app has and
keys a terminal can send. Textual ignores an unknown binding id and binds "q q" to nothing, so a
typo would otherwise leave a key silently unbound; here it is one sentence naming the entry.

The ids are listed rather than collected from the screens: collecting would import every screen
before the first paint. tests/tui/test_keymap.py fails when a binding id is added or renamed and
this list is not.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from textual.keys import Keys, key_to_character

from grafient_tui.errors import ConfigError
from grafient_tui.untrusted import cap, quoted

BINDING_IDS = frozenset(
    {
        # the app
        "keys_help",
        "plan",
        "quit",
        # home
        "add",
        "budgets",
        "delete",
        "export_all",
        "force_sync",
        "force_sync_all",
        "models",
        "next_card",
        "open",
        "period",
        "previous_card",
        "toggle_chart",
        # detail
        "back",
        "export",
        "sort",
        "tab_anomalies",
        "tab_daily",
        "tab_members",
        "tab_models",
        # budgets
        "cancel_budget",
        "edit_budget",
        "new_budget",
        "remove_budget",
        "save_budget",
        # the add form, the dialogs
        "cancel_add",
        "clear_pasted_key",
        "close_help",
        "confirm_no",
        "confirm_yes",
        "demo_key",
        "quit_small",
        "submit_add",
    }
)

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
NAMED_KEYS = frozenset(key.value for key in Keys if not key.value.startswith("<") and "+" not in key.value)
EXAMPLE = '(such as "s" or "ctrl+s,f5")'
SHOWN = 40  # characters of an entry quoted back


def pressable(key: str) -> bool:
    """One key a terminal sends: a printable character, or a key's name ("f5", "question_mark",
    "plus_sign"), after modifiers joined with + ("ctrl+shift+up")."""
    if len(key) == 1:
        return key.isprintable() and not key.isspace()
    *modifiers, name = key.split("+")
    if not name or any(modifier not in MODIFIERS for modifier in modifiers):
        return False
    if len(name) == 1:
        return name.isprintable() and not name.isspace()
    return name in NAMED_KEYS or key_to_character(name) is not None


def check_keymap(keymap: Mapping[str, str], config_file: Path) -> None:
    """ConfigError, naming the entry, for an unknown binding id or a key that cannot be pressed."""
    where = f"[keymap] in {config_file}"
    for binding_id, keys in keymap.items():
        if binding_id == "command_palette":  # Textual's own binding, without an id a keymap can reach
            raise ConfigError(f"{where}: command_palette cannot be remapped; the palette stays on ctrl+p.")
        if binding_id not in BINDING_IDS:
            close = difflib.get_close_matches(binding_id, sorted(BINDING_IDS), n=1)
            hint = f"; did you mean {quoted(close[0])}?" if close else ""
            raise ConfigError(
                f"{where}: {quoted(cap(binding_id, SHOWN))} is not a binding id of Grafient{hint} "
                "(press ? in the app for every id)."
            )
        parts = [key.strip() for key in keys.split(",")]
        for key in parts:
            if pressable(key):
                continue
            what = (
                "is no key"
                if len(parts) == 1
                else f"has {quoted(cap(key, SHOWN)) if key else 'an empty key'}, which is none"
            )
            raise ConfigError(
                f"{where}: {binding_id} = {quoted(cap(keys, SHOWN))} {what} a terminal sends: give one key, "
                f"or several separated by commas {EXAMPLE}."
            )
