"""Bad input, generated: the command line and the usage events (hypothesis, derandomized).

Command line: every case runs `grafient ...` in-process on a fresh copy of a home holding two
synced integrations. Invalid input must give exit 2, exactly one line on stderr starting
"grafient: ", nothing on stdout, no traceback, and leave every stored row and file as it was.
Valid input (a good unicode label, an existing id) must give exit 0.

Usage events: `parse_event` must return an event whose cost and day match tests/oracle.py, or
raise EventFormatError, for any JSON a server could send. Through the sync engine (the page
served at the transport with httpx.MockTransport), a sync either stores every served day
exactly, or fails with one sentence and stores nothing.

The default suite runs ~200 examples in all; the `slow` variants run many more.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from grafient_tui.config import Settings
from grafient_tui.providers.cursor import (
    EventFormatError,
    UsageEvent,
    event_cost_micro,
    parse_event,
)
from grafient_tui.providers.cursor.fake import FakeCursorTeam, make_events
from grafient_tui.secret import Secret, looks_like_key
from grafient_tui.spans import EARLIEST
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import add_integration, label_key, remove_integration
from grafient_tui.store.vault import Vault
from grafient_tui.sync.engine import run_sync
from grafient_tui.untrusted import quoted, visible
from tests.conftest import GOOD_KEY
from tests.helpers import OTHER_KEY, route_by_key, run_cli
from tests.oracle import (
    all_rows,
    event_cents,
    event_day,
    expected_snapshot,
    micro,
    restrict,
    store_snapshot,
    utc_ms,
)

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
NOW_TEXT = "2026-11-24T10:30:00Z"
TODAY = NOW.date()
LABELS = ("Eng", "Ops")  # ids 1 and 2 in the pristine home
NEW_KEY = "key_" + "0f1e2d3c" * 8  # a third team's key: the one `add` examples connect
NEW_MEMBERS = [{"name": "Noor", "email": "noor@z.io", "role": "owner"}]
INT64 = 2**63 - 1


def _note(text: str, label: str | None = None) -> None:
    """Shown with a failing example (and `label` counted in --hypothesis-show-statistics);
    a no-op in the pinned, non-hypothesis tests."""
    try:
        note(text)
        if label:
            event(label)
    except InvalidArgument:
        pass


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ================================================================== the command line


@pytest.fixture
def pristine(capsys, monkeypatch, grafient_home: Path) -> Path:
    """A home with two integrations and a synced month, checkpointed so it can be copied."""
    monkeypatch.setenv("GRAFIENT_NOW", NOW_TEXT)
    events = [
        e
        for e in make_events(
            seed=6, start=TODAY - timedelta(days=30), days=31, per_day=4, members=["a@x.io"], models=["gpt-5"]
        )
        if int(e["timestamp"]) <= utc_ms(NOW)
    ]
    teams = [
        FakeCursorTeam(api_key=key, events=events, members=[{"email": f"{label}@x.io", "role": "owner"}])
        for key, label in zip((GOOD_KEY, OTHER_KEY), LABELS, strict=True)
    ]
    with respx.mock(base_url="https://api.cursor.com") as api:
        api.route().mock(side_effect=route_by_key(*teams))
        for team, label in zip(teams, LABELS, strict=True):
            assert run_cli(capsys, monkeypatch, "add", "cursor", "--label", label, stdin=team.api_key).code == 0
    con = sqlite3.connect(grafient_home / "grafient.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return grafient_home


class Workspace:
    """A fresh copy of the pristine home per example; `state()` is everything stored."""

    def __init__(self, pristine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pristine = pristine
        self.monkeypatch = monkeypatch
        self.counter = itertools.count()
        self.home = pristine

    def fresh(self) -> Path:
        self.home = self.pristine.parent / f"example-{next(self.counter)}"
        shutil.copytree(self.pristine, self.home, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
        self.monkeypatch.setenv("GRAFIENT_HOME", str(self.home))
        return self.home

    def state(self) -> dict:
        files = {
            p.name: p.read_bytes() for p in self.home.iterdir() if p.is_file() and not p.name.startswith("grafient.db")
        }
        return {"rows": all_rows(self.home / "grafient.db"), "files": files}

    def discard(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture
def workspace(pristine: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return Workspace(pristine, monkeypatch)


def resolves(ref: str) -> bool:
    """Does `ref` name one of the pristine integrations? Ids are ASCII digits; labels match
    exactly, or ignoring ASCII case (SQLite's lower())."""
    text = ref.strip()
    if text.isascii() and text.isdigit():
        return int(text) in (1, 2)
    return any(text == label or label_key(text) == label_key(label) for label in LABELS)


def valid_label(raw: str) -> str | None:
    """The label as stored, or None when it must be refused: whitespace runs become one space;
    not empty, no key, at most 64 characters, printable and visible, no square brackets (markup),
    not only digits, not taken (store/labels.clean_label)."""
    label = " ".join(raw.split())
    if (
        not label
        or looks_like_key(label)
        or len(label) > 64
        or not label.isprintable()
        or visible(label) != label
        or "[" in label
        or "]" in label
        or label.isdigit()
        or any(label_key(label) == label_key(taken) for taken in LABELS)
    ):
        return None
    return label


def check(
    workspace: Workspace,
    capsys,
    monkeypatch,
    argv: list[str],
    *,
    stdin: str = "",
    expect: int | None,
) -> tuple[int, str, str]:
    """Run argv on a fresh home; an error must be one line and change nothing. Returns (code, out, err)."""
    _note(f"argv={argv!r} stdin={stdin!r}")
    workspace.fresh()
    before = workspace.state()
    try:
        with respx.mock(base_url="https://api.cursor.com", assert_all_called=False) as api:
            api.route().mock(side_effect=FakeCursorTeam(api_key=NEW_KEY, events=[], members=NEW_MEMBERS).handler)
            result = run_cli(capsys, monkeypatch, *argv, stdin=stdin)
        _note(f"exit {result.code}", f"exit {result.code}")
        assert "Traceback" not in result.out + result.err
        assert GOOD_KEY not in result.out + result.err and NEW_KEY not in result.out + result.err
        if expect is not None:
            assert result.code == expect, result
        assert result.code in (0, 2), result
        if result.code == 2:
            assert len(result.err.splitlines()) == 1 and result.err.endswith("\n"), result.err
            assert result.err.startswith("grafient: ") and result.out == "", result
            assert "\x1b" not in result.err  # no terminal escapes echoed back
            assert workspace.state() == before
        else:
            assert result.err == "", result
        return result.code, result.out, result.err
    finally:
        workspace.discard()


# ------------------------------------------------------------------ strategies

ODD = [
    "\x00",
    "\x07",
    "\x1b[31m",
    "\n",
    "\r",
    "\t",
    "\x0b",
    "\x1c",
    "\x85",
    "\u2028",
    "\u200e",
    "\u200f",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\u3000",
    "\xa0",
    "\udc80",
    "\udcff",
    "é",
    "漢字",
    "🙂",
    "👩‍💻",
    "١٢",
    "²",
    "Ⅻ",
    "'",
    '"',
    "\\",
    "%s",
    "{}",
    "--",
    "-",
    "=",
    " ",
    "Eng",
    "ops",
    "DROP TABLE integration;",
]
odd_text = st.lists(st.one_of(st.sampled_from(ODD), st.characters(), st.text(max_size=3)), max_size=12).map("".join)
labels = st.one_of(
    odd_text,
    st.text(max_size=70),
    st.text(st.characters(categories=["L", "M", "N", "Zs"]), min_size=1, max_size=20),  # plausible unicode
    st.text(min_size=60, max_size=200),  # very long
    st.integers(min_value=0, max_value=10**30).map(str),  # digits only
    st.sampled_from(["", " ", "\t\n", "Eng", " Eng ", "Ops", "eng", "1", "٣", "Team\u200fA", "a" * 64, "a" * 65]),
)
unknown_refs = st.one_of(
    odd_text,
    st.text(max_size=40),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(["0", "3", "00", "99999999999999999999999", "²", "١", "-1", "1.0", "1e3", " 3 ", "Engineering"]),
).filter(lambda r: not resolves(r))
day_numbers = st.one_of(st.integers(min_value=-10, max_value=4000), st.integers(min_value=-(10**40), max_value=10**40))
real_dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
impossible_dates = st.one_of(
    st.tuples(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99))
    .map(lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}")
    .filter(lambda s: not _is_date(s)),
    st.sampled_from(
        [
            "2026-02-29",
            "2026-02-30",
            "2025-13-01",
            "2026-00-10",
            "2026-04-31",
            "0000-01-01",
            "2026-1-1",
            "26-01-01",
            "2026/01/01",
            "",
            " ",
            "yesterday",
            "2026-01-01T00:00",
            "１２",
        ]
    ),
    odd_text,
).filter(lambda s: not _is_date(s))


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _opt(name: str, value: str) -> str:
    return f"{name}={value}"  # the = form: a value starting with "-" is still a value


