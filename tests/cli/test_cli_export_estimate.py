"""`grafient add/list/report` for Google (the billing export) and ElevenLabs (an estimate), end to end in
process: the providers' fakes answer at their documented addresses through respx; the real clients,
engine and store run. Keys arrive on stdin (Google's as the JSON key file)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import respx

from grafient_tui.providers.elevenlabs.fake import FakeElevenLabsWorkspace, make_usage
from grafient_tui.providers.google.auth import NOT_A_KEY
from grafient_tui.providers.google.fake import FakeBillingExport, export_row, make_rows, service_account_key
from tests.helpers import all_bytes_under, run_cli

NOW = "2026-03-12T10:30:00+00:00"
TODAY = date(2026, 3, 12)
KEY = service_account_key(seed=31)
PRIVATE_BODY = "".join(json.loads(KEY)["private_key"].splitlines()[1:-1])
TABLE = "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"
VOICE_KEY = "sk_" + "5b8e2d9f" * 6
PROJECTS = [("chat-prod", "Chat Prod"), ("search-ai-7f3", "Search AI")]


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW)


def billing(**kwargs: Any) -> FakeBillingExport:
    options: dict[str, Any] = {
        "keys": [KEY],
        "table": TABLE,
        "rows": make_rows(seed=3, start=TODAY - timedelta(days=40), days=41, projects=PROJECTS),
    }
    options.update(kwargs)
    return FakeBillingExport(**options)


def serve_google(router: respx.MockRouter, fake: FakeBillingExport) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return fake.handler(request)

    router.route(host="oauth2.googleapis.com").mock(side_effect=handle)
    router.route(host="bigquery.googleapis.com").mock(side_effect=handle)
    return seen


def add_google(capsys, monkeypatch, *extra: str, key: str = KEY):  # type: ignore[no-untyped-def]
    return run_cli(capsys, monkeypatch, "add", "google", "--label", "Gemini", "--table", TABLE, *extra, stdin=key)


def test_google_is_added_from_a_json_key_on_stdin_and_reported_with_bill_and_credits(
    capsys, monkeypatch, grafient_home
) -> None:
    with respx.mock(assert_all_called=False) as router:
        seen = serve_google(router, billing())
        added = add_google(capsys, monkeypatch)
    assert added.code == 0, added.err
    assert "added integration 1 'Gemini' (google --table " + TABLE in added.out
    assert f"key id …{json.loads(KEY)['private_key_id'][-4:]}" in added.out
    assert sum(1 for r in seen if r.method == "POST" and r.url.path.endswith("/queries")) == 2  # check + backfill

    [row] = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert row["provider"] == "google" and row["status"] == "ok" and row["account"] == {"table": TABLE}
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "7", "--format", "json").out)
    [entry] = report["integrations"]
    assert entry["cost_basis"] == "billed" and entry["cost_note"] is None and "estimate" not in entry
    assert entry["actor"] == "project"
    finished = [d for d in entry["days"] if d["complete"]]
    assert finished and all(d["requests"] is None for d in finished)  # unknown, never 0
    # the bill (on-demand) and the credits (included) add up to the usage value before credits
    assert all(abs(d["on_demand_usd"] + d["included_usd"] - d["cost_usd"]) < 1e-9 for d in finished)
    assert any(d["included_usd"] > 0 for d in finished)
    members = json.loads(run_cli(capsys, monkeypatch, "report", "--by", "member", "--format", "json").out)
    assert {m["actor"] for m in members["integrations"][0]["members"]} <= {"Chat Prod", "Search AI", "No project"}

    everything = all_bytes_under(grafient_home)
    assert PRIVATE_BODY[:60].encode() not in everything and KEY.encode() not in everything


@pytest.mark.parametrize(
    "stdin",
    [
        "AIzaSyD-" + "x" * 31 + "\n",
        json.dumps({"type": "authorized_user", "client_id": "1", "refresh_token": "r"}),
        "{ not json",
        "",
    ],
)
def test_what_is_not_a_service_account_key_exits_2_before_any_call_with_nothing_stored(
    capsys, monkeypatch, grafient_home, stdin: str
) -> None:
    with respx.mock(assert_all_called=False) as router:
        seen = serve_google(router, billing())
        added = add_google(capsys, monkeypatch, key=stdin)
    assert added.code == 2 and not seen
    assert (NOT_A_KEY in added.err) or ("no key given" in added.err)
    assert len(added.err.strip().splitlines()) == 1 and "AIza" not in added.err
    assert json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out) == []


@pytest.mark.parametrize(
    ("fake_options", "extra", "words"),
    [
        ({"standard": True}, (), "standard export"),
        ({"table": TABLE + "_other"}, (), "does not know the table"),
        ({"data_viewer": False}, (), "BigQuery Data Viewer"),
        ({"job_user": set()}, (), "BigQuery Job User on project grafient-reader"),
        ({"job_user": {"grafient-reader"}}, ("--query-project", "billing-admin"), "Job User on project billing-admin"),
        ({"keys": [service_account_key(seed=32)]}, (), "deleted or rotated"),
    ],
)
def test_each_refusal_exits_2_with_one_sentence_and_nothing_stored(
    capsys, monkeypatch, grafient_home, fake_options: dict[str, Any], extra: tuple[str, ...], words: str
) -> None:
    with respx.mock(assert_all_called=False) as router:
        serve_google(router, billing(**fake_options))
        added = add_google(capsys, monkeypatch, *extra)
    assert added.code == 2, added.err
    assert words in added.err and len(added.err.strip().splitlines()) == 1
    assert PRIVATE_BODY[:40] not in added.err + added.out
    assert json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out) == []


def test_google_needs_its_table_and_refuses_one_that_is_not_a_table(capsys, monkeypatch, grafient_home) -> None:
    missing = run_cli(capsys, monkeypatch, "add", "google", "--label", "Gemini", stdin=KEY)
    assert missing.code == 2 and "--table PROJECT.DATASET.TABLE" in missing.err
    odd = run_cli(capsys, monkeypatch, "add", "google", "--label", "G", "--table", "x`; DROP", stdin=KEY)
    assert odd.code == 2 and "--table is PROJECT.DATASET.TABLE" in odd.err


def test_the_same_table_twice_is_refused_as_already_connected(capsys, monkeypatch, grafient_home) -> None:
    other = service_account_key(seed=33, name="second-reader")
    with respx.mock(assert_all_called=False) as router:
        serve_google(router, billing(keys=[KEY, other]))
        assert add_google(capsys, monkeypatch, "--no-backfill").code == 0
        again = run_cli(
            capsys, monkeypatch, "add", "google", "--label", "Again", "--table", TABLE, "--no-backfill", stdin=other
        )
    assert again.code == 2 and "Gemini" in again.err
    assert len(json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)) == 1


def test_two_tables_of_one_billing_account_are_one_account(capsys, monkeypatch, grafient_home) -> None:
    """The billing account in the table's name is the account: its export moved to another dataset is
    refused as already connected (it would count every day twice); another billing account is added."""
    moved = TABLE.replace(".billing_export.", ".billing_export_eu.")
    another = TABLE.replace("0A1B2C_3D4E5F_6A7B8C", "0F0F0F_1E1E1E_2D2D2D")
    second, third = service_account_key(seed=34, name="eu-reader"), service_account_key(seed=35, name="other-reader")
    with respx.mock(assert_all_called=False) as router:
        serve_google(router, billing())
        assert add_google(capsys, monkeypatch, "--no-backfill").code == 0
    with respx.mock(assert_all_called=False) as router:
        serve_google(router, billing(keys=[second], table=moved))
        again = run_cli(
            capsys, monkeypatch, "add", "google", "--label", "EU", "--table", moved, "--no-backfill", stdin=second
        )
    assert again.code == 2 and "already connected as integration 1 ('Gemini')" in again.err, again.err
    with respx.mock(assert_all_called=False) as router:
        serve_google(router, billing(keys=[third], table=another))
        other = run_cli(
            capsys, monkeypatch, "add", "google", "--label", "Other", "--table", another, "--no-backfill", stdin=third
        )
    assert other.code == 0, other.err
    listed = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert [row["label"] for row in listed] == ["Gemini", "Other"]


def test_a_non_usd_account_says_it_was_converted_in_the_report(capsys, monkeypatch, grafient_home) -> None:
    rows = [
        export_row(
            TODAY - timedelta(days=1),
            "Gemini API",
            "Grounding with Google Search",
            PROJECTS[0],
            4.6,
            currency="EUR",
            rate=0.92,
        )
    ]
    with respx.mock(assert_all_called=False) as router:
        serve_google(router, billing(rows=rows))
        assert add_google(capsys, monkeypatch).code == 0
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "3", "--format", "json").out)
    [entry] = report["integrations"]
    assert entry["cost_note"] == "converted from EUR at Google's daily rate" and entry["cost_basis"] == "billed"
    assert entry["summary"]["total_usd"] == 5.0
    table = run_cli(capsys, monkeypatch, "report", "--days", "3").out
    assert "converted from EUR at Google's daily rate" in table


# ------------------------------------------------------------------ ElevenLabs


def voice(**kwargs: Any) -> FakeElevenLabsWorkspace:
    options: dict[str, Any] = {
        "api_key": VOICE_KEY,
        "usage": make_usage(seed=5, start=TODAY - timedelta(days=40), days=41),
    }
    options.update(kwargs)
    return FakeElevenLabsWorkspace(**options)


def add_voice(capsys, monkeypatch, fake: FakeElevenLabsWorkspace, *, label: str = "Voice", key: str = VOICE_KEY):  # type: ignore[no-untyped-def]
    """`grafient add elevenlabs … --allow-unidentified`: its API names no workspace, so every add says so."""
    with respx.mock(base_url="https://api.elevenlabs.io", assert_all_called=False) as router:
        router.route().mock(side_effect=fake.handler)
        return run_cli(
            capsys, monkeypatch, "add", "elevenlabs", "--label", label, "--allow-unidentified", stdin=key + "\n"
        )


UNNAMED_WORKSPACE = (
    "grafient: ElevenLabs' API names no workspace, so Grafient cannot check that this account is not connected "
    "already (an account added twice counts twice in every total); if you are sure it is not, add it with "
    "--allow-unidentified. Nothing was stored.\n"
)


def test_an_elevenlabs_key_needs_allow_unidentified_and_is_refused_before_anything_is_sent(
    capsys, monkeypatch, grafient_home
) -> None:
    """ElevenLabs never names the workspace a key belongs to: `add` says so before the key is read or
    sent (exit 2, nothing stored), and adds it with --allow-unidentified; two keys, two integrations."""
    with respx.mock(base_url="https://api.elevenlabs.io", assert_all_called=False) as router:
        api = router.route().mock(side_effect=voice().handler)
        refused = run_cli(capsys, monkeypatch, "add", "elevenlabs", "--label", "Voice", stdin=VOICE_KEY + "\n")
    assert (refused.code, refused.out, refused.err) == (2, "", UNNAMED_WORKSPACE)
    assert api.call_count == 0
    assert json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out) == []
    assert add_voice(capsys, monkeypatch, voice()).code == 0
    second = "sk_" + "7c1a4e6b" * 6  # nothing tells whether it is the same workspace: the user said it is not
    assert add_voice(capsys, monkeypatch, voice(api_key=second), label="Voice 2", key=second).code == 0
    listed = json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out)
    assert [(row["label"], row["status"]) for row in listed] == [("Voice", "ok"), ("Voice 2", "ok")]


def test_elevenlabs_is_reported_as_an_estimate_everywhere(capsys, monkeypatch, grafient_home) -> None:
    added = add_voice(capsys, monkeypatch, voice())
    assert added.code == 0, added.err
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "7", "--format", "json").out)
    [entry] = report["integrations"]
    assert entry["cost_basis"] == "estimate"
    assert entry["estimate"] == {
        "tier": "pro",
        "plan_price_usd": "99",
        "credit_quota": 500000,
        "usd_per_credit": "0.000198",
        "as_of": "2026-03-12",
    }
    assert entry["cost_note"] == "estimated from credits at the Pro plan's $99 / 500,000 credits"
    assert (
        report["summary"]["cost_basis"] == "estimate" and "includes estimates (Voice)" in report["summary"]["cost_note"]
    )
    day = next(d for d in entry["days"] if d["complete"])
    assert day["requests"] is None and day["on_demand_usd"] is None
    assert day["credits"] and day["models"][0]["credits"]  # the credits behind the estimate, exact

    table = run_cli(capsys, monkeypatch, "report", "--days", "7").out
    assert "≈ estimated from credits at the Pro plan's $99 / 500,000 credits" in table
    # an estimate is never called billed: no invoice charges it (a $22 plan's credits priced at its rate)
    assert "Estimated cost ≈$" in table and "Billed" not in table and "BILLED" not in table
    assert "ESTIMATED COST" in table and "TOTAL" in table and "≈$" in table.split("TOTAL")[1].splitlines()[0]

    rows = list(csv.DictReader(io.StringIO(run_cli(capsys, monkeypatch, "report", "--format", "csv").out)))
    assert rows and {r["cost_basis"] for r in rows} == {"estimate"}


def test_a_total_with_billed_and_estimated_integrations_says_it_includes_an_estimate(
    capsys, monkeypatch, grafient_home
) -> None:
    assert add_voice(capsys, monkeypatch, voice()).code == 0
    with respx.mock(assert_all_called=False) as router:
        serve_google(router, billing())
        assert add_google(capsys, monkeypatch).code == 0
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--format", "json").out)
    kinds = {e["label"]: e["cost_basis"] for e in report["integrations"]}
    assert kinds == {"Voice": "estimate", "Gemini": "billed"}
    assert report["summary"]["cost_basis"] == "estimate"
    table = run_cli(capsys, monkeypatch, "report").out
    all_block = table.split("All 2 integrations")[1]
    assert "Billed ≈$" in all_block and "includes estimates (Voice)" in all_block


def test_an_unpriced_plan_reports_its_cost_as_unknown_never_zero(capsys, monkeypatch, grafient_home) -> None:
    assert add_voice(capsys, monkeypatch, voice(tier="enterprise", character_limit=None)).code == 0
    report = json.loads(run_cli(capsys, monkeypatch, "report", "--days", "7", "--format", "json").out)
    [entry] = report["integrations"]
    assert entry["cost_basis"] == "estimate" and "cost unknown" in entry["cost_note"]
    assert entry["summary"]["total_usd"] is None and all(d["cost_usd"] is None for d in entry["days"])
    assert entry["summary"]["billed"] is None and entry["summary"]["usage_value"] is None  # unknown, never 0
    assert all(d["credits"] for d in entry["days"] if d["complete"])  # the credits are still there
    table = run_cli(capsys, monkeypatch, "report", "--days", "7").out
    assert "Estimated cost —" in table and "$0.00" not in table
    rows = list(csv.DictReader(io.StringIO(run_cli(capsys, monkeypatch, "report", "--format", "csv").out)))
    assert rows and all(r["cost_usd"] == "" for r in rows)


@pytest.mark.parametrize(
    ("fake_options", "words"),
    [
        ({"api_key": "sk_" + "0" * 48}, "ElevenLabs rejected this key"),
        ({"restricted": True}, "give it User (Read) and Models (Access)"),
    ],
)
def test_a_wrong_or_restricted_elevenlabs_key_exits_2_with_nothing_stored(
    capsys, monkeypatch, grafient_home, fake_options: dict[str, Any], words: str
) -> None:
    added = add_voice(capsys, monkeypatch, voice(**fake_options))
    assert added.code == 2 and words in added.err and VOICE_KEY not in added.err
    assert json.loads(run_cli(capsys, monkeypatch, "list", "--format", "json").out) == []


def test_budgets_that_count_an_estimate_say_so(capsys, monkeypatch, grafient_home) -> None:
    assert add_voice(capsys, monkeypatch, voice()).code == 0
    with respx.mock(assert_all_called=False) as router:
        serve_google(router, billing())
        assert add_google(capsys, monkeypatch).code == 0
    for target in ("Voice", "Gemini", "all"):
        assert run_cli(capsys, monkeypatch, "budget", "set", target, "100000").code == 0
    checked = run_cli(capsys, monkeypatch, "check", "--format", "json")
    by_target = {s["target"]: s for s in json.loads(checked.out)}
    assert by_target["Voice"]["cost_basis"] == "estimate" and "includes estimates (Voice)" in by_target["Voice"]["note"]
    assert by_target["all"]["cost_basis"] == "estimate" and "includes estimates (Voice)" in by_target["all"]["note"]
    assert by_target["Gemini"]["cost_basis"] == "billed" and by_target["Gemini"]["note"] is None
    lines = run_cli(capsys, monkeypatch, "check").out.splitlines()
    voice_line = next(line for line in lines if "Voice" in line and "monthly" in line)
    assert ": ≈$" in voice_line and "≈" in voice_line.split("spent, ")[1]
    gemini_line = next(line for line in lines if "Gemini" in line)
    assert "≈" not in gemini_line


def test_a_terminal_is_told_to_pipe_the_key_file_never_prompted(capsys, monkeypatch, grafient_home) -> None:
    from grafient_tui.cli import main

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal(KEY))
    monkeypatch.setattr("getpass.getpass", lambda *a, **k: pytest.fail("a key file is never asked for at a prompt"))
    code = main(["add", "google", "--label", "Gemini", "--table", TABLE])
    err = capsys.readouterr().err
    assert code == 2 and "reads its key from a file on standard input" in err and "< key.json" in err
