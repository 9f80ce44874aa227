"""`[keymap]` checked before the app opens: an unknown binding id or a key no terminal sends is one
sentence naming the entry (and exit 2), never a key silently left unbound."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import grafient_tui.tui
from grafient_tui.config import Settings
from grafient_tui.errors import ConfigError
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.keymap import BINDING_IDS, check_keymap, pressable
from tests.helpers import run_cli

CONFIG = Path("/home/ada/.config/grafient/config.toml")


def test_the_listed_binding_ids_are_every_binding_the_app_has() -> None:
    found = set()
    for module in pkgutil.walk_packages(grafient_tui.tui.__path__, "grafient_tui.tui."):
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            if inspect.isclass(value) and issubclass(value, DOMNode) and value.__module__ == loaded.__name__:
                found |= {b.id for b in value.__dict__.get("BINDINGS", []) if isinstance(b, Binding) and b.id}
    assert found == BINDING_IDS


@pytest.mark.parametrize("key", ["s", "R", "?", "f5", "ctrl+t", "shift+enter", "question_mark", "space", "super+c"])
def test_keys_a_terminal_sends(key: str) -> None:
    assert pressable(key)


@pytest.mark.parametrize("key", ["q q", "", "ctrl+", "foo", "ctrl+shfit+a", "\x1b"])
def test_keys_no_terminal_sends(key: str) -> None:
    assert not pressable(key)


def test_each_fault_is_one_sentence_naming_the_entry() -> None:
    check_keymap({"force_sync": "s", "period": "ctrl+t,f5", "keys_help": "?"}, CONFIG)
    with pytest.raises(ConfigError) as unknown:
        check_keymap({"force_synk": "s"}, CONFIG)
    assert unknown.value.sentence == (
        f"[keymap] in {CONFIG}: 'force_synk' is not a binding id of Grafient; did you mean 'force_sync'? "
        "(press ? in the app for every id)."
    )
    with pytest.raises(ConfigError) as spaced:
        check_keymap({"quit": "q q"}, CONFIG)
    assert spaced.value.sentence == (
        f"[keymap] in {CONFIG}: quit = 'q q' is no key a terminal sends: give one key, or several separated "
        'by commas (such as "s" or "ctrl+s,f5").'
    )
    with pytest.raises(ConfigError) as empty:
        check_keymap({"period": "ctrl+t,"}, CONFIG)
    assert "period = 'ctrl+t,' has an empty key, which is none a terminal sends" in empty.value.sentence
    with pytest.raises(ConfigError, match=r"command_palette cannot be remapped; the palette stays on ctrl\+p\.$"):
        check_keymap({"command_palette": "f1"}, CONFIG)  # `?` lists it, but Textual gives it no id
    with pytest.raises(ConfigError) as hostile:  # text from the file is shown as text, and cut
        check_keymap({"\x1b[31m" + "x" * 200: "s"}, CONFIG)
    assert "\x1b" not in hostile.value.sentence and len(hostile.value.sentence) < 200


def test_a_keymap_value_that_is_not_text_is_refused(grafient_home: Path) -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.config_file.write_text("[keymap]\nforce_sync = 5\n")
    with pytest.raises(ConfigError, match=r"'force_sync' must be keys in quotes"):
        settings.keymap()


def test_the_app_does_not_open_on_a_bad_keymap(grafient_home: Path, capsys, monkeypatch) -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.config_file.write_text('[keymap]\nforce_sync = "s"\nquit = "q q"\n')

    def opened(self: GrafientApp, *args: object, **kwargs: object) -> None:
        raise AssertionError("the app opened on a keymap with a dead key")

    monkeypatch.setattr(GrafientApp, "run", opened)
    result = run_cli(capsys, monkeypatch)
    assert result.code == 2
    assert result.err.splitlines() == [
        f"grafient: [keymap] in {settings.config_file}: quit = 'q q' is no key a terminal sends: give one key, "
        'or several separated by commas (such as "s" or "ctrl+s,f5").'
    ]
