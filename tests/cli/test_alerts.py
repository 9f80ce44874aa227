"""Alert channels end to end against real receivers: a local HTTP server checking the webhook's
signature and the Slack and Teams payloads, aiosmtpd for email; each event once per channel (also
with two processes racing), failing channels recorded without changing an exit code, secrets never
in any output, viewers never sending. Runs on SQLite, and on PostgreSQL under .ci/with-postgres."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from grafient_tui.alerts.deliver import Senders
from grafient_tui.config import Settings
from grafient_tui.secret import Secret
from grafient_tui.service import GrafientService
from grafient_tui.store import alerts as stored
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration
from grafient_tui.store.sums import WindowSums
from grafient_tui.store.sync_writes import write_window
from tests.alert_receivers import HttpReceiver, SmtpReceiver, free_port
from tests.conftest import GOOD_KEY
from tests.factories import day_sums, model_sums
from tests.helpers import PATIENCE, all_bytes_under, run_cli, wait_until

TODAY = date(2026, 11, 24)
NOW = datetime.combine(TODAY, time(10, 30), UTC)
DOLLAR = 100_000_000
SIGNING = "whsec-GRAFIENT-TEST-SIGNING-5e1f0c"
SLACK_PATH = "/services/T0/B0/GRAFIENTSLACKSECRET77"
TEAMS_PATH = "/workflows/GRAFIENTTEAMSSECRET88/triggers/manual/paths/invoke"
PASSWORD = "smtp-GRAFIENT-TEST-PASSWORD-41"
# aiosmtpd warns about a login without TLS: on loopback, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
SECRETS = (SIGNING, "GRAFIENTSLACKSECRET77", "GRAFIENTTEAMSSECRET88", PASSWORD)


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW.isoformat())


@pytest.fixture
def receiver():
    server = HttpReceiver().start()
    yield server
    server.stop()


def over_budget(store, capsys, monkeypatch, label: str = "Eng") -> int:
    """An integration that spent $115 of a $100 monthly budget by NOW: one event, `budget:...:100`."""
    db, vault = store
    iid = int(add_integration(db, vault, label=label, provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id)
    for offset in range(23):
        day = date(2026, 11, 1) + timedelta(days=offset)
        totals = WindowSums()
        totals.days[day] = day_sums(5 * DOLLAR, on_demand=None, requests=1)
        totals.models[(day, "gpt-5")] = model_sums(5 * DOLLAR, requests=1)
        write_window(db, iid, day, day, totals, NOW)
    assert run_cli(capsys, monkeypatch, "budget", "set", "all", "100").code == 0
    return iid


def signed_by(received, secret: str) -> bool:
    stamp = received.headers["X-Grafient-Timestamp"]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received.headers["X-Grafient-Signature"], "sha256=" + expected)


def no_secret_in(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for secret in SECRETS:
            assert secret.encode() not in data, secret


def stored_rows(db: Database) -> bytes:
    """Every alert channel's and delivery's row as the database holds it (SQLite or PostgreSQL)."""
    from sqlalchemy import text

    with db.session() as session:
        rows = [
            *session.execute(text("SELECT * FROM alertchannel")),
            *session.execute(text("SELECT * FROM alertdelivery")),
        ]
    assert rows
    return repr([tuple(row) for row in rows]).encode()


def test_a_webhook_gets_each_event_once_signed_and_the_check_keeps_its_exit_code(
    store, receiver, capsys, monkeypatch, grafient_home
) -> None:
    over_budget(store, capsys, monkeypatch)
    added = run_cli(
        capsys,
        monkeypatch,
        "alert",
        "add",
        "webhook",
        "--label",
        "Ops",
        "--url",
        receiver.url + "/hook",
        stdin=SIGNING + "\n",
    )
    assert added.code == 0, added.err
    first = run_cli(capsys, monkeypatch, "check")
    assert first.code == 4  # spend over the budget, as without alerts
    [got] = receiver.received
    assert got.path == "/hook" and signed_by(got, SIGNING)
    assert not signed_by(got, SIGNING + "x")  # the check above is a real one
    body = got.json()
    assert body["kind"] == "budget" and body["key"].endswith(":2026-11-01:100")
    assert body["sentence"].startswith("All integrations is over its monthly budget: $115.00 of $100")
    assert body["figure"] == "$115.00 of $100 (115%)"
    second = run_cli(capsys, monkeypatch, "check")
    assert second.code == 4 and len(receiver.received) == 1  # once per channel and event
    listed = run_cli(capsys, monkeypatch, "alert", "list", "--format", "json")
    [row] = json.loads(listed.out)
    assert row["label"] == "Ops" and row["last_ok"] is True and row["last_delivery"] == "2026-11-24T10:30:00Z"
    assert row["target"] == receiver.url + "/hook (signed)"
    assert "accepted it (HTTP 200)" in row["last_outcome"]
    no_secret_in(added.out, added.err, first.out, first.err, listed.out, all_bytes_under(grafient_home))
    no_secret_in(stored_rows(store[0]))


def test_slack_and_teams_get_their_payload_shapes_with_outside_text_escaped(
    store, receiver, capsys, monkeypatch, grafient_home
) -> None:
    over_budget(store, capsys, monkeypatch, label="Eng")
    assert run_cli(capsys, monkeypatch, "budget", "set", "Eng", "50").code == 0
    db, _ = store
    with db.session(write=True) as session:  # a label as another tool might have stored it
        from sqlalchemy import text

        session.execute(text("UPDATE integration SET label = '<!here> & *Eng* [x](https://evil.test)'"))
    outputs = []
    for kind, path in (("slack", SLACK_PATH), ("teams", TEAMS_PATH)):
        done = run_cli(capsys, monkeypatch, "alert", "add", kind, "--label", kind.title(), stdin=receiver.url + path)
        assert done.code == 0, done.err
        outputs += [done.out, done.err]
    checked = run_cli(capsys, monkeypatch, "check")
    assert checked.code == 4
    slack = [r.json() for r in receiver.received if r.path == SLACK_PATH]
    teams = [r.json() for r in receiver.received if r.path == TEAMS_PATH]
    assert len(slack) == len(teams) == 2  # the budget on all, and the one on Eng
    for payload in slack:
        assert set(payload) == {"text", "blocks"} and payload["blocks"][0]["type"] == "section"
        assert payload["blocks"][0]["text"]["type"] == "mrkdwn"
    eng = next(p for p in slack if "&lt;!here&gt;" in p["text"])
    assert "<!here>" not in json.dumps(eng) and "&amp; *Eng*" in eng["text"]
    for payload in teams:
        assert payload["type"] == "message"
        [attachment] = payload["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = attachment["content"]
        assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
        assert all(block["type"] == "TextBlock" for block in card["body"])
    card_text = " ".join(b["text"] for p in teams for b in p["attachments"][0]["content"]["body"])
    assert r"\[x\]\(https://evil.test\)" in card_text and r"\*Eng\*" in card_text
    no_secret_in(*outputs, checked.out, checked.err, all_bytes_under(grafient_home))
    no_secret_in(stored_rows(db))


def test_email_through_a_real_smtp_server_with_a_login(store, capsys, monkeypatch, grafient_home) -> None:
    smtp = SmtpReceiver(user="alerts", password=PASSWORD).start()
    try:
        over_budget(store, capsys, monkeypatch)
        added = run_cli(
            capsys,
            monkeypatch,
            "alert",
            "add",
            "email",
            "--label",
            "Mail",
            "--to",
            "fin@acme.test,ops@acme.test",
            "--smtp",
            smtp.address,
            "--from",
            "grafient@acme.test",
            "--user",
            "alerts",
            "--security",
            "none",
            stdin=PASSWORD + "\n",
        )
        assert added.code == 0, added.err
        tested = run_cli(capsys, monkeypatch, "alert", "test", "Mail")
        assert tested.code == 0, tested.err
        checked = run_cli(capsys, monkeypatch, "check")
        assert checked.code == 4
        assert smtp.logins == ["alerts", "alerts"]
        [(_, test_to, test_message), (sender, to, message)] = smtp.messages
        assert sender == "grafient@acme.test" and to == test_to == ["fin@acme.test", "ops@acme.test"]
        assert b"This is a test alert" in test_message
        assert b"Subject: Grafient alert: All integrations is over its monthly budget" in message
        assert b"Figure: $115.00 of $100 (115%)" in message
        no_secret_in(added.out, added.err, tested.out, checked.err, all_bytes_under(grafient_home))
    finally:
        smtp.stop()


def test_a_wrong_smtp_password_is_one_sentence_and_exit_2(capsys, monkeypatch) -> None:
    smtp = SmtpReceiver(user="alerts", password=PASSWORD).start()
    try:
        added = run_cli(
            capsys,
            monkeypatch,
            "alert",
            "add",
            "email",
            "--label",
            "Mail",
            "--to",
            "a@acme.test",
            "--smtp",
            smtp.address,
            "--user",
            "alerts",
            "--security",
            "none",
            stdin="not-" + PASSWORD,
        )
        assert added.code == 0
        tested = run_cli(capsys, monkeypatch, "alert", "test", "Mail")
        assert tested.code == 2 and smtp.messages == []
        assert tested.err.startswith(f"grafient: the test alert to 'Mail' failed: the SMTP server {smtp.address}")
        assert "refused the user name and password" in tested.err and tested.err.count("\n") == 1
        no_secret_in(tested.out, tested.err)
    finally:
        smtp.stop()


def test_cr_lf_in_outside_text_cannot_add_an_email_header(capsys, monkeypatch) -> None:
    from grafient_tui.alerts.send import email
    from grafient_tui.figures import AlertEvent

    smtp = SmtpReceiver().start()
    try:
        event = AlertEvent(
            key="k",
            kind="anomaly",
            sentence="spike\r\nBcc: victim@evil.test\r\n\r\nbody",
            integration="Eng\nX-Evil: 1",
            details=("gpt-5\r\nBcc: other@evil.test",),
        )
        settings = {"to": "fin@acme.test", "smtp": smtp.address, "from": "g@acme.test", "security": "none"}
        outcome = email(settings, None, event, sleep=lambda _s: None)
        assert outcome.ok, outcome.sentence
        [(_, to, message)] = smtp.messages
        headers = message.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in message else message.split(b"\n\n", 1)[0]
        assert to == ["fin@acme.test"]
        assert not any(line.startswith((b"Bcc", b"X-Evil")) for line in headers.splitlines())
        assert b"Subject: Grafient alert: spike Bcc: victim@evil.test body" in headers
    finally:
        smtp.stop()


@pytest.mark.parametrize("fault", ["500", "refused"])
def test_a_failing_channel_is_recorded_and_the_exit_code_is_the_check_s(
    store, receiver, capsys, monkeypatch, fault: str
) -> None:
    db, vault = store
    add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW - timedelta(days=3))
    receiver.status = 500
    url = receiver.url + "/hook" if fault == "500" else f"http://127.0.0.1:{free_port()}/hook"
    assert (
        run_cli(capsys, monkeypatch, "alert", "add", "webhook", "--label", "Ops", "--url", url, stdin=SIGNING).code == 0
    )
    checked = run_cli(capsys, monkeypatch, "check")
    assert checked.code == 0  # no budget: fine, whatever the channel did
    said = "127.0.0.1 answered HTTP 500" if fault == "500" else "could not connect to 127.0.0.1"
    assert checked.err == f"grafient: warning: alert channel 'Ops' failed: {said} (after 3 attempts).\n"
    if fault == "500":
        assert len(receiver.received) == 3  # the time limit's retries (GRAFIENT_BACKOFF_BASE=0: no waiting)
        assert receiver.received[0].json()["kind"] == "stale"
    listed = run_cli(capsys, monkeypatch, "alert", "list")
    assert f"failed: {said} (after 3 attempts)" in listed.out
    [(_, key, state, attempts)] = stored.delivery_states(db)
    assert key.startswith("stale:") and state == "failed" and attempts == 3
    service = GrafientService(Settings.from_env())
    assert service.alert_problem() == f"Alert channel Ops failed: {said} (after 3 attempts)."
    service.close()


def test_a_channel_that_never_answers_times_out_within_its_limit(store, monkeypatch) -> None:
    db, vault = store
    add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW - timedelta(days=3))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does), never answers
    try:
        service = GrafientService(Settings.from_env())
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        service.add_alert_channel("webhook", "Ops", secret=Secret(SIGNING), url=url, now=NOW)
        pauses: list[float] = []
        [done] = service.deliver_alerts(NOW, senders=Senders(sleep=pauses.append, timeout=0.2, backoff=2.0))
        assert not done.ok and done.attempts == 3
        assert done.outcome == "127.0.0.1 did not answer within 0.2 s (after 3 attempts)"
        assert pauses == [2.0, 4.0]  # the backoff doubles
        service.close()
    finally:
        silent.close()


def test_bad_channels_are_one_sentence_and_nothing_is_stored(receiver, capsys, monkeypatch) -> None:
    cases = [
        (("add", "slack", "--label", "S"), "http://hooks.slack.com/x", "must use https"),
        (("add", "teams", "--label", "T"), "https://acme.webhook.office.com/webhookb2/x", "Office 365 connector"),
        (("add", "webhook", "--label", "W", "--url", "ftp://x"), SIGNING, "must be an https:// URL"),
        (("add", "webhook", "--label", "W", "--url", receiver.url), "", "no signing secret given"),
        (
            ("add", "email", "--label", "E", "--to", "a@b.test", "--smtp", "mail.acme.test:25", "--security", "none"),
            "",
            "allowed only to a server on this machine",
        ),
        (
            ("add", "email", "--label", "E", "--to", "a@b.test\r\nBcc: x@y.test", "--smtp", "127.0.0.1:25"),
            "",
            "is not an email address",
        ),
        (("remove", "nope"), "", "there is no alert channel labelled 'nope'"),
    ]
    for args, stdin, said in cases:
        done = run_cli(capsys, monkeypatch, "alert", *args, stdin=stdin)
        assert done.code == 2 and said in done.err and done.err.count("\n") == 1, (args, done.err)
        assert SIGNING not in done.err
    assert run_cli(capsys, monkeypatch, "alert", "list", "--format", "json").out.strip() == "[]"


def test_a_claim_is_once_until_its_lease_ends_and_a_failure_is_tried_again(store) -> None:
    db, vault = store
    service = GrafientService(Settings.from_env(), db=db, vault=vault)
    info = service.add_alert_channel("webhook", "Ops", secret=Secret(SIGNING), url="https://example.test/h", now=NOW)
    assert stored.claim(db, info.id, "e1", NOW)
    assert not stored.claim(db, info.id, "e1", NOW)  # held
    assert not stored.claim(db, info.id, "e1", NOW + stored.LEASE - timedelta(seconds=1))
    assert stored.claim(db, info.id, "e1", NOW + stored.LEASE + timedelta(seconds=1))  # its sender died
    stored.finish(db, info.id, "e1", ok=True, attempts=1, outcome="accepted", now=NOW)
    assert not stored.claim(db, info.id, "e1", NOW + timedelta(days=1))  # sent: never again
    assert stored.claim(db, info.id, "e2", NOW)
    stored.finish(db, info.id, "e2", ok=False, attempts=3, outcome="HTTP 500", now=NOW)
    assert stored.claim(db, info.id, "e2", NOW)  # a later run tries a failed one again
    stored.finish(db, info.id, "e2", ok=False, attempts=6, outcome="HTTP 500", now=NOW)
    assert not stored.claim(db, info.id, "e2", NOW)  # until MAX_ATTEMPTS
    assert stored.delivery_states(db) == [(info.id, "e1", "sent", 1), (info.id, "e2", "failed", 9)]
    service.remove_alert_channel("Ops")
    assert stored.delivery_states(db) == [] and service.alert_channels() == []


def _child(home_env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "grafient_tui", "check"],
        env=home_env,
        stdin=subprocess.DEVNULL,
        stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
    )


def test_two_processes_racing_deliver_each_event_once(store, receiver, capsys, monkeypatch, tmp_path) -> None:
    """Two `grafient check` at once: the first to claim sends, and is held mid-send until the other has
    ended; had the other claimed too, its POST would arrive while the first is held."""
    over_budget(store, capsys, monkeypatch)
    assert (
        run_cli(
            capsys, monkeypatch, "alert", "add", "webhook", "--label", "Ops", "--url", receiver.url, stdin=SIGNING
        ).code
        == 0
    )
    receiver.hold = True
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first, second = _child(env, tmp_path / "a"), _child(env, tmp_path / "b")
    try:
        receiver.wait_for(1)
        wait_until(
            lambda: len(receiver.received) > 1 or first.poll() is not None or second.poll() is not None,
            "one process ending without sending",
        )
        assert len(receiver.received) == 1
        receiver.release.set()
        assert first.wait(PATIENCE) == 4 and second.wait(PATIENCE) == 4
    finally:
        receiver.release.set()
        for child in (first, second):
            if child.poll() is None:
                child.kill()
    assert len(receiver.received) == 1 and signed_by(receiver.received[0], SIGNING)
    db, _ = store
    [(_, key, state, attempts)] = stored.delivery_states(db)
    assert key.endswith(":100") and state == "sent" and attempts == 1


@pytest.mark.postgres
def test_a_viewer_never_sends_nor_adds(store, receiver, capsys, monkeypatch) -> None:
    """On a shared database, a machine without the team's master key views only: it sends nothing."""
    from grafient_tui.store.vault import new_master_key_b64

    over_budget(store, capsys, monkeypatch)  # the team's master key is this machine's
    assert (
        run_cli(
            capsys, monkeypatch, "alert", "add", "webhook", "--label", "Ops", "--url", receiver.url, stdin=SIGNING
        ).code
        == 0
    )
    monkeypatch.setenv("GRAFIENT_MASTER_KEY", new_master_key_b64())
    viewer = GrafientService(Settings.from_env())
    assert not viewer.access().can_change
    assert viewer.deliver_alerts(NOW) == []
    checked = run_cli(capsys, monkeypatch, "check")
    assert checked.code == 4 and receiver.received == []
    refused = run_cli(
        capsys, monkeypatch, "alert", "add", "webhook", "--label", "Two", "--url", receiver.url, stdin=SIGNING
    )
    assert refused.code == 2 and ("viewer" in refused.err or "views only" in refused.err)
    assert run_cli(capsys, monkeypatch, "alert", "test", "Ops").code == 2 and receiver.received == []
    viewer.close()


