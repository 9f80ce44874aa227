"""The sync engine: backfill, daily catch-up and force sync, one function each.

The CLI, the TUI and the tests all call these. A sync:
  1. takes the integration's cross-process lock (or reports it is busy),
  2. asks the planner (sync/plan.py) which UTC days need fetching, grouped into windows as wide as
     the provider serves, newest first (13 requests for a quiet year of 30-day windows, not 365),
  3. for each window, streams the provider's cost lines, sums them per day, model and member
     (sync/totals.py), and has the store replace that window's days in ONE transaction
     (store/sync_writes.py).
The provider comes from the registry by the integration's provider name; nothing here
knows which one it is.
A sync that fails or is killed therefore leaves every day either as it was or
fully new, and the next run starts from the first window not yet written
(what is missing is read from the store, so no resume point needs keeping).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import traceback
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from time import sleep as _pause
from typing import Any, TypeVar

import httpx

from grafient_tui import providers
from grafient_tui.config import Settings
from grafient_tui.errors import GrafientError, NotFound, RequestRejected, StoreError
from grafient_tui.figures import SyncProgress, SyncResult
from grafient_tui.providers.base import Provider
from grafient_tui.providers.http import reporting_retries, warm_up
from grafient_tui.secret import scrub_known
from grafient_tui.store.db import RETRY_PAUSE_BASES, Database
from grafient_tui.store.integrations import account_of, find_integration, integration_key
from grafient_tui.store.sync_writes import (
    Identity,
    IntegrationGone,
    aware,
    finish_run,
    note_history_limit,
    note_members,
    start_run,
    write_window,
)
from grafient_tui.store.team import effective_settings, note_fingerprint, problem_for
from grafient_tui.store.vault import Vault
from grafient_tui.sync import clock as clocks
from grafient_tui.sync.billing import sync_billing
from grafient_tui.sync.due import days_to_fetch
from grafient_tui.sync.lock import IntegrationLock, LockLost, blocked_sentence, lock_holder, sync_lock
from grafient_tui.sync.plan import TRIGGERS, plan_windows, utc_today
from grafient_tui.sync.progress import ProgressCallback, SyncTally
from grafient_tui.sync.threads import in_daemon_thread
from grafient_tui.sync.totals import WindowTotals

T = TypeVar("T")

log = logging.getLogger("grafient.sync")

LOCK_WAIT_SECONDS = 2.0


class SyncTimeLimit(GrafientError):
    """The sync ran past GRAFIENT_SYNC_DEADLINE; the window under way was abandoned."""

    exit_code = 1


# ---------------------------------------------------------------- running


async def run_sync(
    db: Database,
    vault: Vault,
    settings: Settings,
    integration_id: int,
    trigger: str,
    *,
    progress: ProgressCallback | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """Run one sync. Failures come back as outcome="failed" with one sentence; nothing raises
    except cancellation (which records the run as interrupted)."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    # Every store call runs in a thread: the app's event loop never waits on SQLite (another
    # process may hold the write lock for seconds), and the CLI loses nothing by it. A team server's
    # failure that a moment may cure (a cut connection, a restart) is tried once more (db.retrying).

    async def store(work: Callable[..., T], *args: object, **kwargs: object) -> T:
        return await in_daemon_thread(db.retrying, work, *args, **kwargs)

    tally = SyncTally(integration_id, f"integration {integration_id}", trigger, progress)
    try:
        integration = await store(find_integration, db, integration_id)
    except NotFound:  # removed since the caller listed it: nothing to sync, and not a failure
        return tally.result("skipped", f"integration {integration_id} was removed; nothing to sync")
    except GrafientError as exc:
        return tally.result("failed", exc.sentence)
    label = tally.label = integration.label
    identity = (integration.uid, aware(integration.created_at))
    lock = sync_lock(settings, integration_id, db)
    try:  # a shared database's team settings (plan, pacing) win over this machine's
        settings = await store(effective_settings, db, settings)
        problem = problem_for(settings, integration.provider)
        # A team setting this Grafient cannot use: one sentence, no lock taken, nothing fetched.
        got = problem is None and await lock.acquire(LOCK_WAIT_SECONDS)
        holder = None if got or problem or not db.is_postgres else await store(lock_holder, db, integration_id)
    except GrafientError as exc:
        lock.release()
        return tally.result("failed", exc.sentence)
    if problem is not None:
        return tally.result("failed", problem)
    if not got:
        if db.is_postgres:  # another machine's sync, or some session: named, and this sync gave up
            return tally.result("skipped", blocked_sentence(label, holder, LOCK_WAIT_SECONDS), blocked=True)
        return tally.result("skipped", f"a sync for {label} is already running")
    run_id: int | None = None
    clock = clocks.SyncClock(now)
    try:
        started = clock()
        run_id = await store(start_run, db, integration_id, trigger, started, identity, lock.pid)
        provider = providers.get(integration.provider)
        limits = provider.limits
        windows = plan_windows(
            await store(days_to_fetch, db, settings, integration_id, trigger, started, limits=limits),
            limits.max_window_days,
            one_run=limits.one_window,
        )
        tally.windows_total = len(windows)
        key = await store(integration_key, vault, integration)
        account = account_of(integration)  # read back untrusted: a row that does not fit fails this sync
        await store(note_fingerprint, db, vault)
        log.debug("sync %s %s: %d windows", label, trigger, len(windows))
        if transport is None:  # httpx's TLS context (tens of ms of CPU): built once, off the event loop
            await store(warm_up)
        tally.report(0)
        # One bound on the whole sync, however the answers come. It covers the fetching only: a
        # window under way when it passes is abandoned, a window being written is written, and
        # every finished one stays.
        ends_at = asyncio.get_running_loop().time() + settings.sync_deadline
        async with (
            reporting_retries(tally.retried),
            provider.from_settings(key.reveal(), settings, transport=transport, account=account) as client,
        ):
            client.today = utc_today(started)
            try:
                await _fetch_windows(
                    client,
                    windows,
                    db=db,
                    lock=lock,
                    provider=provider,
                    tally=tally,
                    settings=settings,
                    ends_at=ends_at,
                    clock=clock,
                    identity=identity,
                    answered=integration.history_from,
                )
                if client.members_seen is not None:
                    await store(note_members, db, integration_id, client.members_seen)
                await sync_billing(client, db, integration_id, label, ends_at=ends_at, clock=clock, identity=identity)
            finally:
                tally.count(client.stats)
        outcome = tally.result("success")
    except asyncio.CancelledError:
        if run_id is not None:
            # Recorded from a daemon thread, never on the event loop: quitting must not wait on a
            # write lock another process holds. If the process ends first, the lock tells every
            # reader the run was interrupted anyway.
            cancelled = tally.result("failed", "the sync was cancelled before it finished")
            finish = partial(finish_run, db, run_id, cancelled, clock(), "interrupted", identity)
            threading.Thread(
                target=_quietly,
                args=(finish,),
                name="grafient-finish-run",
                daemon=True,
            ).start()
        raise
    except IntegrationGone as exc:  # removed: nothing to report as failed; a new key: this sync did fail
        outcome = tally.result("skipped" if exc.removed else "failed", exc.sentence)
    except (StoreError, LockLost) as exc:  # a team's server, mid-sync: say what was kept (SQLite: as it was)
        if isinstance(exc, StoreError):  # a write that waited past the lock timeout: for whom
            what = f"{label}'s row in the team database"
            exc = await in_daemon_thread(db.name_row_holder, exc, "integration", integration_id, what)
        cut = _cut(exc.sentence, tally.days_written, db.is_postgres and run_id is not None)
        outcome = tally.result("failed", cut, kind=type(exc))
    except GrafientError as exc:
        outcome = tally.result("failed", exc.sentence, kind=type(exc))
    except Exception as exc:  # noqa: BLE001  (one odd failure must not take the other integrations down)
        # The traceback as scrubbed text, never exc_info: an exception from below us (a transport,
        # a proxy) can quote the request's credentials, and a log handler prints exc_info as it is.
        log.debug("sync %s failed unexpectedly:\n%s", label, scrub_known("".join(traceback.format_exception(exc))))
        outcome = tally.result(
            "failed", f"unexpected error ({type(exc).__name__}); rerun with GRAFIENT_DEBUG=1 for details"
        )
    finally:
        lock.release()
    if run_id is not None:
        await in_daemon_thread(
            db.retrying, _quietly, partial(finish_run, db, run_id, outcome, clock(), identity=identity)
        )
    return outcome


