"""Grafient against an API that is hostile or broken on purpose: answers too big or endless,
answers that drip, pagination without end, servers that echo the key back, plaintext
addresses, and a success that is no success.

The network is real (tests/fake_server.py on 127.0.0.1) or faked at the transport; nothing
of ours is patched. No traffic ever leaves the machine.
"""

from __future__ import annotations

import base64
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlmodel import select

from grafient_tui.config import Settings
from grafient_tui.errors import ConfigError, scrub
from grafient_tui.providers.cursor import MAX_MEMBERS_PER_WINDOW, MAX_MODELS_PER_WINDOW, MAX_PAGES
from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events
from grafient_tui.secret import REDACTED, Secret, scrub_known
from grafient_tui.store.db import Database
from grafient_tui.store.models import SyncRun
from tests.conftest import GOOD_KEY
from tests.fake_server import FaultPlan, FaultyCursorServer
from tests.helpers import Result, all_bytes_under, run_cli, wait_until
from tests.oracle import all_rows, expected_snapshot, restrict, store_snapshot, utc_ms

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
NOW_TEXT = "2026-11-24T10:30:00Z"
TODAY = NOW.date()

B64_BASIC = base64.b64encode(f"{GOOD_KEY}:".encode()).decode()
FULLY_ENCODED = "".join(f"%{b:02X}" for b in GOOD_KEY.encode())


def echoes(key: str) -> dict[str, str]:
    """What a careless server writes back: a 12-character slice of the key, a slice of the
    base64 of its Basic credentials (in both alphabets), and the whole key percent-encoded."""
    basic = base64.b64encode(f"{key}:".encode()).decode()
    return {
        "slice": key[9:21],
        "b64": basic[14:40],
        "b64url": basic.replace("+", "-").replace("/", "_")[30:50],
        "quoted": quote(key, safe=""),
        "encoded": "".join(f"%{b:02x}" for b in key.encode()),
    }


# ------------------------------------------------------------------ redaction


@pytest.mark.parametrize("key", [GOOD_KEY, "crsr_Zq8+Lm/Np=Xy7&Wv3?Tt0#Rr5Qs"])
def test_redaction_removes_every_slice_and_encoding_of_the_key(key: str) -> None:
    found = echoes(key)
    message = " | ".join(f"{name}={text}" for name, text in found.items())
    for cleaned in (scrub(message, key, limit=10_000), scrub_known_with(key, message)):
        for text in found.values():
            assert text not in cleaned
            assert text.upper() not in cleaned
        assert cleaned.count(REDACTED) == len(found)
        assert "slice=" in cleaned and "encoded=" in cleaned  # the rest of the message survives


def scrub_known_with(key: str, text: str) -> str:
    Secret(key)  # the process has now seen it
    return scrub_known(text)


def test_redaction_leaves_ordinary_messages_alone() -> None:
    for message in (
        "Invalid API key",
        "Rate limit exceeded. Please try again later.",
        "An unexpected error occurred",
        "key_…d4 was refused",
    ):
        assert scrub(message, GOOD_KEY) == message


def test_redaction_happens_before_the_cut() -> None:
    """Cutting first could leave the first characters of a key at the end of the sentence."""
    message = "x" * 190 + GOOD_KEY
    cleaned = scrub(message, GOOD_KEY)
    assert GOOD_KEY[:8] not in cleaned and len(cleaned) <= 200


# ------------------------------------------------------------------ helpers


def team() -> FakeCursorTeam:
    return FakeCursorTeam(api_key=GOOD_KEY, events=[], members=[{"name": "A", "email": "a@x.io", "role": "owner"}])


def point_at(monkeypatch: pytest.MonkeyPatch, server: FaultyCursorServer, **env: str) -> None:
    monkeypatch.setenv("GRAFIENT_CURSOR_API_URL", server.url)
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def add_team(capsys, monkeypatch) -> None:
    added = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY)
    assert added.code == 0, added


def stored(home: Path) -> dict[str, list]:
    """Every table but the sync log."""
    return {t: rows for t, rows in all_rows(home / "grafient.db").items() if t != "syncrun"}


def sync_errors() -> list[str | None]:
    with Database(Settings.from_env()).session() as session:
        return [run.error for run in session.exec(select(SyncRun).order_by(SyncRun.id))]