# ------------------------------------------------------------------ add: labels and keys


def _check_add_label(workspace, capsys, monkeypatch, label: str) -> None:
    stored = valid_label(label)
    code, out, _ = check(
        workspace,
        capsys,
        monkeypatch,
        ["add", "cursor", _opt("--label", label), "--no-backfill"],
        stdin=NEW_KEY + "\n",
        expect=0 if stored else 2,
    )
    if code == 0:
        assert out.startswith(f"added integration 3 {quoted(stored)} (cursor, key key_…")


@given(label=labels)
@fuzz(70)
def test_add_with_any_label_stores_it_or_refuses_with_one_sentence(workspace, capsys, monkeypatch, label) -> None:
    _check_add_label(workspace, capsys, monkeypatch, label)


@pytest.mark.slow
@given(label=labels)
@fuzz(1500)
def test_add_with_any_label_long_run(workspace, capsys, monkeypatch, label) -> None:
    _check_add_label(workspace, capsys, monkeypatch, label)


keys_on_stdin = st.one_of(
    st.sampled_from(
        [
            "",
            "\n",
            " \n",
            "\t",
            "\r\n",
            "\n" + NEW_KEY,
            NEW_KEY[:-1],
            NEW_KEY + " x",
            "key_" + "é" * 64,
            "key_" + "\x07" * 10,
            "x" * 600,
            NEW_KEY + "\r\n",
            "  " + NEW_KEY + "  ",
            GOOD_KEY,
            OTHER_KEY + "\n",
        ]
    ),
    odd_text,
    st.text(max_size=80),
)


