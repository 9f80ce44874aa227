"""Files, ids and processes: what Grafient creates and never touches, ids that stay dead, keys kept out of argv
echoes, and no core dumps while keys are held."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from grafient_tui.config import Settings
from grafient_tui.secret import Secret
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.vault import Vault, new_master_key_b64
from tests.conftest import GOOD_KEY
from tests.helpers import run_cli, wide_open_paths


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def umask_000():  # noqa: ANN201
    old = os.umask(0)
    yield
    os.umask(old)


def open_store() -> tuple[Settings, Database, Vault]:
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings, Database(settings), Vault(settings)


# ------------------------------------------------------------------ directories and files

def test_every_missing_level_is_created_0700_under_umask_000_and_the_parent_keeps_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_000: None, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base"
    base.mkdir()
    os.chmod(base, 0o755)
    home = base / "dot-config" / "nested" / "grafient"  # like ~/.config missing on a fresh account
    monkeypatch.setenv("GRAFIENT_HOME", str(home))
    settings, db, vault = open_store()
    add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    db.dispose()
    assert mode(base) == 0o755
    assert [mode(p) for p in (base / "dot-config", base / "dot-config" / "nested", home)] == [0o700] * 3
    assert wide_open_paths(home) == []
    assert capsys.readouterr().err == ""  # we made them, so there is nothing to warn about


def test_a_shared_tmp_dir_and_a_project_dir_are_never_chmodded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # drwxrwxrwt, like /tmp
    project = tmp_path / "project"
    project.mkdir()
    os.chmod(project, 0o755)

    monkeypatch.setenv("GRAFIENT_HOME", str(shared / "x"))
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", f"sqlite:///{project}/costs.db")
    settings, db, vault = open_store()
    add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    db.dispose()
    assert mode(shared) == 0o1777 and mode(project) == 0o755
    assert mode(shared / "x") == 0o700 and mode(project / "costs.db") == 0o600

    # and a database directly in the shared dir: the dir stays as it was, the file is private
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", f"sqlite:///{shared}/grafient.db")
    Database(Settings.from_env()).dispose()
    assert mode(shared) == 0o1777 and mode(shared / "grafient.db") == 0o600
    assert capsys.readouterr().err == ""  # a project dir is not Grafient's home: no warning either


def test_no_mode_change_follows_a_symlink(tmp_path: Path, grafient_home: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.chmod(outside, 0o755)
    target = outside / "somebody-elses.db"
    target.write_bytes(b"")
    os.chmod(target, 0o644)
    wal_target = outside / "log"
    wal_target.write_bytes(b"")
    os.chmod(wal_target, 0o644)
    grafient_home.mkdir(mode=0o700)
    (grafient_home / "locks").symlink_to(outside, target_is_directory=True)
    (grafient_home / "grafient.db").symlink_to(target)

    settings = Settings.from_env()
    settings.ensure_dirs()
    from grafient_tui.config import ensure_private_dir, ensure_private_file, fix_mode

    ensure_private_dir(settings.lock_dir)
    ensure_private_file(grafient_home / "grafient.db")
    (grafient_home / "grafient.db-wal").symlink_to(wal_target)
    assert fix_mode(grafient_home / "grafient.db-wal", 0o600) is False
    assert mode(outside) == 0o755 and mode(target) == 0o644 and mode(wal_target) == 0o644


def test_an_open_master_key_is_tightened_with_one_warning(
    grafient_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, db, vault = open_store()
    row = add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    os.chmod(settings.master_key_file, 0o644)
    capsys.readouterr()
    from grafient_tui.store.integrations import integration_key

    assert integration_key(Vault(settings), row).reveal() == GOOD_KEY
    assert mode(settings.master_key_file) == 0o600
    err = capsys.readouterr().err
    assert err == f"grafient: warning: {settings.master_key_file} was readable by others (mode 644); tightened it to 600.\n"


def test_a_symlinked_master_key_is_read_but_its_target_keeps_its_mode(tmp_path: Path, grafient_home: Path) -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    real = tmp_path / "key-elsewhere"
    real.write_text(new_master_key_b64() + "\n")
    os.chmod(real, 0o640)
    settings.master_key_file.symlink_to(real)
    assert len(Vault(settings).master_key()) == 32
    assert mode(real) == 0o640


def test_a_dangling_symlink_as_the_database_is_one_sentence(
    tmp_path: Path, grafient_home: Path, capsys, monkeypatch  # noqa: ANN001
) -> None:
    grafient_home.mkdir(mode=0o700)
    (grafient_home / "grafient.db").symlink_to(tmp_path / "gone" / "grafient.db")
    result = run_cli(capsys, monkeypatch, "list")
    assert result.code == 2
    assert result.err == (f"grafient: {grafient_home / 'grafient.db'} is a symlink to a file that does not exist; "
                          "point it at a real file or remove it.\n")
    assert not (tmp_path / "gone").exists()


def test_a_home_that_is_a_file_is_one_sentence(grafient_home: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    grafient_home.write_text("not a dir")
    result = run_cli(capsys, monkeypatch, "list")
    assert result.code == 2 and result.err == f"grafient: {grafient_home} is not a directory; Grafient needs a directory there.\n"


# ------------------------------------------------------------------ config errors are one sentence

@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda f: f.write_text('plan = ["pro"]\n'), "must be one of free, pro, ultimate, not a list."),
        (lambda f: f.mkdir(), "is a directory; Grafient expects its config file there."),
        (lambda f: f.write_bytes(b'plan = "pro\xff"\n'), "is not UTF-8 text, so it cannot be TOML."),
        (lambda f: f.write_text('plan = "pro"\nplan = "free"\n'), "is not valid TOML: "),
    ],
    ids=["list", "directory", "not-utf8", "duplicate"],
)
def test_a_bad_config_file_is_one_sentence_and_exit_2(grafient_home: Path, capsys, monkeypatch, setup,  # noqa: ANN001
                                                      expected: str) -> None:
    grafient_home.mkdir(mode=0o700)
    setup(grafient_home / "config.toml")
    # `plan pro` mends a bad value, but refuses to edit a file it cannot read
    for args in (("plan",), *([("plan", "pro")] if expected != "must be one of free, pro, ultimate, not a list." else [])):
        result = run_cli(capsys, monkeypatch, *args)
        assert result.code == 2, (args, result)
        assert result.err.startswith(f"grafient: {grafient_home / 'config.toml'} ") or \
            result.err.startswith(f"grafient: plan in {grafient_home / 'config.toml'} "), result.err
        assert expected in result.err and result.err.count("\n") == 1, result.err
        assert "unexpected error" not in result.err


def test_grafient_now_with_an_offset_is_taken_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from grafient_tui.cli import now_utc

    monkeypatch.setenv("GRAFIENT_NOW", "2026-11-25T01:00:00+05:00")
    now = now_utc()
    assert now == datetime(2026, 11, 24, 20, 0, tzinfo=UTC) and now.utcoffset().total_seconds() == 0
    assert now.date().isoformat() == "2026-11-24"  # today is the UTC date, not the local one


def test_a_report_under_an_offset_now_ends_on_the_utc_day(capsys, monkeypatch) -> None:  # noqa: ANN001
    import json

    monkeypatch.setenv("GRAFIENT_NOW", "2026-11-25T01:00:00+05:00")
    result = run_cli(capsys, monkeypatch, "report", "--days", "1", "--format", "json")
    assert result.code == 0, result.err
    assert "2026-11-24" in json.dumps(json.loads(result.out)) and "2026-11-25" not in result.out
