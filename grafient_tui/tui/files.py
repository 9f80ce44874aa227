"""Files the app writes for the user (screenshots), and the toast that names a file written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App

from grafient_tui.tui.shown import toast
from grafient_tui.tui.widgets.text import sentence_of


def notify_path(app: App[Any], what: str, path: Path, *after: str) -> None:
    """A toast naming a file: the path on a line of its own (~ for the home directory), so it is
    never broken in the middle of a word; `after`: lines under it."""
    shown = str(path)
    home = str(Path.home())
    if shown.startswith(home + "/"):
        shown = "~" + shown[len(home) :]
    toast(app, what, shown, *after, timeout=8, title="File written")


def save_screenshot(app: App[Any], data_dir: Path, when: datetime) -> Path | None:
    """The screen as SVG in `<data dir>/exports/` (0600; it exists wherever the app runs, unlike
    ~/Downloads over SSH), and a toast naming the file."""
    from grafient_tui.config import ensure_private_dir, write_private_file
    from grafient_tui.service import EXPORTS_DIR

    name = f"grafient-screenshot-{when.astimezone(UTC):%Y%m%d-%H%M%S}.svg"
    try:
        folder = ensure_private_dir(data_dir / EXPORTS_DIR)
        path = folder / name
        write_private_file(path, app.export_screenshot(title="Grafient").encode("utf-8"))
    except Exception as exc:  # noqa: BLE001  (a full disk, a read-only home: one sentence)
        toast(app, f"No screenshot saved: {sentence_of(exc, 'the file could not be written')}", severity="error")
        return None
    notify_path(app, "Screenshot saved to", path)
    return path