def test_a_rejected_key_is_an_event_until_a_good_sync(store) -> None:
    """The last run is the newest row, whatever its start says (a pinned clock gave the later run an
    earlier start, on PostgreSQL)."""
    from sqlalchemy import text

    db, vault = store
    iid = int(add_integration(db, vault, label="Eng", provider="cursor", api_key=Secret(GOOD_KEY), now=NOW).id)
    good = NOW - timedelta(hours=1)
    runs = [
        (good - timedelta(seconds=2), good, "success", None, None),
        (good - timedelta(seconds=3), good + timedelta(seconds=1), "failed", "Cursor rejected the key.", "KeyRejected"),
    ]
    with db.session(write=True) as session:
        for started, finished, outcome, error, kind in runs:
            session.execute(
                text(
                    "INSERT INTO syncrun (integration_id, trigger, started_at, finished_at, outcome, requests, "
                    "rate_limited, retries, days_written, error, error_kind) VALUES (:iid, 'daily', :started, "
                    ":finished, :outcome, 1, 0, 0, 0, :error, :kind)"
                ),
                {
                    "iid": iid,
                    "started": started,
                    "finished": finished,
                    "outcome": outcome,
                    "error": error,
                    "kind": kind,
                },
            )
    service = GrafientService(Settings.from_env(), db=db, vault=vault)
    [event] = service.alert_events(NOW)
    assert event.kind == "key_rejected" and event.key == f"key-rejected:{iid}:{int(good.timestamp())}"
    assert event.sentence == "Cursor rejected the API key of Eng: its syncs fail until it is replaced (grafient rekey)."
    assert event.provider == "Cursor" and event.integration == "Eng"
    later = NOW + timedelta(days=3)
    assert {e.kind for e in service.alert_events(later)} == {"key_rejected", "stale"}


