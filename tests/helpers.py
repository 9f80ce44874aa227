"""Small helpers shared by the tests: run the CLI in-process, walk GRAFIENT_HOME."""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from grafient_tui.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> Result:
    """Run `grafient ARGS` in this process with STDIN piped (not a terminal)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def all_bytes_under(root: Path) -> bytes:
    """Every byte of every file below root (database, -wal, config, key file...)."""
    chunks = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            chunks.append(path.read_bytes())
    return b"\n".join(chunks)


def modes_under(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)) or ".": stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


def wide_open_paths(root: Path) -> list[str]:
    """Paths below root that are not 0700 (dirs) or 0600 (files)."""
    bad = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(os.lstat(path).st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            bad.append(f"{path} {oct(mode)}")
    return bad


OTHER_KEY = "crsr_" + "9f8e7d6c" * 8  # a second team's key, in the newer documented shape


def route_by_key(*teams):
    """An httpx handler serving several fake teams, each answering its own key (one key = one team)."""
    import base64

    by_auth = {"Basic " + base64.b64encode(f"{t.api_key}:".encode()).decode("ascii"): t for t in teams}

    def handler(request):
        team = by_auth.get(request.headers.get("authorization", ""), teams[0])  # an unknown key: the 401 path
        return team.handler(request)

    return handler
