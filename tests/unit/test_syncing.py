"""The words of a sync and its batches (tui/syncing.py) and the live state (tui/live.py): pure
functions over named values, tested without Textual running."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from grafient_tui.figures import SyncProgress, SyncResult, SyncStatus
from grafient_tui.tui.live import LiveState
from grafient_tui.tui.syncing import (
    DAILY_CHECK_SECONDS,
    Batches,
    SyncBatch,
    SyncEnd,
    Toast,
    batch_toast,
    broke,
    ended,
    next_daily_at,
    stopped,
    sync_line,
    timer_delay,
)

NOW = datetime(2025, 6, 18, 9, 30, tzinfo=UTC)
OFFLINE = "Cannot reach the Cursor API at api.cursor.com (connection refused; 6 tries)."


def end(iid: int, outcome: str = "success", *, said: str | None = None, trigger: str = "force") -> SyncEnd:
    return SyncEnd(iid, outcome, f"Team {iid}", said, days_written=10, requests=3, trigger=trigger)


def over(*ends: SyncEnd) -> SyncBatch:
    batch = SyncBatch(started={e.integration_id for e in ends}, closed=True)
    batch.ended = {e.integration_id: e for e in ends}
    return batch


def progress(iid: int = 1, done: int = 1, total: int = 4, days: int = 30, retry: str | None = None) -> SyncProgress:
    return SyncProgress(
        integration_id=iid,
        label="Acme",
        trigger="force",
        windows_done=done,
        windows_total=total,
        days_written=days,
        requests=4,
        retry_attempt=2 if retry else 0,
        retry_attempts=6 if retry else 0,
        retry_reason=retry,
    )


# --------------------------------------------------------------------------- one toast per batch


def test_one_sync_speaks_in_its_own_words() -> None:
    assert batch_toast(over(end(1))) == Toast("Team 1: 10 days synced (3 API calls).", title="Sync finished", timeout=4)
    assert batch_toast(over(end(1, "failed", said=OFFLINE))) == Toast(
        f"Team 1: {OFFLINE}", title="Sync failed", severity="error", timeout=10
    )
    assert batch_toast(over(end(1, "skipped", said="Another sync runs."))) == Toast(
        "Team 1: Another sync runs.", severity="warning"
    )
    assert batch_toast(over(end(1, trigger="daily"))) is None  # a daily sync that went well says nothing


def test_a_batch_of_failures_is_one_toast_with_the_commonest_reason() -> None:
    said = batch_toast(over(*(end(i, "failed", said=OFFLINE) for i in (1, 2, 3))))
    assert said is not None and said.severity == "error"
    assert said.text == (
        "3 of 3 syncs failed: cannot reach the Cursor API at api.cursor.com (connection refused; 6 tries); "
        "the cards say which."
    )
    mixed = batch_toast(over(end(1, "failed", said=OFFLINE), end(2, "failed", said="HTTP 401."), end(3)))
    assert mixed is not None and mixed.text.startswith("2 of 3 syncs failed: ")
    assert mixed.text.endswith(", and 1 other reason; the cards say which.")


def test_failures_of_one_family_are_one_reason_named_once() -> None:
    """Offline, each sentence names its own host: one family, so one reason, and no "other reasons"."""
    hosts = ("api.cursor.com", "api.anthropic.com", "api.openai.com", "openrouter.ai")
    offline = [
        replace(end(i, "failed", said=f"Cannot reach {host} (connection refused; 6 tries)."), kind="Unreachable")
        for i, host in enumerate(hosts, 1)
    ]
    said = batch_toast(over(*offline))
    assert said is not None
    assert said.text == "4 of 4 syncs failed: the providers cannot be reached (no network?); the cards say which."
    rejected = replace(end(5, "failed", said="HTTP 401."), kind="KeyRejected")
    mixed = batch_toast(over(*offline, rejected))
    assert mixed is not None and mixed.text == (
        "5 of 5 syncs failed: the providers cannot be reached (no network?), and 1 other reason; the cards say which."
    )
    # a family the toast has no words for: the first sentence stands for it
    odd = [replace(end(i, "failed", said=f"Odd answer from host{i}."), kind="ShapeError") for i in (1, 2)]
    assert (said := batch_toast(over(*odd))) is not None and said.text.startswith("2 of 2 syncs failed: odd answer ")
    assert "other reason" not in said.text


def test_a_failed_result_carries_its_family_into_the_toast() -> None:
    result = SyncResult(
        integration_id=1,
        label="Acme",
        trigger="force",
        outcome="failed",
        error="Cannot reach api.cursor.com.",
        error_kind="Unreachable",
    )
    assert ended(result).kind == "Unreachable"


def test_a_batch_that_went_well_sums_its_days_and_calls() -> None:
    said = batch_toast(over(end(1), end(2), end(3)))
    assert said == Toast("3 integrations synced: 30 days (9 API calls).", title="Sync finished", timeout=4)
    assert batch_toast(over(end(1, trigger="daily"), end(2, trigger="daily"))) is None
    skipped = batch_toast(over(end(1, "skipped", said="Another sync runs."), end(2)))
    assert skipped is not None and skipped.text == "1 of 2 syncs did not run: another sync runs."


def test_a_batch_says_nothing_until_it_is_closed_and_over() -> None:
    batch = over(end(1), end(2))
    batch.closed = False
    assert batch_toast(batch) is None
    batch.closed = True
    batch.started.add(3)  # still running
    assert batch_toast(batch) is None
    assert batch_toast(over(stopped(1), stopped(2))) is None  # cancelled: the app is quitting


def test_batches_group_the_syncs_of_one_turn_and_speak_once() -> None:
    batches = Batches()
    batch, opened = batches.current()
    again, opened_again = batches.current()
    assert opened and not opened_again and again is batch
    batches.join(batch, 1)
    batches.join(batch, 2)
    batch.elsewhere = 2
    [elsewhere] = batches.close(batch)  # the turn is over; nothing has ended yet
    assert "syncing 2 of these integrations" in elsewhere.text and elsewhere.severity == "warning"
    assert batches.current()[0] is not batch  # the next turn opens a new one
    assert batches.end(end(1)) == []
    [said] = batches.end(end(2))
    assert said.text.startswith("2 integrations synced")
    assert batches.end(end(9)) == []  # a sync of no batch (already ended)


# --------------------------------------------------------------------------- how a sync ended


def test_an_ended_sync_is_worded_through_the_rule() -> None:
    result = SyncResult(
        integration_id=4, label="Eng\x1b[2J", trigger="daily", outcome="failed", error="cannot reach it"
    )
    said = ended(result)
    assert said.label == "Eng\\x1b[2J" and said.sentence == "Cannot reach it." and said.trigger == "daily"
    assert broke(4, RuntimeError("boom")).outcome == "failed"
    assert broke(4, None).sentence == "The sync stopped on an unexpected error."


# --------------------------------------------------------------------------- the status line


def test_the_status_line_follows_the_live_sync_then_the_store() -> None:
    status = SyncStatus(status="ok", last_sync=NOW - timedelta(minutes=5), error=None)
    idle = LiveState()
    assert sync_line(idle, 1, status, NOW).text == "✓ synced 5 min ago"
    syncing = idle.sync_started(1)
    assert sync_line(syncing, 1, status, NOW).text == "⟳ syncing…"
    live = syncing.sync_progressed(progress(done=1, total=4, days=30))
    line = sync_line(live, 1, status, NOW)
    assert (line.state, line.text, line.sentence) == ("syncing", "⟳ syncing 1/4 windows · 30 days written", None)
    retrying = live.sync_progressed(progress(retry="cannot reach the Cursor API"))
    assert sync_line(retrying, 1, status, NOW).sentence == "retrying (2 of 6) · cannot reach the Cursor API"
    failed = live.sync_ended(end(1, "failed", said="Cannot reach it."))
    line = sync_line(failed, 1, status, NOW)
    assert line.state == "error" and line.text == "✗ sync failed · last good sync 5 min ago"
    assert line.sentence == "Cannot reach it."
    never = SyncStatus(status="never synced", last_sync=None, error=None)
    assert sync_line(idle, 2, never, NOW).state == "never"
    interrupted = SyncStatus(status="interrupted", last_sync=None, error=None)
    assert sync_line(idle, 2, interrupted, NOW).text == "✗ sync interrupted"


def test_a_stored_running_sync_is_another_process_s_only_if_this_app_did_not_run_it_meanwhile() -> None:
    running = SyncStatus(status="syncing", last_sync=None, error=None)
    assert sync_line(LiveState(), 1, running, NOW).text == "⟳ syncing in another grafient process"
    # Read while this app synced it, and the sync has ended well here since: said at once, as the
    # "Sync finished" toast says it (the re-read with the new figures may take seconds to land).
    ended_here = LiveState().sync_started(1).sync_ended(end(1))
    line = sync_line(ended_here, 1, running, NOW, read_while_syncing=True)
    assert (line.state, line.text) == ("ok", "✓ synced just now")
    # Ended otherwise (cancelled by a quit): the re-read says how; a new sync forgets the last one.
    cancelled = LiveState().sync_started(1).sync_ended(end(1, "cancelled"))
    line = sync_line(cancelled, 1, running, NOW, read_while_syncing=True)
    assert (line.state, line.text) == ("syncing", "⟳ syncing…")
    assert not ended_here.sync_started(1).synced_here
    # A failure here is said whatever the older read held.
    failed_here = LiveState().sync_started(1).sync_ended(end(1, "failed", said="Cannot reach it."))
    assert sync_line(failed_here, 1, running, NOW, read_while_syncing=True).state == "error"


def test_the_live_state_is_replaced_never_changed() -> None:
    before = LiveState(failures={1: "Cannot reach it."})
    after = before.sync_started(1)
    assert before.failures == {1: "Cannot reach it."} and before.syncing == frozenset()
    assert after.failures == {} and after.is_syncing(1)
    with pytest.raises(TypeError):
        after.progress[1] = progress()  # type: ignore[index]
    done = after.sync_progressed(progress()).sync_ended(end(1))
    assert not done.is_syncing(1) and done.progress == {} and done.failures == {}
    assert done.sync_started(2).forget_failure(2).syncing == frozenset({2})


# --------------------------------------------------------------------------- the daily timer


def test_the_daily_timer_wakes_at_six_utc_and_at_least_every_quarter_hour() -> None:
    assert next_daily_at(datetime(2025, 6, 18, 5, 0, tzinfo=UTC)) == datetime(2025, 6, 18, 6, tzinfo=UTC)
    assert next_daily_at(datetime(2025, 6, 18, 6, 0, tzinfo=UTC)) == datetime(2025, 6, 19, 6, tzinfo=UTC)
    six = datetime(2025, 6, 19, 6, tzinfo=UTC)
    assert timer_delay(datetime(2025, 6, 18, 23, 0, tzinfo=UTC), six) == DAILY_CHECK_SECONDS
    assert timer_delay(datetime(2025, 6, 19, 5, 59, tzinfo=UTC), six) == 60
    assert timer_delay(datetime(2025, 6, 19, 6, 1, tzinfo=UTC), six) == 1.0  # late: at once (almost)


def test_the_words_after_a_quit_promise_kept_days_only_where_they_are_kept() -> None:
    """The demo's home is removed as it ends: its quit says so, never that a next sync fetches the rest."""
    from grafient_tui.tui.syncing import stopped_words, stopping_words

    kept = stopped_words([None, None], 1)
    assert "finished days are kept" in kept and "next sync fetches the rest" in kept
    demo = stopped_words([None, None], 1, throwaway=True)
    assert demo.startswith("stopped the sync of 2 integrations;")
    assert "kept" not in demo and "next sync" not in demo and "removed" in demo
    assert "kept" in stopping_words() and "kept" not in stopping_words(throwaway=True)
