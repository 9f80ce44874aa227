"""A sync's news in words, and the batches syncs are grouped in: pure functions over named values.

The App runs the syncs and shows what these say; tests call them without Textual running:
- `sync_line`: a card's (or the detail header's) status line, from the live state or the store's;
- `stored_since`: whether a progress is worth a re-read of the store;
- `SyncBatch` and `batch_toast`: the syncs one action started end in one toast, not one each;
- `next_daily_at` and `timer_delay`: when the daily sync's timer wakes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from grafient_tui.config import DAILY_SYNC_HOUR_UTC
from grafient_tui.tui.widgets.text import ago, plural, sentence, sentence_of
from grafient_tui.untrusted import visible

if TYPE_CHECKING:
    from grafient_tui.figures import SyncProgress, SyncResult, SyncStatus
    from grafient_tui.tui.live import LiveState

TRIGGERS = ("backfill", "daily", "force")
DAILY_CHECK_SECONDS = 15 * 60  # the timer wakes at least this often, so a suspended laptop catches up


@dataclass(frozen=True)
class Toast:
    """One toast's words; the App shows it through the rule (tui/shown.toast)."""

    text: str
    title: str = ""
    severity: Literal["information", "warning", "error"] = "information"
    timeout: float | None = None


# --------------------------------------------------------------------------- progress


def shown(progress: SyncProgress) -> tuple[object, ...]:
    """What of a sync's progress `sync_line` shows (and a re-read of the store could change)."""
    return (progress.windows_done, progress.windows_total, progress.days_written, progress.retry_line)


def stored_since(before: SyncProgress | None, now: SyncProgress) -> bool:
    """Whether the sync has written to the store since `before` (its last progress seen; None: none
    was): a window or a day more. The first progress seen may already count some, since a newer one
    replaces an older one still waiting in a busy event loop's queue."""
    if before is None:
        return now.windows_done > 0 or now.days_written > 0
    return (before.windows_done, before.days_written) != (now.windows_done, now.days_written)


# --------------------------------------------------------------------------- the status line


@dataclass(frozen=True)
class SyncLine:
    """A card's sync state (never | syncing | ok | error), its status text, and the sentence under
    it: why it failed, or while syncing which request is being retried and why."""

    state: str
    text: str
    sentence: str | None = None


def sync_line(
    live: LiveState, integration_id: int, status: SyncStatus, now: datetime, *, read_while_syncing: bool = False
) -> SyncLine:
    """The live sync if one runs in this app, else the stored status (read off the event loop).
    `read_while_syncing`: `status` was read while this app synced the integration (StoreReader), so a
    stored "syncing" is this app's own sync, ended since, not another process's."""
    if live.is_syncing(integration_id):
        # While a request is retried, the sentence says so: "retrying (2 of 6) · cannot reach …".
        progress = live.progress.get(integration_id)
        retry = visible(progress.retry_line) if progress is not None and progress.retry_line else None
        if progress is None or progress.windows_total == 0:
            return SyncLine("syncing", "⟳ syncing…", retry)
        return SyncLine(
            "syncing",
            f"⟳ syncing {progress.windows_done}/{progress.windows_total} windows · "
            f"{plural(progress.days_written, 'day')} written",
            retry,
        )
    last_good = f" · last good sync {ago(status.last_sync, now)}" if status.last_sync else ""
    failure = live.failures.get(integration_id)
    if failure:
        return SyncLine("error", f"✗ sync failed{last_good}", failure)
    if status.status == "ok":
        return SyncLine("ok", f"✓ synced {ago(status.last_sync, now)}")
    if status.status == "syncing":
        if read_while_syncing and integration_id in live.synced_here:  # ended well; its re-read is on its way
            return SyncLine("ok", "✓ synced just now")
        if read_while_syncing:  # the re-read that says how it ended is on its way
            return SyncLine("syncing", "⟳ syncing…")
        return SyncLine("syncing", "⟳ syncing in another grafient process")
    if status.status == "failed":
        said = sentence(visible(status.error or "the last sync failed; press r to retry"))
        return SyncLine("error", f"✗ sync failed{last_good}", said)
    if status.status == "unknown":
        return SyncLine("error", f"✗ sync state unknown{last_good}", sentence(visible(status.error or "unknown")))
    if status.status == "interrupted":
        said = sentence(visible(status.error or "the last sync was interrupted before it finished; press r to retry"))
        return SyncLine("error", f"✗ sync interrupted{last_good}", said)
    return SyncLine("never", "· never synced")