def _expected_key_exit(stdin: str) -> int:
    key = stdin.split("\n", 1)[0].strip() if stdin else ""
    # the new team's key is added; a stored key is refused as already stored; anything else is refused
    # here or rejected by Cursor (401)
    return 0 if key == NEW_KEY else 2


def _check_add_key(workspace, capsys, monkeypatch, stdin: str) -> None:
    expect = _expected_key_exit(stdin)
    _, _, err = check(
        workspace, capsys, monkeypatch, ["add", "cursor", "--label", "New", "--no-backfill"], stdin=stdin, expect=expect
    )
    key = stdin.split("\n", 1)[0].strip()
    if not key:
        assert err.startswith("grafient: no API key given")
    if key in (GOOD_KEY, OTHER_KEY):
        assert "already stored" in err
    if key and key != NEW_KEY:
        assert key not in err or len(key) < 4  # a refused key is not echoed


@given(stdin=keys_on_stdin)
@fuzz(25)
def test_add_with_any_key_on_stdin(workspace, capsys, monkeypatch, stdin) -> None:
    _check_add_key(workspace, capsys, monkeypatch, stdin)


@pytest.mark.slow
@given(stdin=keys_on_stdin)
@fuzz(400)
def test_add_with_any_key_on_stdin_long_run(workspace, capsys, monkeypatch, stdin) -> None:
    _check_add_key(workspace, capsys, monkeypatch, stdin)


# ------------------------------------------------------------------ ids and labels that do not exist

ref_commands = st.sampled_from(
    [
        ["report"],
        ["report", "--by", "model"],
        ["sync"],
        ["sync", "--force"],
        ["remove", "--yes"],
        ["remove"],
        ["rekey"],
    ]
)


