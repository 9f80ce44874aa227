"""`grafient add PROVIDER --flag VALUE`: a provider's account settings from the command line to the store
and back to the provider at every sync, end to end in-process (the test-only Example provider, its fake
API served through respx at the transport)."""

from __future__ import annotations

import json
import sqlite3

import pytest
import respx

from grafient_tui.config import Settings
from tests.account_provider import BASE_URL, KEY, FakeExampleAccount, example_provider
from tests.helpers import run_cli

pytestmark = pytest.mark.usefixtures(example_provider.__name__)


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", "2026-03-12T10:30:00+00:00")


def serve(router: respx.Router, account: FakeExampleAccount) -> None:
    router.route().mock(side_effect=account.handler)


def add(capsys, monkeypatch, *flags: str, stdin: str = KEY + "\n"):
    return run_cli(capsys, monkeypatch, "add", "example", "--label", "Team", *flags, stdin=stdin)


def listed(capsys, monkeypatch) -> list[dict]:
    return json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)


def test_the_settings_are_checked_stored_listed_and_given_back_at_every_sync(capsys, monkeypatch) -> None:
    fake = FakeExampleAccount(region="us", owner="acme-corp")
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        serve(router, fake)
        result = add(capsys, monkeypatch, "--region", "us", "--enterprise", "acme-corp", "--project", "billing-1")
        assert result.code == 0, result.err
        assert "(example --region us --enterprise acme-corp --project billing-1, key" in result.out
        synced = run_cli(capsys, monkeypatch, "sync")
        assert synced.code == 0, synced.err
    # Every call, the validation and each sync's, carried the account (the fake refuses any other).
    assert fake.calls and all(r.headers["x-owner"] == "acme-corp" for r in fake.calls)
    [row] = listed(capsys, monkeypatch)
    assert row["account"] == {"region": "us", "enterprise": "acme-corp", "project": "billing-1"}
    assert row["status"] == "ok"
    table = run_cli(capsys, monkeypatch, "list").out
    assert "ACCOUNT" in table and "--region us --enterprise acme-corp --project billing-1" in table


@pytest.mark.parametrize(
    ("flags", "sentence"),
    [
        (["--org", "acme"], "Example needs --region REGION: The region the account lives in: eu or us."),
        (["--region", "eu"], "Example needs one of --org ORG or --enterprise SLUG."),
        (
            ["--region", "eu", "--org", "a", "--enterprise", "b"],
            "Example needs only one of --org ORG or --enterprise SLUG.",
        ),
        (["--region", "mars", "--org", "acme"], "The region is eu or us."),
    ],
)
def test_settings_that_do_not_fit_are_refused_before_a_key_is_asked_for(capsys, monkeypatch, flags, sentence) -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        route = router.route().mock(side_effect=FakeExampleAccount().handler)
        result = add(capsys, monkeypatch, *flags, stdin="")  # no key on stdin: it is never read
        assert not route.called
    assert result.code == 2 and result.err == f"grafient: {sentence}\n"
    assert listed(capsys, monkeypatch) == []


def test_a_flag_of_another_provider_is_refused(capsys, monkeypatch) -> None:
    result = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Team", "--region", "eu", stdin="")
    assert result.code == 2 and result.err == "grafient: --region is not an option of `grafient add cursor`.\n"


def test_the_provider_refusing_the_settings_stores_nothing(capsys, monkeypatch) -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        serve(router, FakeExampleAccount(owner="acme"))
        result = add(capsys, monkeypatch, "--region", "eu", "--org", "someone-else")
    assert result.code == 2 and result.err.count("\n") == 1 and KEY not in result.err
    assert listed(capsys, monkeypatch) == []


def test_the_add_help_lists_every_providers_settings(capsys, monkeypatch) -> None:
    out = run_cli(capsys, monkeypatch, "add", "--help").out
    for flag in ("--region REGION", "--org ORG", "--enterprise SLUG", "--project P"):
        assert flag in out
    assert "exactly one of --org or --enterprise" in " ".join(out.split())


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "stored",
    ['{"region": "eu"', '["eu"]', '{"region": "mars", "org": "acme"}', '{"region": "eu", "org": 7}', " " * 5000],
)
def test_a_damaged_row_fails_its_sync_with_one_sentence_and_list_says_so(capsys, monkeypatch, stored: str) -> None:
    """Database rows are untrusted: the settings are checked again when they are read back."""
    fake = FakeExampleAccount()
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        serve(router, fake)
        assert add(capsys, monkeypatch, "--region", "eu", "--org", "acme", "--no-backfill").code == 0
        database = Settings.from_env().database_file
        with sqlite3.connect(database) as connection:
            connection.execute("UPDATE integration SET account = ?", (stored,))
        calls = len(fake.calls)
        synced = run_cli(capsys, monkeypatch, "sync")
    assert synced.code == 1 and len(fake.calls) == calls  # nothing was asked with settings it cannot trust
    assert "the stored account settings of integration 1" in synced.out and synced.out.count("\n") == 1
    [row] = listed(capsys, monkeypatch)
    assert row["account"] is None
    assert "(unreadable)" in run_cli(capsys, monkeypatch, "list").out
