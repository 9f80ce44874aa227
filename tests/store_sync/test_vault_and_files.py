"""The key vault and the files we create: encryption bound to its row, 0700/0600 always."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from sqlmodel import select

from grafient_tui.config import Settings
from grafient_tui.errors import ConfigError, VaultError
from grafient_tui.secret import Secret, key_hint
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration, find_integration, integration_key, list_integrations
from grafient_tui.store.models import Integration
from grafient_tui.store.vault import Vault, new_master_key_b64
from tests.conftest import GOOD_KEY
from tests.helpers import wide_open_paths


def open_store() -> tuple[Settings, Database, Vault]:
    settings = Settings.from_env()
    settings.ensure_dirs()
    return settings, Database(settings), Vault(settings)


def test_key_round_trips_and_is_not_stored_in_clear(grafient_home: Path) -> None:
    _, db, vault = open_store()
    row = add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY))
    assert integration_key(vault, find_integration(db, row.id)).reveal() == GOOD_KEY
    db.dispose()
    for path in grafient_home.rglob("*"):
        if path.is_file():
            assert GOOD_KEY.encode() not in path.read_bytes(), path
            assert GOOD_KEY[4:36].encode() not in path.read_bytes(), path


def test_each_encryption_uses_a_fresh_nonce() -> None:
    _settings, _, vault = open_store()
    one = vault.encrypt(Secret(GOOD_KEY), uid="u1", provider="cursor")
    two = vault.encrypt(Secret(GOOD_KEY), uid="u1", provider="cursor")
    assert one[:12] != two[:12]
    assert one != two


def test_ciphertext_copied_to_another_row_does_not_decrypt() -> None:
    _, db, vault = open_store()
    a = add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    b = add_integration(db, vault, label="B", provider="cursor", api_key=Secret("crsr_" + "z" * 40))
    with db.session(write=True) as session:
        row_b = session.exec(select(Integration).where(Integration.id == b.id)).one()
        row_b.key_ciphertext = a.key_ciphertext
        session.add(row_b)
    with pytest.raises(VaultError, match="cannot decrypt stored keys"):
        integration_key(vault, find_integration(db, b.id))
    assert integration_key(vault, find_integration(db, a.id)).reveal() == GOOD_KEY


def test_tampered_ciphertext_and_wrong_master_key_fail_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    _settings, db, vault = open_store()
    row = add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    flipped = bytearray(row.key_ciphertext)
    flipped[-1] ^= 1
    with pytest.raises(VaultError, match="cannot decrypt stored keys"):
        vault.decrypt(bytes(flipped), uid=row.uid, provider="cursor", scheme=row.key_scheme)
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", new_master_key_b64())
    with pytest.raises(VaultError, match="master key does not match"):
        integration_key(Vault(Settings.from_env()), row)


def test_missing_master_key_file_is_an_error_not_a_new_key(grafient_home: Path) -> None:
    settings, db, vault = open_store()
    row = add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    settings.master_key_file.unlink()
    with pytest.raises(VaultError, match=r"master key file .* is missing"):
        integration_key(vault, row)
    with pytest.raises(VaultError, match="missing"):  # adding must not mint a key that orphans the old one
        add_integration(db, vault, label="B", provider="cursor", api_key=Secret(GOOD_KEY))
    assert not settings.master_key_file.exists()
    assert [i.label for i in list_integrations(db)] == ["A"]


def test_master_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", new_master_key_b64())
    settings, db, vault = open_store()
    row = add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
    assert not settings.master_key_file.exists()
    assert integration_key(vault, row).reveal() == GOOD_KEY
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(VaultError, match="32 bytes"):
        Vault(Settings.from_env()).master_key()


def test_secrets_never_show_in_reprs() -> None:
    secret = Secret(GOOD_KEY)
    assert GOOD_KEY not in repr(secret) and GOOD_KEY not in str(secret) and GOOD_KEY not in f"{secret}"
    assert key_hint(GOOD_KEY) == "key_…" + GOOD_KEY[-4:]
    assert key_hint("crsr_abcdefgh1234") == "crsr_…1234"
    _, db, vault = open_store()
    row = add_integration(db, vault, label="A", provider="cursor", api_key=secret)
    assert GOOD_KEY not in repr(row) and row.key_ciphertext.hex() not in repr(row)


@pytest.mark.sqlite_only
def test_every_created_path_is_private_even_under_umask_000(grafient_home: Path) -> None:
    old = os.umask(0)
    try:
        settings, db, vault = open_store()
        add_integration(db, vault, label="A", provider="cursor", api_key=Secret(GOOD_KEY))
        settings.set_plan("pro")
        with db.session() as session:  # keep a reader open so -wal/-shm exist while we look
            session.exec(select(Integration)).all()
            assert Path(f"{settings.database_file}-wal").exists()
            assert wide_open_paths(grafient_home) == []
        db.dispose()
    finally:
        os.umask(old)
    assert wide_open_paths(grafient_home) == []


def test_an_open_home_we_did_not_create_is_left_alone_with_a_warning(
    grafient_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The rule changed: a directory Grafient did not create is never chmodded (it could be a
    # shared or project dir); its own home, open to others, gets one sentence on stderr instead.
    grafient_home.mkdir(mode=0o755)
    os.chmod(grafient_home, 0o755)
    Settings.from_env().ensure_dirs()
    assert grafient_home.stat().st_mode & 0o777 == 0o755
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{grafient_home} is open to other users (mode 755)" in err


def test_plan_is_kept_in_the_config_file_beside_the_users_tables(grafient_home: Path) -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    settings.config_file.write_text('# mine\n[keymap]\nforce_sync = "f5"\n')
    assert settings.plan() == "free"
    settings.set_plan("ultimate")
    settings.set_plan("pro")
    text = settings.config_file.read_text()
    assert text.count("plan =") == 1 and "# mine" in text and 'force_sync = "f5"' in text
    assert settings.plan() == "pro" and settings.backfill_days() == 365
    assert settings.keymap() == {"force_sync": "f5"}
    with pytest.raises(ConfigError):
        settings.set_plan("enterprise")


def test_environment_settings_are_validated(monkeypatch: pytest.MonkeyPatch, grafient_home: Path) -> None:
    monkeypatch.setenv("GRAFIENT_CURSOR_RPM", "fast")
    with pytest.raises(ConfigError, match="GRAFIENT_CURSOR_RPM must be a number"):
        Settings.from_env()
    monkeypatch.setenv("GRAFIENT_CURSOR_RPM", "30")
    monkeypatch.setenv("GRAFIENT_CURSOR_API_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("GRAFIENT_DATABASE_URL", f"sqlite:///{grafient_home}/other.db")
    settings = Settings.from_env()
    assert settings.cursor_rpm == 30 and settings.cursor_api_url == "http://127.0.0.1:9"
    assert settings.database_file == grafient_home / "other.db"