def _check_unknown_ref(workspace, capsys, monkeypatch, command: list[str], ref: str) -> None:
    argv = [*command, "--", ref]  # after "--" a ref that starts with "-" is still a ref
    _, _, err = check(workspace, capsys, monkeypatch, argv, stdin=GOOD_KEY, expect=2)
    assert err.startswith("grafient: no integration with id or label "), err


@given(command=ref_commands, ref=unknown_refs)
@fuzz(40)
def test_unknown_ids_and_labels_are_one_sentence_and_change_nothing(
    workspace,
    capsys,
    monkeypatch,
    command,
    ref,
) -> None:
    _check_unknown_ref(workspace, capsys, monkeypatch, command, ref)


@pytest.mark.slow
@given(command=ref_commands, ref=unknown_refs)
@fuzz(800)
def test_unknown_ids_and_labels_long_run(workspace, capsys, monkeypatch, command, ref) -> None:
    _check_unknown_ref(workspace, capsys, monkeypatch, command, ref)


# ------------------------------------------------------------------ report: days, dates, anything


@st.composite
def report_cases(draw) -> tuple[list[str], int | None]:
    """(argv, expected exit or None when only the invariants are checked)."""
    kind = draw(st.sampled_from(["days", "impossible", "range", "ref", "tokens"]))
    fmt = ["--format", draw(st.sampled_from(["table", "json", "csv"]))]
    if kind == "days":
        n = draw(day_numbers)
        return ["report", _opt("--days", str(n)), *fmt], 0 if 1 <= n <= 3660 else 2
    if kind == "impossible":
        option = draw(st.sampled_from(["--since", "--until"]))
        bad = draw(impossible_dates)
        extra = ["--since", "2026-11-01"] if option == "--until" else []
        return ["report", *extra, _opt(option, bad), *fmt], 2
    if kind == "range":
        since, until = draw(real_dates), draw(st.one_of(st.none(), real_dates))
        last = until or TODAY
        ok = EARLIEST <= since <= last <= TODAY and (last - since).days < 3660
        args = ["report", _opt("--since", since.isoformat())]
        if until is not None:
            args.append(_opt("--until", until.isoformat()))
        return [*args, *fmt], 0 if ok else 2
    if kind == "ref":
        ref = draw(st.one_of(unknown_refs, st.sampled_from(["1", "2", "Eng", "ops", " Eng ", "01"])))
        return ["report", "--", ref], 0 if resolves(ref) else 2
    tokens = draw(
        st.lists(
            st.one_of(
                st.sampled_from(
                    [
                        "--days",
                        "--since",
                        "--until",
                        "--by",
                        "--format",
                        "day",
                        "model",
                        "member",
                        "json",
                        "csv",
                        "7",
                        "-1",
                        "Eng",
                        "1",
                    ]
                ),
                odd_text,
            ),
            max_size=5,
        )
    )
    return ["report", *tokens], None


def _check_report(workspace, capsys, monkeypatch, case: tuple[list[str], int | None]) -> None:
    argv, expect = case
    code, out, _ = check(workspace, capsys, monkeypatch, argv, expect=expect)
    if code == 0 and "json" in argv[-1:]:
        data = json.loads(out)
        assert {i["label"] for i in data["integrations"]} <= set(LABELS)


@given(case=report_cases())
@fuzz(60)
def test_report_arguments_give_a_report_or_one_sentence(workspace, capsys, monkeypatch, case) -> None:
    _check_report(workspace, capsys, monkeypatch, case)


@pytest.mark.slow
@given(case=report_cases())
@fuzz(1500)
def test_report_arguments_long_run(workspace, capsys, monkeypatch, case) -> None:
    _check_report(workspace, capsys, monkeypatch, case)