async def _fetch_windows(
    client: Provider,
    windows: list[tuple[date, date]],
    *,
    db: Database,
    lock: IntegrationLock,
    provider: type[Provider],
    tally: SyncTally,
    settings: Settings,
    ends_at: float,
    clock: Callable[[], datetime],
    identity: Identity,
    answered: date | None,
) -> None:
    """Fetch, sum and write each window in turn, newest first; stop at the provider's history edge.

    `answered` is the oldest day an answer covered: the earliest usage ever returned, or any window
    this sync has read (with usage or without). A 400 older than that is the provider's edge."""
    integration_id, label, source = tally.integration_id, tally.label, f"the {provider.title} API"
    for done, (first, last) in enumerate(windows):
        await in_daemon_thread(lock.check)  # never fetch a window once the lock is gone
        totals = WindowTotals(first, last, capabilities=provider.capabilities)
        deadline = asyncio.timeout_at(ends_at)
        try:
            async with deadline:
                async for lines in client.cost_lines(first, last):
                    totals.add(lines)
                    totals.check_size(source)
                    tally.requests = client.stats.requests
                    tally.report(done)
        except RequestRejected as refused:
            if refused.status != 400 or answered is None or last >= answered:
                raise
            # A provider that keeps less than the plan asks for answers an older window with
            # 400 (how Cursor, Anthropic and OpenAI answer there is undocumented): what it
            # answered before stands, and backfills stop at that edge from now on.
            log.debug("sync %s: %s; history ends after %s", label, refused.sentence, last)
            await in_daemon_thread(db.retrying, note_history_limit, db, integration_id, last + timedelta(days=1))
            tally.report(len(windows))
            return
        except TimeoutError:
            if not deadline.expired():
                raise
            raise SyncTimeLimit(
                f"the sync stopped at its time limit of {settings.sync_deadline:g} s with "
                f"{len(windows) - done} of {len(windows)} windows still to fetch; the finished ones are "
                "kept (run `grafient sync` again to go on, or raise GRAFIENT_SYNC_DEADLINE)"
            ) from None
        tally.requests = client.stats.requests
        tally.days_written += await in_daemon_thread(
            _write_locked,
            db,
            lock,
            integration_id,
            first,
            last,
            totals,
            clock(),
            identity=identity,
            source=source,
            covered=client.days_covered(first, last),
            cost_basis=client.cost_basis(),
        )
        answered = min(answered or first, first)  # this window answered, with usage or not
        tally.report(done + 1)
        if client.history_edge is not None:  # the provider found its edge inside this window
            log.debug("sync %s: history begins %s", label, client.history_edge)
            await in_daemon_thread(db.retrying, note_history_limit, db, integration_id, client.history_edge)
            tally.report(len(windows))
            return


