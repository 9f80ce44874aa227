"""Objects that hold secrets print without them: Settings holds the master key and the database URL
(whose password may be in it)."""

from __future__ import annotations

import pytest

from grafient_tui.config import Settings, without_password

MASTER = "c2VjcmV0LW1hc3Rlci1rZXktMzItYnl0ZXMtbG9uZyEh"


@pytest.mark.parametrize(
    "url, shown",
    [
        (
            "postgresql+psycopg://bob:pa55w0rd@db.example.com:5432/grafient",
            "postgresql+psycopg://bob@db.example.com:5432/grafient",
        ),
        ("postgresql://bob@db/g?sslmode=require&password=pa55w0rd", "postgresql://bob@db/g?sslmode=require"),
        ("postgresql://bob:pa55w0rd@db/g?PASSWORD=pa55w0rd&x=1", "postgresql://bob@db/g?x=1"),
        ("sqlite:////home/me/grafient.db", "sqlite:////home/me/grafient.db"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert without_password(url) == shown


def test_the_settings_repr_holds_neither_the_master_key_nor_the_database_password(tmp_path) -> None:
    settings = Settings.from_env(
        {
            "GRAFIENT_HOME": str(tmp_path),
            "GRAFIENT_DATABASE_URL": "postgresql://bob:pa55w0rd@db/g",
            "GRAFIENT_MASTER_KEY": MASTER,
        }
    )
    for text in (repr(settings), str(settings), f"{settings}", repr([settings])):
        assert MASTER not in text and MASTER[:12] not in text and "pa55w0rd" not in text
        assert "master_key_b64=<hidden>" in text and "postgresql://bob@db/g" in text
    assert settings.master_key_b64 == MASTER  # hidden from the repr only