def test_known_bad_inputs_each_get_their_sentence(workspace, capsys, monkeypatch) -> None:
    """The cases the generators found or must never lose, pinned."""
    cases = [
        (["report", "--", "²"], "no integration with id or label '²'"),
        (["report", "--", "99999999999999999999999"], "no integration with id or label '99999999999999999999999'"),
        (["remove", "--yes", "--", "\udc80"], "no integration with id or label '\\udc80'"),
        (["report", "a", "b\nc\x1b[31m"], "unrecognized arguments: b\\nc\\x1b[31m"),
        (["report", "--days=-5"], "--days must be between 1 and 3660, not -5."),
        (["report", "--days=" + "9" * 30], "--days must be between 1 and 3660"),
        (["report", "--since=2026-02-30"], "--since must be a date as YYYY-MM-DD, not '2026-02-30'."),
        (["report", "--since="], "--since must be a date as YYYY-MM-DD, not ''."),  # not "no --since"
        (["report", "--until="], "--until goes with --since."),
        (["report", ""], "no integration with id or label ''"),  # not "every integration"
        (["sync", " "], "no integration with id or label ''"),
        (["add", "cursor", "--label=\u202eevil"], "a label cannot contain control characters."),
        (["add", "cursor", "--label=" + "x" * 65], "a label can be at most 64 characters."),
        (["add", "cursor", "--label=123"], "a label cannot be only digits"),
        (["add", "cursor", "--label= \t "], "a label cannot be empty."),
    ]
    for argv, sentence in cases:
        _, _, err = check(workspace, capsys, monkeypatch, argv, stdin=GOOD_KEY, expect=2)
        assert sentence in err, (argv, err)


# ================================================================== usage events

# A sync on the free plan fetches 30 finished days and today so far: the newest 30-day window
# (served the fuzzed page) and then the one day before it (served empty).
WINDOW_FIRST = TODAY - timedelta(days=29)
WINDOW_LAST = TODAY
FIRST_MS = utc_ms(datetime.combine(WINDOW_FIRST, time(), UTC))
LAST_MS = utc_ms(datetime.combine(WINDOW_LAST, time(), UTC)) + 86_400_000 - 1
FIELDS = [
    "timestamp",
    "userEmail",
    "model",
    "kind",
    "kindLabel",
    "isChargeable",
    "requestsCosts",
    "tokenUsage",
    "chargedCents",
    "cursorTokenFee",
    "discountPercentOff",
    "conversationId",
    "isTokenBasedCall",
    "maxMode",
]
TOKEN_FIELDS = [
    "inputTokens",
    "outputTokens",
    "cacheWriteTokens",
    "cacheReadTokens",
    "totalCents",
    "discountPercentOff",
    "cursorTokenFee",
]

numeric_strings = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "1e999",
            "-0",
            "0x10",
            "1_000",
            "NaN",
            "-Infinity",
            "１２",
            "  12.5 ",
            "1e-999",
            "9" * 80,
            "1" * 5000,
            "0." + "0" * 70 + "5",
            "12,5",
            "1.2.3",
            "+3",
            "−3",
        ]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    numeric_strings,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
plain_money = st.one_of(
    st.integers(min_value=0, max_value=10**5),
    st.floats(min_value=0, max_value=10**5, allow_nan=False, allow_infinity=False),
    *(
        st.decimals(min_value=0, max_value=10**5, places=places, allow_nan=False, allow_infinity=False).map(str)
        for places in (0, 2, 5, 9)
    ),
)
money = st.one_of(
    plain_money,
    plain_money,
    st.integers(min_value=10**11, max_value=10**13),
    st.floats(min_value=1e9, max_value=1e13),
    st.floats(max_value=-1e-9, min_value=-1e4),
)
in_window = st.integers(min_value=FIRST_MS, max_value=LAST_MS)
token_counts = st.one_of(
    st.integers(min_value=0, max_value=200_000),
    st.integers(min_value=0, max_value=10**12).map(str),
    st.integers(min_value=0, max_value=10**6).map(float),
)
token_usage = st.fixed_dictionaries(
    {},
    optional={
        "inputTokens": token_counts,
        "outputTokens": token_counts,
        "cacheWriteTokens": token_counts,
        "cacheReadTokens": token_counts,
        "totalCents": money,
        "discountPercentOff": st.sampled_from([0, 5, 10, 12.5, "20"]),
    },
)
plausible_event = st.fixed_dictionaries(
    {"timestamp": st.one_of(in_window.map(str), in_window, in_window.map(float), in_window.map(lambda t: f" {t} "))},
    optional={
        "userEmail": st.sampled_from(["a@x.io", "b@x.io", "", None]),
        "model": st.sampled_from(["gpt-5", "claude-4.5-sonnet", "default", "", None]),
        "kind": st.sampled_from(["Usage-based", "Included in Business", "Errored, Not Charged", ""]),
        "kindLabel": st.sampled_from(["Usage-based", "Included in Pro"]),
        "isChargeable": st.one_of(st.booleans(), st.sampled_from(["true", "FALSE", 0, 1, None])),
        "requestsCosts": st.one_of(st.sampled_from([1, 2, 0.5, 1.4, "3", None]), plain_money),
        "tokenUsage": st.one_of(token_usage, st.none()),
        "chargedCents": st.one_of(money, st.none()),
        "cursorTokenFee": st.one_of(plain_money, st.none()),
        "discountPercentOff": st.sampled_from([5, 10]),
        "conversationId": st.one_of(st.uuids().map(str), st.none()),
    },
)