def test_check_with_no_channels_reads_no_more_than_before(capsys, monkeypatch, grafient_home) -> None:
    done = run_cli(capsys, monkeypatch, "check")
    assert done.code == 0 and done.err == ""


def test_sync_tells_the_channels_after_its_work_and_keeps_its_exit_code(receiver, capsys, monkeypatch) -> None:
    import respx

    from grafient_tui.providers.cursor.fake import make_events
    from tests.fakes import CountingCursorTeam

    events = make_events(
        seed=4, start=TODAY - timedelta(days=30), days=31, per_day=4, members=["a@x.io"], models=["gpt-5"]
    )
    cutoff = NOW.timestamp() * 1000
    team = CountingCursorTeam(api_key=GOOD_KEY, events=[e for e in events if int(e["timestamp"]) <= cutoff])
    receiver.status = 500
    with respx.mock(base_url="https://api.cursor.com", assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()  # the receiver is a real server
        router.route().mock(side_effect=team.handler)
        assert (
            run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=GOOD_KEY).code == 0
        )
        added = run_cli(
            capsys, monkeypatch, "alert", "add", "webhook", "--label", "Ops", "--url", receiver.url, stdin=SIGNING
        )
        assert added.code == 0
        synced = run_cli(capsys, monkeypatch, "sync")
        assert synced.code == 0 and synced.err == "" and receiver.received == []  # nothing to tell
        team.api_key = "crsr_" + "9f8e7d6c" * 8  # the key is revoked
        failed = run_cli(capsys, monkeypatch, "sync", "--force")
        assert failed.code == 1 and "the key was rejected" in failed.out  # the sync's own exit code
        assert failed.err == (
            "grafient: warning: alert channel 'Ops' failed: 127.0.0.1 answered HTTP 500 (after 3 attempts).\n"
        )
        receiver.status = 200
        again = run_cli(capsys, monkeypatch, "sync", "--force")
        assert again.code == 1 and again.err == ""
        assert len(receiver.received) == 4 and signed_by(receiver.received[-1], SIGNING)
        body = receiver.received[-1].json()
        assert body["kind"] == "key_rejected" and body["integration"] == "Eng" and body["provider"] == "Cursor"
        assert run_cli(capsys, monkeypatch, "sync", "--force").code == 1 and len(receiver.received) == 4
        no_secret_in(added.out, synced.out, failed.out, failed.err, again.out)