def _write_locked(db: Database, lock: IntegrationLock, integration_id: int, *args: Any, **kwargs: Any) -> int:
    """write_window, once the lock is known to be held. A team server's failure that a moment may cure
    is tried once more, after a pause and after the lock is checked again (a restart that cut the
    write took the lock with it, and then the sync stops)."""
    lock.check()
    try:
        return write_window(db, integration_id, *args, **kwargs)
    except StoreError as exc:
        if not (db.is_postgres and exc.transient):
            raise
        log.debug("%s; the window is written again once the lock is checked", exc.sentence)
    _pause(RETRY_PAUSE_BASES * db.settings.backoff_base)
    lock.check()
    return write_window(db, integration_id, *args, **kwargs)


def _cut(sentence: str, days: int, started: bool) -> str:
    """A database failure's sentence, with what the sync had written before it: the windows already
    written stand, the rest were not."""
    if not started:
        return sentence
    sentence = sentence.rstrip(".")
    if days:
        return f"{sentence}; {days:,} {'day' if days == 1 else 'days'} written, the rest not (run the sync again)"
    return f"{sentence}; nothing was written (run the sync again)"


def _quietly(finish: Callable[[], None]) -> None:
    """Record a run's end; a store that cannot (the disk may be full) only costs a warning, and the
    next run marks this one interrupted."""
    try:
        finish()
    except GrafientError as exc:
        log.warning("could not record the sync outcome: %s", exc.sentence)


async def backfill_integration(
    db: Database, vault: Vault, settings: Settings, integration_id: int, **kw: Any
) -> SyncResult:
    return await run_sync(db, vault, settings, integration_id, "backfill", **kw)


async def daily_sync(db: Database, vault: Vault, settings: Settings, integration_id: int, **kw: Any) -> SyncResult:
    return await run_sync(db, vault, settings, integration_id, "daily", **kw)


async def force_sync(db: Database, vault: Vault, settings: Settings, integration_id: int, **kw: Any) -> SyncResult:
    return await run_sync(db, vault, settings, integration_id, "force", **kw)


__all__ = [
    "ProgressCallback",
    "SyncProgress",
    "SyncResult",
    "backfill_integration",
    "daily_sync",
    "force_sync",
    "run_sync",
]