@st.composite
def damaged_event(draw) -> object:
    """A plausible event with fields removed, replaced by any JSON, or junk keys added; or no object at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    event = dict(draw(plausible_event))
    for name in draw(st.sets(st.sampled_from(FIELDS), max_size=2)):
        event.pop(name, None)
    for name in draw(st.sets(st.sampled_from([*FIELDS, "extra", "nested"]), max_size=2)):
        event[name] = draw(json_values)
    if isinstance(event.get("tokenUsage"), dict) and draw(st.booleans()):
        usage = dict(event["tokenUsage"])
        usage[draw(st.sampled_from(TOKEN_FIELDS))] = draw(json_values)
        event["tokenUsage"] = usage
    return event


any_event = st.one_of(plausible_event, damaged_event())


# ------------------------------------------------------------------ parse_event


def _check_parse(raw: object) -> None:
    try:
        event = parse_event(raw)
    except EventFormatError as exc:
        assert exc.sentence.startswith(("usage event field ", "a usage event is not")), exc.sentence
        assert "\n" not in exc.sentence and len(exc.sentence) < 200
        return
    assert isinstance(event, UsageEvent)
    assert event.cost_micro == micro(event_cents(raw))
    assert event.day == event_day(raw)
    assert event_cost_micro(raw) == event.cost_micro


@given(raw=st.one_of(any_event, json_values))
@fuzz(60)
def test_parse_event_reads_any_json_or_raises_our_error(raw) -> None:
    _check_parse(raw)


@pytest.mark.slow
@given(raw=st.one_of(any_event, json_values))
@fuzz(5000)
def test_parse_event_long_run(raw) -> None:
    _check_parse(raw)


def test_parse_event_pinned_cases() -> None:
    """Shapes that must parse (or fail) the same way forever."""
    base = {"timestamp": str(FIRST_MS), "chargedCents": 1}
    for raw in (
        {**base, "chargedCents": "1e999"},
        {**base, "chargedCents": float("nan")},
        {**base, "timestamp": "1" * 5000},
        {**base, "tokenUsage": []},
        {**base, "model": 5},
        {**base, "isChargeable": "maybe"},
        {**base, "chargedCents": None, "tokenUsage": {"totalCents": 10**13}},
        [base],
        None,
        {**base, "tokenUsage": {"inputTokens": 10**30}},
        {**base, "tokenUsage": {"cacheReadTokens": 10**13}},
    ):
        with pytest.raises(EventFormatError):
            parse_event(raw)
    assert parse_event({**base, "chargedCents": " 12.5 "}).cost_micro == 12_500_000
    assert parse_event({**base, "timestamp": FIRST_MS * 1.0}).day == WINDOW_FIRST


# ------------------------------------------------------------------ through the sync engine


@st.composite
def pages(draw) -> object:
    """The body of the one page a window is served: mostly the documented shape, with only
    plausible events or with damaged ones among them; sometimes not that shape at all."""
    shape = draw(st.sampled_from(["clean"] * 8 + ["mixed"] * 8 + ["junk", "junk events", "junk pagination", "bare"]))
    if shape == "junk":
        return draw(json_values)  # not even the right top level
    element = plausible_event if shape == "clean" else st.one_of(plausible_event, damaged_event())
    events = draw(st.lists(element, max_size=25))
    if shape == "bare":
        return {"usageEvents": events}
    if shape == "junk events":
        return {"usageEvents": draw(json_values.filter(lambda v: not isinstance(v, list)))}
    if shape == "junk pagination":
        return {"usageEvents": events, "pagination": draw(json_values)}
    return {
        "totalUsageEventsCount": len(events),
        "usageEvents": events,
        "pagination": {"numPages": 1, "currentPage": 1, "pageSize": 1000, "hasNextPage": False},
    }


class EngineHarness:
    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("GRAFIENT_HOME", str(home))
        self.settings = Settings.from_env()
        self.settings.ensure_dirs()
        self.db = Database(self.settings)
        self.vault = Vault(self.settings)
        self.labels = itertools.count(1)

    def run(self, page: object) -> None:
        label = f"F{next(self.labels)}"
        iid = add_integration(self.db, self.vault, label=label, provider="cursor", api_key=Secret(GOOD_KEY)).id
        content = json.dumps(page, allow_nan=True).encode()
        _note(f"page={content[:2000]!r}")

        def handler(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            if (body["startDate"], body["endDate"]) != (FIRST_MS, LAST_MS):  # the oldest day, after the window
                assert body["endDate"] == FIRST_MS - 1
                return httpx.Response(200, json={"usageEvents": []})
            if body["page"] == 1:
                return httpx.Response(200, content=content, headers={"content-type": "application/json"})
            return httpx.Response(200, json={"usageEvents": []})

        database = self.settings.database_file
        before = {t: rows for t, rows in all_rows(database).items() if t != "syncrun"}
        result = asyncio.run(
            run_sync(self.db, self.vault, self.settings, iid, "daily", transport=httpx.MockTransport(handler), now=NOW)
        )
        after = {t: rows for t, rows in all_rows(database).items() if t != "syncrun"}

        events = page.get("usageEvents") if isinstance(page, dict) else None
        readable = isinstance(page, dict) and isinstance(events, list)  # no list: malformed, not empty
        events = events or []
        if readable:
            for raw in events:
                try:
                    parse_event(raw)
                except EventFormatError:
                    readable = False
        want = expected_snapshot(events, first=WINDOW_FIRST, last=WINDOW_LAST, today=TODAY) if readable else None
        fits = want is not None and all(
            abs(v) <= INT64 for table in want for row in table for v in row if isinstance(v, int)
        )
        _note(
            result.error or "",
            f"{result.outcome} ({len(events)} events)"
            if result.outcome == "success"
            else f"failed: {(result.error or '')[:40]}",
        )
        if readable and fits:
            assert result.outcome == "success", result.error
            window = {WINDOW_FIRST + timedelta(days=i) for i in range(30)}
            assert restrict(store_snapshot(database, iid), window) == want  # every served day, exactly
        else:
            assert result.outcome == "failed", result
            assert result.error and "\n" not in result.error and not result.error.startswith("unexpected error"), result
            assert after == before  # nothing stored, nothing else touched
        remove_integration(self.db, iid)  # keep the store small for the next example


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EngineHarness:
    """One store per test; every example adds its own integration to it."""
    return EngineHarness(tmp_path / "engine-home", monkeypatch)


@given(page=pages())
@fuzz(45)
def test_a_sync_stores_every_served_day_or_fails_and_stores_nothing(harness, page) -> None:
    harness.run(page)


@pytest.mark.slow
@given(page=pages())
@fuzz(1200)
def test_a_sync_stores_every_served_day_long_run(harness, page) -> None:
    harness.run(page)


def test_totals_too_large_to_store_fail_the_window_with_a_sentence(harness) -> None:
    """Ten events of $10 billion each in one day overflow a 64-bit column: a sentence, not a crash."""
    huge = [{"timestamp": str(FIRST_MS + i), "chargedCents": 10**12} for i in range(10)]
    harness.run({"usageEvents": huge})