def test_an_anomaly_reaches_a_channel_once_with_its_drivers(store, receiver, capsys, monkeypatch) -> None:
    """Six weeks at $10 a day, then $130 two days ago, from one workspace's Opus run: `check` tells the
    webhook of the anomaly (its day, figure and drivers) once, whatever runs after it."""
    from grafient_tui.store.sums import MemberSums

    db, vault = store
    iid = int(add_integration(db, vault, label="Labs", provider="anthropic", api_key=Secret(GOOD_KEY), now=NOW).id)
    spike = TODAY - timedelta(days=2)
    for offset in range(1, 50):
        day = TODAY - timedelta(days=offset)
        totals = WindowSums()
        cost = 130 * DOLLAR if day == spike else 10 * DOLLAR
        totals.days[day] = day_sums(cost, on_demand=None, requests=None)
        totals.models[(day, "claude-sonnet-4-5")] = model_sums(10 * DOLLAR, requests=0)
        totals.members[(day, "Default")] = MemberSums(cost_micro=10 * DOLLAR)
        if day == spike:
            totals.models[(day, "claude-opus-4-1")] = model_sums(120 * DOLLAR, requests=0)
            totals.members[(day, "Research\r\nBcc: x@evil.example")] = MemberSums(cost_micro=120 * DOLLAR)
        write_window(db, iid, day, day, totals, NOW)
    added = run_cli(
        capsys, monkeypatch, "alert", "add", "webhook", "--label", "Ops", "--url", receiver.url, stdin=SIGNING + "\n"
    )
    assert added.code == 0, added.err
    assert run_cli(capsys, monkeypatch, "check").code == 0
    assert run_cli(capsys, monkeypatch, "check").code == 0
    anomalies = [r.json() for r in receiver.received if r.json()["kind"] == "anomaly"]
    [event] = anomalies  # once, though two checks found it
    assert event["key"] == f"anomaly:{iid}:{spike.isoformat()}"
    assert event["sentence"].startswith(
        f"Labs was billed $130.00 on {spike.isoformat()} (UTC), far above its usual $10.00"
    )
    assert event["integration"] == "Labs" and event["provider"] == "Anthropic"
    details = "\n".join(event["details"])
    assert "model claude-opus-4-1: +$120.00" in details and "+$120.00" in details
    assert "\r" not in details and "\n" not in "".join(event["details"])  # an outside name stays on its line