def one_failed_sync_line(result: Result, sentence: str) -> None:
    assert result.code == 1, result
    assert result.out.splitlines() == [result.out.strip()] and "Traceback" not in result.out + result.err
    assert result.out.startswith("Eng: 0 days written") and f", failed: {sentence}" in result.out, result.out


# ------------------------------------------------------------------ size


def test_a_gzip_bomb_stops_at_the_size_limit_with_memory_bounded(capsys, monkeypatch, grafient_home) -> None:
    """50 MB of JSON in ~50 KB of gzip, against a 1 MB limit: the sync reads about 1 MB, says
    so, is not retried, writes nothing, and Python's allocations never come near the 50 MB
    (httpx's own decoder would inflate each 64 KiB network chunk to ~64 MB in one go)."""
    plan = FaultPlan(hostile="gzip-bomb", bomb_mb=50)
    with FaultyCursorServer(team(), plan) as server:
        assert len(server.gzip_bomb()) < 200_000
        point_at(monkeypatch, server, GRAFIENT_MAX_RESPONSE_MB="1")
        add_team(capsys, monkeypatch)
        before = stored(grafient_home)
        tracemalloc.start()
        try:
            result = run_cli(capsys, monkeypatch, "sync")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert server.hostile_served == 1  # not retried: the same request brings the same answer
    one_failed_sync_line(result, "the Cursor API sent an answer to /teams/filtered-usage-events larger than 1 MB")
    assert "GRAFIENT_MAX_RESPONSE_MB" in result.out
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"  # httpx's aiter_bytes: ~134 MB
    assert stored(grafient_home) == before
    assert sync_errors()[-1] == result.out.split(", failed: ", 1)[1].strip()


def test_an_endless_body_stops_at_the_size_limit(capsys, monkeypatch, grafient_home) -> None:
    with FaultyCursorServer(team(), FaultPlan(hostile="endless")) as server:
        point_at(monkeypatch, server, GRAFIENT_MAX_RESPONSE_MB="1")
        add_team(capsys, monkeypatch)
        before = stored(grafient_home)
        result = run_cli(capsys, monkeypatch, "sync")
        assert server.hostile_served == 1
    one_failed_sync_line(result, "the Cursor API sent an answer to /teams/filtered-usage-events larger than 1 MB")
    assert stored(grafient_home) == before


def test_a_validation_answer_past_the_limit_refuses_the_key_with_exit_2(capsys, monkeypatch, grafient_home) -> None:
    with FaultyCursorServer(team(), FaultPlan(hostile="endless", hostile_path="/teams/members")) as server:
        point_at(monkeypatch, server, GRAFIENT_MAX_RESPONSE_MB="0.5")
        result = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
        assert server.hostile_served == 1
    assert result.code == 2
    assert (
        result.err == "grafient: the Cursor API sent an answer to /teams/members larger than 0.5 MB; "
        "stopped reading it (GRAFIENT_MAX_RESPONSE_MB raises the limit)\n"
    )
    assert GOOD_KEY.encode() not in all_bytes_under(grafient_home)
    assert run_cli(capsys, monkeypatch, "list", "--format", "json").out.strip() == "[]"


@pytest.mark.parametrize("value", ["0", "-3", "lots", "nan"])
def test_a_bad_size_limit_is_one_sentence(capsys, monkeypatch, value: str) -> None:
    monkeypatch.setenv("GRAFIENT_MAX_RESPONSE_MB", value)
    result = run_cli(capsys, monkeypatch, "list")
    assert result.code == 2 and result.err.startswith("grafient: GRAFIENT_MAX_RESPONSE_MB must be a")
    assert result.err.count("\n") == 1


# ------------------------------------------------------------------ deadlines


@pytest.mark.slow  # seconds of work: CI's slow run
def test_a_dripping_server_cannot_hang_us(capsys, monkeypatch, grafient_home) -> None:
    """One byte every half second is never a read timeout (httpx restarts it per chunk); the
    request deadline ends each try after 1 s, and the three tries of a validation after ~3 s
    (the answer would otherwise take ~40 s to arrive: none of the three got that far)."""
    plan = FaultPlan(hostile="drip", hostile_path="/teams/members", drip_seconds=0.5)
    with FaultyCursorServer(team(), plan) as server:
        point_at(monkeypatch, server, GRAFIENT_REQUEST_DEADLINE="1")
        result = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
        assert server.hostile_served == 3  # a deadline is a timeout: retried like one
        assert server.drips_finished == 0  # hang prevention: each try ended long before its answer
    assert result.code == 2
    assert result.err == (
        "grafient: the Cursor API did not answer within 1 s (3 tries); GRAFIENT_REQUEST_DEADLINE raises the limit\n"
    )
    assert GOOD_KEY.encode() not in all_bytes_under(grafient_home)