# --------------------------------------------------------------------------- how a sync ended


@dataclass(frozen=True)
class SyncEnd:
    """How one sync ended, in the words its batch's toast uses (the label through the rule already)."""

    integration_id: int
    outcome: str  # success | failed | skipped | cancelled
    label: str
    sentence: str | None = None  # why it failed or did not run
    days_written: int = 0
    requests: int = 0
    trigger: str = "force"
    kind: str | None = None  # the error's family (errors.py's class name), when it failed with one


# A family of failures in a batch's toast when several integrations share it: their sentences name
# each its own host, and "cannot reach api.cursor.com, and 3 other reasons" said one reason four times.
FAMILY_WORDS = {
    "Unreachable": "the providers cannot be reached (no network?)",
    "ApiTimeout": "the providers did not answer in time",
    "RateLimited": "the providers kept answering 'too many requests'",
    "ServerError": "the providers' servers kept failing",
    "KeyRejected": "the keys were rejected",
    "AccessDenied": "the keys lack the access they need",
}


def ended(result: SyncResult) -> SyncEnd:
    """A sync the engine ran to its end (which may be a failure it recorded)."""
    said = None
    if result.outcome == "failed":
        said = sentence(visible(result.error or "the sync failed"))
    elif result.outcome == "skipped":
        said = sentence(visible(result.error or "another sync was already running"))
    return SyncEnd(
        result.integration_id,
        result.outcome,
        visible(result.label),
        said,
        result.days_written,
        result.requests,
        result.trigger,
        result.error_kind,
    )


def broke(integration_id: int, error: BaseException | None) -> SyncEnd:
    """A sync that raised: the engine never raises for API or store failures, so this is a bug, and
    it must not crash the app."""
    said = sentence_of(error, "the sync stopped on an unexpected error")
    return SyncEnd(integration_id, "failed", f"integration {integration_id}", said)


def stopped(integration_id: int) -> SyncEnd:
    """A sync cancelled (the app is quitting): nothing to say about it."""
    return SyncEnd(integration_id, "cancelled", f"integration {integration_id}")


# --------------------------------------------------------------------------- batches


@dataclass
class SyncBatch:
    """The syncs one action started (`R`, the due syncs at start, the daily timer): whatever their
    outcomes, they end in one toast, not one per integration; each card keeps its own error line."""

    started: set[int] = field(default_factory=set)
    elsewhere: int = 0  # not started: another grafient process is syncing them
    closed: bool = False  # the action is over: nothing more joins this batch
    ended: dict[int, SyncEnd] = field(default_factory=dict)

    @property
    def over(self) -> bool:
        """Closed, and every sync it started has ended."""
        return self.closed and bool(self.started) and len(self.ended) >= len(self.started)


class Batches:
    """The batch each running sync belongs to, and the one the syncs started in this turn of the
    event loop join (the App closes it right after the turn)."""

    def __init__(self) -> None:
        self.open: SyncBatch | None = None
        self._of: dict[int, SyncBatch] = {}

    def current(self) -> tuple[SyncBatch, bool]:
        """This turn's batch, and whether it was opened just now (the App schedules its closing then)."""
        if self.open is not None:
            return self.open, False
        self.open = SyncBatch()
        return self.open, True

    def join(self, batch: SyncBatch, integration_id: int) -> None:
        batch.started.add(integration_id)
        self._of[integration_id] = batch

    def close(self, batch: SyncBatch) -> list[Toast]:
        """The turn is over: nothing more joins `batch`; what to say now (it may be over already)."""
        batch.closed = True
        if self.open is batch:
            self.open = None
        return [said for said in (elsewhere_toast(batch), batch_toast(batch)) if said is not None]

    def end(self, end: SyncEnd) -> list[Toast]:
        """A sync ended: its batch's toast, once the whole batch is over."""
        batch = self._of.pop(end.integration_id, None)
        if batch is None:
            return []
        batch.ended[end.integration_id] = end
        said = batch_toast(batch)
        return [said] if said is not None else []


def elsewhere_toast(batch: SyncBatch) -> Toast | None:
    """One warning for the syncs of an action that another grafient process was running already."""
    if not batch.elsewhere:
        return None
    if batch.elsewhere == 1:
        text = "Another grafient process is syncing this integration right now; its data appears when it finishes."
    else:
        text = (
            f"Another grafient process is syncing {batch.elsewhere} of these integrations right now; "
            "their data appears when it finishes."
        )
    return Toast(text, severity="warning")


