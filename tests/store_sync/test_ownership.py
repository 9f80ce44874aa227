"""Files another local user could have planted are never trusted, like ssh: a home, `master.key`, the
database and its folder, and `config.toml` must be this user's (or root's) and writable by no one
else. Another user's master key would seal your API keys with a key they hold, their database would
store them. What is Grafient's own and only too open is narrowed in place, with a warning; anything
else is refused with one sentence saying what to do, and nothing is read from it or written to it.

The two-user tests create a second local user (useradd) and plant files as that user (runuser):
they need root, and skip, saying so, without it."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import GOOD_KEY
from tests.helpers import all_bytes_under, run_cli

OTHER = "grafient-planter"
THEIR_KEY = base64.b64encode(b"k" * 32).decode() + "\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def other_user() -> str:
    """A second local user, made once; the test skips (saying why) where that cannot be done."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a second local user (useradd) and act as it (runuser)")
    if not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("useradd and runuser are needed to act as a second local user")
    exists = subprocess.run(["id", "-u", OTHER], capture_output=True, check=False).returncode == 0
    if not exists:
        subprocess.run(
            ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER], check=True, capture_output=True
        )
    return OTHER


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder both users can reach (the tests' tmp_path is root's own, 0700)."""
    base = Path(tempfile.mkdtemp(prefix="grafient-shared-", dir="/tmp"))
    os.chmod(base, 0o1777)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def as_user(user: str, *argv: str) -> None:
    subprocess.run(["runuser", "-u", user, "--", *argv], check=True, capture_output=True, timeout=60)


def plant(user: str, path: Path, content: str) -> None:
    """`path` written by `user` (0644, as a careless or hostile user leaves it)."""
    as_user(user, "sh", "-c", 'umask 022; printf "%s" "$1" > "$2"', "plant", content, str(path))


# ------------------------------------------------------------------ two users


def test_a_home_another_user_made_is_refused(capsys, monkeypatch, other_user: str, shared: Path) -> None:
    home = shared / "home"
    as_user(other_user, "mkdir", "-m", "700", str(home))
    monkeypatch.setenv("GRAFIENT_HOME", str(home))
    listed = run_cli(capsys, monkeypatch, "list")
    assert listed.code == 2
    assert listed.err == (
        f"grafient: {home} belongs to another user ({other_user}), who could have put Grafient's files there; "
        f"Grafient will not use it: move it away (or, if it is yours, `chown root {home}`).\n"
    )


@pytest.mark.sqlite_only  # the planted database is the home's SQLite file
def test_a_master_key_and_database_planted_in_an_open_home_are_refused(
    capsys, monkeypatch, other_user: str, shared: Path
) -> None:
    """The finding: in a home others can write, their master.key sealed your API keys and their
    grafient.db stored them. The home (this user's, only too open) is narrowed; their files refused."""
    home = shared / "home"
    home.mkdir()
    os.chmod(home, 0o777)
    plant(other_user, home / "master.key", THEIR_KEY)
    monkeypatch.setenv("GRAFIENT_HOME", str(home))
    monkeypatch.setenv("GRAFIENT_NOW", "2026-03-12T10:30:00+00:00")
    added = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY)
    assert added.code == 2, added
    assert f"{home} was writable by other users (mode 777); narrowed it to 755." in added.err
    assert f"{home / 'master.key'} belongs to another user ({other_user})" in added.err
    assert (home / "master.key").read_text() == THEIR_KEY  # untouched, and never used
    assert GOOD_KEY.encode() not in all_bytes_under(home)
    assert mode(home) == 0o755

    (home / "master.key").unlink()
    os.chmod(home, 0o777)  # open again, and this time they plant a database
    plant(other_user, home / "grafient.db", "")
    listed = run_cli(capsys, monkeypatch, "list")
    assert listed.code == 2 and f"{home / 'grafient.db'} belongs to another user ({other_user})" in listed.err


def test_a_config_file_another_user_owns_is_refused(capsys, monkeypatch, other_user: str, shared: Path) -> None:
    home = shared / "home"
    home.mkdir(mode=0o700)
    os.chmod(home, 0o777)
    plant(other_user, home / "config.toml", 'plan = "pro"\n')
    os.chmod(home, 0o700)
    monkeypatch.setenv("GRAFIENT_HOME", str(home))
    shown = run_cli(capsys, monkeypatch, "plan")
    assert shown.code == 2
    assert (
        f"{home / 'config.toml'} belongs to another user ({other_user}), who could have put its settings" in shown.err
    )


def test_a_database_planted_in_a_shared_folder_is_refused(capsys, monkeypatch, other_user: str, shared: Path) -> None:
    plant(other_user, shared / "team.db", "")
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", f"sqlite:///{shared}/team.db")
    listed = run_cli(capsys, monkeypatch, "list")
    assert listed.code == 2
    assert f"{shared} is writable by other users, who could replace a database" in listed.err
    assert (shared / "team.db").read_bytes() == b""


# ------------------------------------------------------------------ one user: what can be fixed, and what cannot


def test_grafient_own_home_and_files_too_open_are_narrowed_with_a_warning(
    capsys, monkeypatch, grafient_home: Path
) -> None:
    grafient_home.mkdir()
    os.chmod(grafient_home, 0o777)
    (grafient_home / "master.key").write_text(THEIR_KEY)
    os.chmod(grafient_home / "master.key", 0o666)
    (grafient_home / "config.toml").write_text('plan = "pro"\n')
    os.chmod(grafient_home / "config.toml", 0o666)
    shown = run_cli(capsys, monkeypatch, "plan")
    assert shown.code == 0 and shown.out.startswith("pro")
    assert f"{grafient_home} was writable by other users (mode 777); narrowed it to 755." in shown.err
    assert f"{grafient_home / 'config.toml'} was writable by other users (mode 666); narrowed it to 600." in shown.err
    assert mode(grafient_home) == 0o755 and mode(grafient_home / "config.toml") == 0o600
    listed = run_cli(capsys, monkeypatch, "list")
    assert listed.code == 0 and mode(grafient_home / "master.key") == 0o600


def test_a_database_folder_open_to_writers_that_is_not_grafients_is_refused(
    tmp_path: Path, capsys, monkeypatch, grafient_home: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    os.chmod(project, 0o777)
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", f"sqlite:///{project}/costs.db")
    listed = run_cli(capsys, monkeypatch, "list")
    assert listed.code == 2
    assert listed.err == (
        f"grafient: {project} is writable by other users, who could replace a database; Grafient will not use "
        f"it: run `chmod go-w {project}`, or use a folder only you can write.\n"
    )
    assert mode(project) == 0o777 and not (project / "costs.db").exists()