def test_a_sync_past_its_deadline_keeps_finished_windows_and_says_how_to_go_on(
    capsys,
    monkeypatch,
    grafient_home,
) -> None:
    """Plan pro: 13 windows of a year; the server answers the first two windows and never the
    third (it holds it until the client gives up); a 3 s sync deadline ends the sync there (no
    other timeout comes near), abandons the window under way and keeps the finished ones, exactly."""
    events = make_events(
        seed=3, start=TODAY - timedelta(days=365), days=365, per_day=3, members=["a@x.io"], models=["gpt-5"]
    )
    events = [e for e in events if int(e["timestamp"]) <= utc_ms(NOW)]
    team = FakeCursorTeam(api_key=GOOD_KEY, events=events)
    with FaultyCursorServer(team, FaultPlan(hold_events_after=2)) as server:
        point_at(monkeypatch, server, GRAFIENT_SYNC_DEADLINE="3")
        assert run_cli(capsys, monkeypatch, "plan", "pro").code == 0
        add_team(capsys, monkeypatch)
        result = run_cli(capsys, monkeypatch, "sync")
        # Hang prevention: the sync came back while its request was still unanswered, so its deadline
        # ended it (the request's own timeouts are 30 s and more away), and it left the request behind.
        assert server.held == 1
        wait_until(lambda: server.hung_up == 1, "the abandoned request's connection to close")
    assert result.code == 1, result
    line = result.out.strip()
    assert "failed: the sync stopped at its time limit of 3 s with " in line
    assert "windows still to fetch; the finished ones are kept" in line and "GRAFIENT_SYNC_DEADLINE" in line
    days = int(line.split(": ", 1)[1].split(" days written")[0])
    assert 0 < days < 365
    snapshot = store_snapshot(grafient_home / "grafient.db")
    stored_days = {row[0] for row in snapshot[0]}
    assert len(stored_days) == days  # the window under way left nothing behind
    want = expected_snapshot(events, first=TODAY - timedelta(days=365), last=TODAY, today=TODAY)
    assert restrict(want, stored_days) == snapshot
    assert sync_errors()[-1] == line.split(", failed: ", 1)[1]


# ------------------------------------------------------------------ pagination without end


@pytest.mark.parametrize(
    ("plan", "sentence"),
    [
        (
            FaultPlan(hostile="endless-pages", page_events=1000, new_models=1000),
            f"more than {MAX_MODELS_PER_WINDOW:,} different models in one window",
        ),
        (
            FaultPlan(hostile="endless-pages", page_events=1000, new_members=1000),
            f"more than {MAX_MEMBERS_PER_WINDOW:,} different members in one window",
        ),
        (
            FaultPlan(hostile="endless-pages", page_events=1),
            f"still reported more usage events after {MAX_PAGES:,} pages",
        ),
    ],
    ids=["models", "members", "pages"],
)
def test_endless_pagination_stops_at_a_cap_and_writes_nothing(
    capsys,
    monkeypatch,
    grafient_home,
    plan: FaultPlan,
    sentence: str,
) -> None:
    with FaultyCursorServer(team(), plan) as server:
        point_at(monkeypatch, server)
        add_team(capsys, monkeypatch)
        before = stored(grafient_home)
        result = run_cli(capsys, monkeypatch, "sync")
        served = server.hostile_served
    one_failed_sync_line(result, "the Cursor API ")
    assert sentence in result.out and "nothing from this window was saved" in result.out
    assert stored(grafient_home) == before
    assert served <= MAX_PAGES


# ------------------------------------------------------------------ a server that echoes the key