def batch_toast(batch: SyncBatch) -> Toast | None:
    """The one toast of a batch that is over (none for a cancelled one, nor for daily syncs that went well)."""
    if not batch.over:
        return None
    ends = [end for end in batch.ended.values() if end.outcome != "cancelled"]
    failed = [end for end in ends if end.outcome == "failed"]
    skipped = [end for end in ends if end.outcome == "skipped"]
    synced = [end for end in ends if end.outcome == "success"]
    if len(ends) == 1:  # one integration: its own words
        [end] = ends
        if end.outcome == "failed":
            return Toast(f"{end.label}: {end.sentence}", title="Sync failed", severity="error", timeout=10)
        if end.outcome == "skipped":
            return Toast(f"{end.label}: {end.sentence}", severity="warning")
        if end.trigger == "daily":
            return None
        said = f"{end.label}: {plural(end.days_written, 'day')} synced ({plural(end.requests, 'API call')})."
        return Toast(said, title="Sync finished", timeout=4)
    if failed:
        reasons = Counter(end.kind or clause(end.sentence or "") for end in failed)
        top, _ = reasons.most_common(1)[0]
        reason = reason_words(top, [end for end in failed if (end.kind or clause(end.sentence or "")) == top])
        others = len(reasons) - 1
        more = f", and {plural(others, 'other reason')}" if others else ""
        which = "the card says which" if len(failed) == 1 else "the cards say which"
        said = f"{len(failed)} of {len(ends)} syncs failed: {reason}{more}; {which}."
        return Toast(said, title="Syncs failed", severity="error", timeout=10)
    if skipped:
        said = f"{len(skipped)} of {len(ends)} syncs did not run: {clause(skipped[0].sentence or '')}."
        return Toast(said, severity="warning")
    if synced and any(end.trigger != "daily" for end in synced):
        days, calls = sum(end.days_written for end in synced), sum(end.requests for end in synced)
        said = f"{len(synced)} integrations synced: {plural(days, 'day')} ({plural(calls, 'API call')})."
        return Toast(said, title="Sync finished", timeout=4)
    return None


def reason_words(reason: str, ends: list[SyncEnd]) -> str:
    """One reason, named once: the sentence itself when they all say it, else their family's words."""
    sentences = {clause(end.sentence or "") for end in ends}
    if len(sentences) == 1:
        return sentences.pop()
    return FAMILY_WORDS.get(reason, clause(ends[0].sentence or ""))


def clause(sentence: str) -> str:
    """A sentence as part of a longer one: no full stop, and a small first letter unless it starts
    an acronym ("Cannot reach …." -> "cannot reach …", "API …" stays)."""
    text = sentence.strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def stopped_words(progress: list[SyncProgress | None], first_id: int, *, throwaway: bool = False) -> str:
    """What the terminal is told after a quit stopped running syncs (their progress, as last seen).
    A throwaway home (the demo's) is removed as the app ends: nothing is kept for a next sync."""
    if len(progress) == 1:
        which = progress[0].label if progress[0] is not None else f"integration {first_id}"
    else:
        which = f"{len(progress):,} integrations"
    if throwaway:
        return f"stopped the sync of {which}; the demo's simulated data is removed as it ends."
    return f"stopped the sync of {which}; the finished days are kept, and the next sync fetches the rest."


def stopping_words(*, throwaway: bool = False) -> str:
    """The toast while a quit stops running syncs."""
    return (
        "Stopping the sync… the demo's data goes with it."
        if throwaway
        else "Stopping the sync… finished days are kept."
    )


# --------------------------------------------------------------------------- the daily timer


def next_daily_at(now: datetime) -> datetime:
    """The next 06:00 UTC after `now`: when the due daily syncs start."""
    now = now.astimezone(UTC)
    target = now.replace(hour=DAILY_SYNC_HOUR_UTC, minute=0, second=0, microsecond=0)
    return target if target > now else target + timedelta(days=1)


def timer_delay(now: datetime, target: datetime) -> float:
    """Seconds until the timer next wakes: at `target`, but never later than DAILY_CHECK_SECONDS
    (a suspended laptop catches up) and never sooner than a second."""
    return min(max((target - now.astimezone(UTC)).total_seconds(), 1.0), DAILY_CHECK_SECONDS)