def test_a_server_echoing_the_key_never_gets_it_shown_or_stored(capsys, monkeypatch, grafient_home) -> None:
    """401 and 500 answers whose message carries a 12-character slice of the key, a slice of
    its base64 Basic credentials and the whole key percent-encoded (tests/fake_server.py,
    echoed_key): none of it reaches stdout, stderr, the debug log, the sync log or any file."""
    leaks = [*list(echoes(GOOD_KEY).values()), GOOD_KEY, B64_BASIC, FULLY_ENCODED]
    with FaultyCursorServer(team(), FaultPlan(hostile="echo")) as server:
        point_at(monkeypatch, server, GRAFIENT_DEBUG="1")
        refused = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
        server.plan.hostile = None
        add_team(capsys, monkeypatch)
        server.plan.hostile = "echo"
        failed = run_cli(capsys, monkeypatch, "sync")
        listed = run_cli(capsys, monkeypatch, "list", "--format", "json")
        assert server.hostile_served == 1 + 6  # the 401 is final; the 500 is retried
    sentence = refused.err.splitlines()[-1]  # after the debug log lines
    assert refused.code == 2 and sentence.startswith("grafient: the key was rejected by Cursor (HTTP 401: ")
    assert REDACTED in sentence
    one_failed_sync_line(failed, "the Cursor API failed with HTTP 500 after 6 tries: key [redacted] was refused")
    errors = sync_errors()
    assert errors and "HTTP 500" in errors[-1] and REDACTED in errors[-1]
    on_disk = all_bytes_under(grafient_home)
    for leak in leaks:
        for text in (refused.out, refused.err, failed.out, failed.err, listed.out, *errors):
            assert leak not in text and leak.lower() not in text
        assert leak.encode() not in on_disk and leak.lower().encode() not in on_disk


# ------------------------------------------------------------------ plaintext


@pytest.mark.parametrize(
    "url",
    [
        "http://api.cursor.com",
        "http://10.0.0.7:8080",
        "http://[2001:db8::1]",
        "http://127.0.0.1.example.com",
        "http://127.0.0.1@example.com",
    ],
)
def test_plain_http_off_this_machine_is_refused_before_any_request(capsys, monkeypatch, url: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"GRAFIENT_HOME": "/nonexistent", "GRAFIENT_CURSOR_API_URL": url})
    assert "GRAFIENT_CURSOR_API_URL" in info.value.sentence and "\n" not in info.value.sentence
    monkeypatch.setenv("GRAFIENT_CURSOR_API_URL", url)
    result = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
    assert result.code == 2 and result.err.count("\n") == 1 and result.out == ""
    if "@" not in url:
        assert "must use https" in result.err and "GRAFIENT_ALLOW_INSECURE_HTTP=1" in result.err


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9", "http://127.8.0.1", "http://localhost:9", "http://[::1]:9", "https://api.cursor.com"]
)
def test_loopback_and_https_need_no_override(capsys, url: str) -> None:
    settings = Settings.from_env({"GRAFIENT_HOME": "/nonexistent", "GRAFIENT_CURSOR_API_URL": url})
    assert settings.cursor_api_url == url
    assert capsys.readouterr().err == ""


def test_the_insecure_override_allows_plain_http_with_one_warning(capsys) -> None:
    """Settings only: nothing is sent anywhere."""
    settings = Settings.from_env(
        {
            "GRAFIENT_HOME": "/nonexistent",
            "GRAFIENT_CURSOR_API_URL": "http://proxy.internal:3128",
            "GRAFIENT_ALLOW_INSECURE_HTTP": "1",
        }
    )
    assert settings.cursor_api_url == "http://proxy.internal:3128"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("grafient: warning: ") and "unencrypted" in err


# ------------------------------------------------------------------ a success that is no success


@pytest.mark.parametrize("answer", [b"{}", b'{"teamMembers": null}', b'{"members": []}', b'{"teamMembers": {}}'])
def test_a_validation_answer_without_the_members_list_is_refused(
    capsys,
    monkeypatch,
    grafient_home,
    answer: bytes,
) -> None:
    plan = FaultPlan(hostile="answer", hostile_path="/teams/members", answer=answer)
    with FaultyCursorServer(team(), plan) as server:
        point_at(monkeypatch, server)
        result = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", stdin=GOOD_KEY)
    assert result.code == 2 and result.out == ""
    assert result.err == (
        "grafient: the Cursor API sent an unexpected answer to /teams/members "
        "(no teamMembers list); is GRAFIENT_CURSOR_API_URL right?\n"
    )
    assert GOOD_KEY.encode() not in all_bytes_under(grafient_home)
    assert run_cli(capsys, monkeypatch, "list", "--format", "json").out.strip() == "[]"
