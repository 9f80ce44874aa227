"""The operations the CLI and the app both offer, each written once: the one door to the store and
the sync engine.

list / add / remove / rekey / sync / report / export / plan / budgets, and what the app's screens
show (home and detail figures, due syncs, whether a sync runs, label checks). No Textual and no
printing: the CLI prints what these return and the app renders it; what they return is the read
model (grafient_tui.figures). The database and the vault open on first use, so `grafient plan` never
touches the store, and reads that only report need neither SQLAlchemy nor the vault (`reading()`).
Work that waits on the network is async (add, rekey, sync); the rest is plain and, in the app,
belongs in a thread worker.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from grafient_tui.config import PLANS, Settings
from grafient_tui.errors import ConfigError

if TYPE_CHECKING:
    import httpx

    from grafient_tui.alerts.deliver import Senders
    from grafient_tui.anomalies import Thresholds
    from grafient_tui.budgets.wording import Replaced
    from grafient_tui.figures import (
        AlertChannelInfo,
        AlertDelivered,
        AlertEvent,
        Anomaly,
        BudgetStatus,
        DetailFigures,
        FocusExport,
        HomeFigures,
        IntegrationInfo,
        MetricsFigures,
        ModelAcross,
        PeriodChoice,
        SyncProgress,
        SyncResult,
    )
    from grafient_tui.providers.base import AccountInfo as TeamInfo
    from grafient_tui.report import ReportRange
    from grafient_tui.secret import Secret
    from grafient_tui.store.budget_queries import BudgetRow
    from grafient_tui.store.db import Database
    from grafient_tui.store.read import Reader
    from grafient_tui.store.team import Access
    from grafient_tui.store.vault import Vault

    ProgressCallback = Callable[[SyncProgress], None]

_T = TypeVar("_T")

EXPORTS_DIR = "exports"
# An anomaly alerts while it is this recent (a channel added later is not told of older ones).
ANOMALY_ALERT_DAYS = 7


@dataclass(frozen=True)
class IntegrationListing:
    """One integration as `grafient list` shows it: who it is and how its syncing stands."""

    id: int
    label: str
    provider: str
    key_hint: str
    created: datetime  # UTC
    status: str  # never synced | syncing | ok | failed | interrupted
    last_sync: datetime | None  # UTC, when the last successful sync ended
    error: str | None
    history_from: date | None = None  # the earliest day the provider returned usage for
    # The provider's account settings besides the key ({"org": "acme"}); not secret. None when the
    # stored ones cannot be read (the row is damaged: its sync says so).
    account: dict[str, str] | None = field(default_factory=dict)
    # A shared database: who holds its sync lock now, in words (a sync on some machine, or another
    # session); None when nobody does, and always on SQLite.
    sync_lock_holder: str | None = None


@dataclass(frozen=True)
class IntegrationToAdd:
    """An integration someone asked to add: its label, provider, key and account settings besides the
    key (the demo's simulated accounts are added this way, through the app's own add path)."""

    label: str
    provider: str
    key: Secret
    account: dict[str, str] = field(default_factory=dict)
    # Added although the provider cannot name the account (ElevenLabs): the one who asked knows it is
    # not connected yet (`grafient add … --allow-unidentified`).
    allow_unidentified: bool = False


def _reads_values(method: Callable[..., _T]) -> Callable[..., _T]:
    """A read that turns stored values into Python outside `reading()` (the home's and the detail's
    reader, the ORM's rows): the store is checked first, and an error turning a value into Python is
    CorruptRow with the damaged row's sentence (store/row_check.py)."""

    @functools.wraps(method)
    def read(self: GrafientService, *args: Any, **kwargs: Any) -> _T:
        from grafient_tui.store.row_check import DAMAGE_ERRORS

        self.check_rows()
        try:
            return method(self, *args, **kwargs)
        except DAMAGE_ERRORS as exc:
            raise self._damaged(exc) from exc

    return read


class GrafientService:
    """Everything a front end can do to Grafient's store, given the Settings.

    `db` and `vault` may be passed in (tests that build a store themselves); `transport` replaces the
    network for every provider call (the demo, tests). Reads that only report (the report, the
    budgets, the list) go through `reading()`, which needs no SQLAlchemy while the store is at this
    version's schema.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        db: Database | None = None,
        vault: Vault | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self._db = db
        self._vault = vault
        self._opening = threading.Lock()  # the first use may come from a worker thread
        self._access: Access | None = None
        self._rows_checked = False  # store/row_check.py: once before the first read

    # -- the store, opened on first use ---------------------------------------------------------

    @property
    def db(self) -> Database:
        with self._opening:
            if self._db is None:
                from grafient_tui.store.db import Database

                self.settings.ensure_dirs()
                self._db = Database(self.settings)
            return self._db

    @property
    def vault(self) -> Vault:
        with self._opening:
            if self._vault is None:
                from grafient_tui.store.vault import Vault

                self.settings.ensure_dirs()
                self._vault = Vault(self.settings)
            return self._vault

    def open(self) -> None:
        """Open the database and the vault now (the app does it in its start-up thread)."""
        self.access()

    def close(self) -> None:
        """Close the database's connections, if it was opened."""
        with self._opening:
            db, self._db = self._db, None
        if db is not None:
            db.dispose()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Reader]:
        """One read transaction on the store (store/read.py): on the open database when there is one,
        else on a connection of its own that needs no SQLAlchemy, once the schema is known to be
        this version's. A store that is not (new, older, newer) is opened as Database opens it: set
        up, upgraded, or refused with its sentence."""
        if self._db is None:
            from grafient_tui.store.read import open_reader

            self.settings.ensure_dirs()  # as opening the store does (and its warning about an open home)
            with open_reader(self.settings) as reader:
                if reader is not None:
                    with self._checked(reader):
                        yield reader
                    return
        with self.db.reader() as reader, self._checked(reader):
            yield reader

    @contextlib.contextmanager
    def _checked(self, reader: Reader) -> Iterator[None]:
        """A read whose stored values are of their columns' types: checked once before this service's
        first read, and again when a read fails turning a value into Python; either is CorruptRow with
        the sentence naming the table, row and column (store/row_check.py)."""
        from grafient_tui.store.row_check import DAMAGE_ERRORS, check_rows, damage_error

        if not self._rows_checked:
            database = None if reader.postgres else self.settings.database_file
            check_rows(reader, database)
            self._rows_checked = True
        try:
            yield
        except DAMAGE_ERRORS as exc:
            raise damage_error(reader) from exc

    def check_rows(self) -> None:
        """CorruptRow when the store holds a value its column's type cannot hold (once per service)."""
        if not self._rows_checked:
            with self.reading():
                pass

    def _damaged(self, exc: BaseException) -> BaseException:
        """What a read through the ORM or the home's own reader raises for an error turning a value into
        Python: CorruptRow with the damaged row's sentence."""
        from grafient_tui.store.row_check import damage_error

        with self.reading() as reader:
            error = damage_error(reader)
        error.__cause__ = exc
        return error

    # -- integrations ---------------------------------------------------------------------------

    def find(self, ref: str | int) -> IntegrationInfo:
        """By id or label; NotFound (with the sentence to show) when there is none."""
        from grafient_tui.store.queries import integration_info

        with self.reading() as read:
            return integration_info(read, ref)

    def integrations(self, ref: str | int | None = None) -> list[IntegrationInfo]:
        """The one integration `ref` names, or all of them (by id) when it is None."""
        from grafient_tui.store.queries import integrations

        with self.reading() as read:
            return integrations(read, ref)

    def list_integrations(self) -> list[IntegrationListing]:
        from grafient_tui.store.queries import integrations
        from grafient_tui.sync.status import sync_status

        out = []
        with self.reading() as read:
            locks = self.db if self.shared else None  # a shared database's syncs hold their locks there
            for info in integrations(read):
                state = sync_status(locks, self.settings, info.integration_id, read=read)
                holder = self._lock_holder(info.integration_id)
                out.append(
                    IntegrationListing(
                        id=info.integration_id,
                        label=info.label,
                        provider=info.provider,
                        key_hint=info.key_hint,
                        created=info.created,
                        status=state.status,
                        last_sync=state.last_sync,
                        error=state.error,
                        history_from=info.history_from,
                        account=info.account,
                        sync_lock_holder=holder,
                    )
                )
        return out

    @staticmethod
    def clean_label(label: str) -> str:
        """The label as it would be stored (spaces collapsed), or ConfigError with the sentence when its
        shape is wrong (empty, a key, too long, control characters, digits only). Touches no store."""
        from grafient_tui.store.labels import clean_label

        return clean_label(label)

    def free_label(self, label: str) -> str:
        """The cleaned label, or ConfigError when it is empty, odd or taken: callable before a
        key is asked for, so nobody types a key that would be refused for its label."""
        from grafient_tui.sync.connect import free_label

        return free_label(self.db, label)

    def check_account(self, provider: str, account: Mapping[str, object]) -> dict[str, str]:
        """The provider's account settings checked (ConfigError with one sentence): callable before a
        key is asked for, so a team id that is not one is refused before anyone types a key. Touches
        no store."""
        from grafient_tui.store.accounts import account_settings

        return account_settings(provider, account)

    def require_identifiable(self, provider: str, *, allow_unidentified: bool) -> None:
        """Unidentified (a ConfigError with one sentence) for a provider that never names the account a
        key belongs to (ElevenLabs) unless `allow_unidentified`: callable before a key is asked for."""
        from grafient_tui.sync.connect import require_identifiable

        require_identifiable(provider, allow_unidentified=allow_unidentified)

    async def add(
        self,
        provider: str,
        label: str,
        key: Secret,
        *,
        account: Mapping[str, object] | None = None,
        now: datetime | None = None,
        allow_unidentified: bool = False,
    ) -> IntegrationInfo:
        """Check the key (with the provider's account settings: the organization, the team) with the
        provider, then store the integration (no history is fetched: `sync(row.integration_id,
        trigger="backfill")` does that). A key whose account cannot be identified is refused unless
        `allow_unidentified` (sync/connect.py)."""
        import asyncio

        from grafient_tui.store.integrations import info
        from grafient_tui.sync.connect import connect_integration

        await asyncio.to_thread(self.require_change)
        row = await connect_integration(
            self.db,
            self.vault,
            self.settings,
            label=label,
            provider=provider,
            key=key,
            account=account,
            transport=self.transport,
            now=now,
            allow_unidentified=allow_unidentified,
        )
        return info(row)

    async def rekey(self, ref: str | int, key: Secret) -> tuple[IntegrationInfo, TeamInfo]:
        """Replace the key of `ref` after checking it; its history is kept."""
        from grafient_tui.store.integrations import find_integration, info
        from grafient_tui.sync.connect import rekey_integration

        self.require_change()
        integration = find_integration(self.db, ref)
        row, team = await rekey_integration(
            self.db, self.vault, self.settings, integration, key, transport=self.transport
        )
        return info(row), team

    def is_syncing(self, integration_id: int) -> bool:
        """A sync of the integration is running now, in this process or another (on a shared database,
        on any machine). On a SQLite home that is a lock file, and the database is not opened; on a
        shared one it is a query: call it off the event loop."""
        from grafient_tui.sync.lock import is_sync_running

        return is_sync_running(self.settings, integration_id, self.db if self.shared else None)

    def _lock_holder(self, integration_id: int) -> str | None:
        """Who holds the integration's sync lock, in words, on a shared database; None when nobody does,
        and always on a SQLite home (whose database is not opened for it)."""
        if not self.shared:
            return None
        from grafient_tui.sync.lock import lock_holder

        holder = lock_holder(self.db, integration_id)
        return holder.words() if holder is not None else None

    def ensure_not_syncing(self, integration: IntegrationInfo) -> None:
        """SyncBusy when a sync of `integration` is running (in any process): say so before asking (and,
        on a shared database, who runs it)."""
        from grafient_tui.errors import SyncBusy
        from grafient_tui.store.integrations import busy_sentence

        if self.is_syncing(integration.integration_id):
            raise SyncBusy(busy_sentence(self.db, integration.integration_id, integration.label))

    def remove(self, ref: str | int) -> IntegrationInfo:
        """Delete the integration and all its data; returns what was removed. SyncBusy while it syncs."""
        from grafient_tui.store.integrations import remove_integration

        self.require_change()
        integration = self.find(ref)
        self.ensure_not_syncing(integration)
        remove_integration(self.db, integration.integration_id)  # (holds the lock itself)
        from grafient_tui import home_snapshot

        home_snapshot.forget(self.settings.data_dir, integration.integration_id)
        return integration

    # -- sync -----------------------------------------------------------------------------------

    def due_syncs(self, now: datetime) -> list[int]:
        """The integrations whose daily sync is due at `now` (a day up to yesterday missing or not
        final, or no good sync since the last 06:00 UTC); none for a viewer, who syncs nothing."""
        from grafient_tui.sync.due import sync_due

        if not self.access().can_change:
            return []
        return [
            i.integration_id for i in self.integrations() if sync_due(self.db, self.settings, i.integration_id, now)
        ]

    async def sync(
        self,
        ref: str | int | None = None,
        *,
        trigger: str = "daily",
        progress: ProgressCallback | None = None,
        on_result: Callable[[SyncResult], None] | None = None,
        now: datetime | None = None,
    ) -> list[SyncResult]:
        """Sync `ref`, or every integration one after another; one failing does not stop the
        others. `on_result` hears each result as it lands; all of them are returned.
        An empty list: there is nothing to sync."""
        import asyncio

        from grafient_tui.sync.engine import run_sync

        targets = await asyncio.to_thread(lambda: self.db.retrying(self.integrations, ref))
        if targets:  # a viewer starts no sync, so no failure of its own lands in the team's sync log
            await asyncio.to_thread(self.require_change)
        results = []
        for integ in targets:
            result = await run_sync(
                self.db,
                self.vault,
                self.settings,
                integ.integration_id,
                trigger,
                progress=progress,
                transport=self.transport,
                now=now,
            )
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    # -- what the screens show -------------------------------------------------------------------

    @_reads_values
    def home(self, period: int, today: date, *, span: PeriodChoice | None = None) -> HomeFigures:
        """The home screen's figures: every integration over the last `period` UTC days to `today`, or
        over `span` when given (a calendar month from `period_choices`)."""
        from grafient_tui.overview import load_home

        home = load_home(self.db, self.settings, period, today, span)
        if not home.integrations or home.summary is None:
            return home
        try:
            found = self.anomalies(since=home.summary.since, until=home.summary.until, today=today, drivers=False)
        except ConfigError:  # a bad [anomalies] in config.toml: no marks (the detail and the CLI say why)
            return home
        days: dict[int | None, list[date]] = {}
        for anomaly in found:
            days.setdefault(anomaly.integration_id, []).append(anomaly.day)
        marked = tuple(replace(f, anomaly_days=tuple(days.get(f.integration_id, ()))) for f in home.integrations)
        return replace(home, integrations=marked)

    def period_choices(self, today: date) -> tuple[PeriodChoice, ...]:
        """The periods to offer: 7, 30 and 90 days, this month so far, last month, and each month before
        back to the first stored day (spans.py)."""
        from grafient_tui.spans import choices
        from grafient_tui.store.read import maybe_day

        with self.reading() as read:
            row = read.one("SELECT MIN(day) FROM dailycost")
        return choices(today, maybe_day(row[0]) if row else None)

    def period(self, key: str, today: date) -> PeriodChoice:
        """The period a key names ("30", "this-month", "last-month", "2026-11"); ConfigError with one
        sentence for anything else (`grafient report --month` and the app's choice)."""
        from grafient_tui.spans import choice

        return choice(key, today)

    def models_across(self, span: PeriodChoice, today: date) -> list[ModelAcross]:
        """Every integration's models over the period by one key per model (model_keys.py), most expensive
        first, each naming the raw names and providers it covers: the all-integrations Models view."""
        from grafient_tui.store.queries import integrations, models_across

        with self.reading() as read:
            ids = [i.integration_id for i in integrations(read)]
            return models_across(read, ids, span.since, min(span.until, today)) if ids else []

    @staticmethod
    def plan_words(plan: str) -> str:
        """`Grafient plan free keeps 30 days of history of every provider.`: what a plan keeps."""
        from grafient_tui.overview import plan_words

        return plan_words(plan)

    def plan_change(self, plan: str) -> str:
        """What changing to `plan` does, for the question `P` asks before it changes anything: what it
        keeps, and what the next sync will fetch."""
        from grafient_tui.errors import ConfigError

        if plan not in PLANS:
            raise ConfigError(f"plan must be one of free, pro, ultimate, not {plan[:20]!r}.")
        now = self.plan()
        keeps = self.plan_words(plan)
        if plan == now:
            return f"{keeps} It is the plan already; nothing changes."
        if PLANS[plan] > PLANS[now] or (plan != "free" and now == "free"):
            fetch = "The next sync fetches the older days it keeps that are not stored yet (a backfill)."
        else:
            fetch = "The next sync fetches nothing older; the days already stored are kept."
        return f"{keeps} {fetch}"

    @_reads_values
    def detail(
        self, integration_id: int, period: int, today: date, *, span: PeriodChoice | None = None
    ) -> DetailFigures:
        """The cost detail of one integration over the last `period` UTC days to `today`, or over `span`
        (a calendar month from `period_choices`); NotFound when it is gone."""
        from grafient_tui.overview import load_detail

        detail = load_detail(self.db, self.settings, integration_id, period, today, span)
        summary = detail.figures.summary
        try:
            found = self.anomalies(integration_id, since=summary.since, until=summary.until, today=today)
        except ConfigError as exc:  # a bad [anomalies] in config.toml: said where the anomalies would be
            return replace(detail, anomaly_note=exc.sentence)
        figures = replace(detail.figures, anomaly_days=tuple(a.day for a in found))
        return replace(detail, figures=figures, anomalies=tuple(found))

    # -- reports --------------------------------------------------------------------------------

    def report(
        self,
        span: ReportRange,
        by: str = "day",
        ref: str | int | None = None,
        *,
        today: date | None = None,
        day_models: bool = True,
        ids: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """The report data (see report.build_report) for `ref` or every integration, or for the
        integrations `ids` names together (the MCP server's spend by provider); each read in one transaction."""
        from grafient_tui.report import build_report
        from grafient_tui.store.queries import integrations

        with self.reading() as read:
            plan = self._plan_read(read)
            chosen = integrations(read, ref)
            if ids is not None:
                chosen = [i for i in chosen if i.integration_id in set(ids)]
            return build_report(read, chosen, span, by, today=today, day_models=day_models, plan=plan)

    def export_csv(
        self, ref: str | int | None, span: ReportRange, *, by: str = "day", today: date | None = None
    ) -> Path:
        """Write the period's rows of `ref` (None: every integration) per `by` (day, model or member)
        to a 0600 CSV under data_dir/exports; its path.

        The same writer as `grafient report [REF] --by <by> --format csv`: the same columns, and text
        cells neutralised so nothing from an API runs as a spreadsheet formula."""
        from grafient_tui.config import write_private_file
        from grafient_tui.report import BY, build_report, render_csv
        from grafient_tui.store.queries import integration_info, integrations

        if by not in BY:
            raise ValueError(f"no export by {by!r}")
        with self.reading() as read:
            chosen = integrations(read, None) if ref is None else [integration_info(read, ref)]
            report = build_report(read, chosen, span, by, today=today, day_models=False)
        name = "all" if ref is None else _slug(chosen[0].label)
        kind = "" if by == "day" else f"-{by}s"
        path = (
            self.settings.data_dir
            / EXPORTS_DIR
            / f"grafient-{name}{kind}-{span.since.isoformat()}-to-{span.until.isoformat()}.csv"
        )
        write_private_file(path, render_csv(report).encode("utf-8"))
        return path

    def metrics(self, today: date, *, by_model: bool = False) -> MetricsFigures:
        """What `grafient metrics` exposes for `today` (UTC): each integration's spend today, month to date
        and in its billing cycle (each model's too with `by_model`), its sync state, and every budget; read
        in one read transaction, so a viewer of a shared database reads them as `grafient report` does."""
        from grafient_tui.metrics import read_metrics

        with self.reading() as read:
            locks = self.db if self.shared else None  # a shared database's syncs hold their locks there
            return read_metrics(read, self.settings, locks, today, by_model=by_model)

    def focus(self, span: ReportRange, ref: str | int | None = None) -> FocusExport:
        """The FOCUS export's charges over `span` for `ref` or every integration, read in one
        transaction (store/focus_charges.py says how a day is split); an integration whose cost is
        unknown (a plan without a list price) is left out with a sentence, since FOCUS has no
        unknown cost."""
        from grafient_tui.figures import FocusExport
        from grafient_tui.store.focus_charges import focus_charges
        from grafient_tui.store.queries import integrations
        from grafient_tui.untrusted import quoted

        charges = []
        left_out = []
        with self.reading() as read:
            for integration in integrations(read, ref):
                if not integration.basis.cost_known:
                    left_out.append(
                        f"{quoted(integration.label)} is left out: its cost is unknown, and FOCUS has no unknown cost"
                    )
                    continue
                charges.extend(focus_charges(read, integration, span.since, span.until))
        return FocusExport(charges=tuple(charges), left_out=tuple(left_out))

    # -- anomalies ------------------------------------------------------------------------------

    def anomaly_thresholds(self, *, ratio: object = None, min_amount: object = None) -> Thresholds:
        """How far a day must leave its baseline: config.toml's [anomalies] (ratio 1.5 and min_amount
        $20 by default), `ratio` and `min_amount` (dollars) over them; ConfigError with one sentence."""
        from grafient_tui.anomalies.settings import thresholds_of

        return thresholds_of(
            self.settings.anomalies(), str(self.settings.config_file), ratio=ratio, min_amount=min_amount
        )

    def anomalies(
        self,
        ref: str | int | None = None,
        *,
        since: date,
        until: date,
        drops: bool = False,
        today: date | None = None,
        ratio: object = None,
        min_amount: object = None,
        drivers: bool = True,
    ) -> list[Anomaly]:
        """The complete days of [since, until] whose billed cost left their same-weekday baseline
        (grafient_tui.anomalies), for `ref`, or for each integration and (with more than one) all of
        them together; drops only when asked. The thresholds are config.toml's [anomalies], or
        `ratio` / `min_amount` (dollars) when given; a bad one is a ConfigError with one sentence.
        An integration whose cost is unknown (a plan without a list price) is left out: unknown is
        not $0. Without `drivers`, none is named (nor read): what a chart's marks need."""
        from datetime import timedelta

        from grafient_tui.anomalies import LOOKBACK_DAYS, find, together
        from grafient_tui.report import billed_of
        from grafient_tui.store.anomaly_reads import anomaly_series
        from grafient_tui.store.queries import integrations

        thresholds = self.anomaly_thresholds(ratio=ratio, min_amount=min_amount)
        today = today or datetime.now(UTC).date()
        first = since - timedelta(days=LOOKBACK_DAYS)
        with self.reading() as read:
            chosen = [i for i in integrations(read, ref) if i.basis.cost_known]
            series = [anomaly_series(read, i, first, until, billed_of, drivers=drivers) for i in chosen]
        if ref is None and len(series) > 1:
            series.append(together(series))
        return find(series, since, until, thresholds, drops=drops, today=today)

    # -- budgets --------------------------------------------------------------------------------

    def set_budget(
        self,
        target: str,
        amount: str,
        *,
        period: str = "month",
        on_demand: bool = False,
        on: str = "usage",
        now: datetime | None = None,
    ) -> tuple[BudgetRow, Replaced | None]:
        """Set (or replace) the budget of `target` (an id, a label or `all`) for `period`, measuring
        `on`: "usage" (the usage value, as before) or "billed" (what invoices charge), or the on-demand
        part alone (`on_demand`); with the budget it replaced (a target has one per period), or None.
        Bad input raises with one sentence and changes nothing: an amount that is not dollars and cents,
        an unknown target, on-demand on a provider that bills everything per use."""
        from grafient_tui import providers
        from grafient_tui.budgets import PERIODS, parse_amount
        from grafient_tui.errors import ConfigError
        from grafient_tui.store.budgets import resolve_target, set_budget
        from grafient_tui.untrusted import visible

        amount_micro = parse_amount(amount)
        self.require_change()  # a viewer changes nothing, budgets included
        if period not in PERIODS:
            raise ConfigError(f"the period is month or cycle, not {visible(period)!r}.")
        if on not in ("usage", "billed"):
            raise ConfigError(f"a budget is on billed or usage (the usage value), not {visible(on)!r}.")
        integration = resolve_target(self.db, target)
        if on_demand and integration is not None:
            try:
                split = providers.get(integration.provider).capabilities.has_on_demand
            except ConfigError:
                split = False
            if not split:
                title = providers.title(integration.provider)
                raise ConfigError(
                    f"{visible(integration.label)!r} cannot have an on-demand budget: {visible(title)} "
                    "bills everything per use, so a budget on it counts the usage value or the billed amount."
                )
        return set_budget(
            self.db,
            integration,
            period,
            "on_demand" if on_demand else "billed" if on == "billed" else "cost",
            amount_micro,
            now or datetime.now(UTC),
        )

    def budgets(self) -> list[BudgetRow]:
        from grafient_tui.store.budget_queries import list_budgets

        with self.reading() as read:
            return list_budgets(read)

    def unusable_budgets(self) -> list[str]:
        """A sentence for each stored budget this Grafient cannot use (they are left out)."""
        from grafient_tui.store.budget_queries import unusable_budgets

        with self.reading() as read:
            return unusable_budgets(read)

    def remove_budget(self, target: str, *, period: str = "month") -> BudgetRow:
        """NotFound (one sentence) when the target has no budget for that period."""
        from grafient_tui.store.budgets import remove_budget, resolve_target

        self.require_change()
        return remove_budget(self.db, resolve_target(self.db, target), period)

    def check_budgets(self, today: date | None = None) -> list[BudgetStatus]:
        """Every budget, evaluated for the period holding `today` (UTC): spend, forecast, status."""
        from grafient_tui.store.budget_queries import evaluate

        with self.reading() as read:
            return evaluate(read, today or datetime.now(UTC).date())

    @_reads_values
    def budget_alerts(self, now: datetime | None = None) -> list[tuple[BudgetStatus, tuple[str, ...]]]:
        """The thresholds crossed since they were last announced, each returned once per budget and
        period (the store remembers, across restarts and processes): the app's toasts. A viewer's app
        announces nothing: it may not note what it announced, and the team's syncers announce it."""
        from grafient_tui.store.budget_queries import evaluate
        from grafient_tui.store.budgets import record_crossings

        if not self.access().can_change:
            return []
        now = now or datetime.now(UTC)
        return record_crossings(self.db, evaluate(self.db, now.astimezone(UTC).date()), now)

    # -- alert channels -------------------------------------------------------------------------

    def add_alert_channel(
        self,
        kind: str,
        label: str,
        *,
        secret: Secret | None,
        url: str | None = None,
        to: str | None = None,
        smtp: str | None = None,
        sender: str | None = None,
        user: str | None = None,
        security: str = "starttls",
        now: datetime | None = None,
    ) -> AlertChannelInfo:
        """Store a channel (its secret sealed). Bad input: ConfigError with one sentence, nothing stored.
        slack/teams: `secret` is the webhook URL; webhook: `url`, `secret` the signing secret; email:
        `to`, `smtp`, `sender`, `user`, `security`, `secret` the password (with `user`)."""
        from grafient_tui.alerts.channels import channel_settings
        from grafient_tui.store.alerts import add_channel

        self.require_change()  # a viewer adds nothing
        label = self.clean_label(label)
        settings = channel_settings(
            kind, secret=secret, url=url, to=to, smtp=smtp, sender=sender, user=user, security=security
        )
        return add_channel(
            self.db,
            self.vault,
            label=label,
            kind=kind,
            settings=settings,
            secret=secret,
            now=now or datetime.now(UTC),
        )

    @_reads_values
    def alert_channels(self) -> list[AlertChannelInfo]:
        from grafient_tui.store.alerts import channels

        return [channel.info for channel in channels(self.db)]

    def remove_alert_channel(self, label: str) -> AlertChannelInfo:
        from grafient_tui.store.alerts import remove_channel

        self.require_change()
        return remove_channel(self.db, label)

    def test_alert_channel(self, label: str, *, senders: Senders | None = None) -> AlertDelivered:
        """Send a test message to one channel now (no claim, nothing delivered is recorded but the
        channel's last outcome)."""
        from grafient_tui.alerts.deliver import send_one
        from grafient_tui.alerts.events import test_event
        from grafient_tui.figures import AlertDelivered
        from grafient_tui.store.alerts import find_channel, note_outcome

        self.require_change()  # viewers never send
        channel = find_channel(self.db, label)
        now = datetime.now(UTC)
        event = test_event(channel.info.label, now)
        outcome = send_one(channel, self.vault, event, senders or self._senders())
        note_outcome(self.db, channel.info.id, ok=outcome.ok, outcome=outcome.sentence, now=datetime.now(UTC))
        return AlertDelivered(
            channel=channel.info.label,
            event_key=event.key,
            ok=outcome.ok,
            attempts=outcome.attempts,
            outcome=outcome.sentence,
        )

    def _senders(self) -> Senders:
        from grafient_tui.alerts.deliver import Senders
        from grafient_tui.alerts.send import BACKOFF

        return Senders(backoff=BACKOFF * self.settings.backoff_base)

    def _alert_sources(self) -> list[Callable[[datetime], list[AlertEvent]]]:
        """Where events come from, each a pure source over what the store holds (alerts/__init__.py
        says how to add one)."""
        from grafient_tui.alerts.events import budget_events, key_rejected_events, stale_events
        from grafient_tui.store.alerts import integration_health

        return [
            lambda now: budget_events(self.check_budgets(now.date())),
            lambda now: key_rejected_events(integration_health(self.db)),
            lambda now: stale_events(integration_health(self.db), now),
            self._anomaly_events,
        ]

    def _anomaly_events(self, now: datetime) -> list[AlertEvent]:
        """The anomalies of the last ANOMALY_ALERT_DAYS complete days; none while config.toml's
        [anomalies] is unusable (`grafient anomalies` says why), so budgets and keys still alert."""
        from datetime import timedelta

        from grafient_tui.alerts.events import anomaly_events

        today = now.date()
        try:
            found = self.anomalies(since=today - timedelta(days=ANOMALY_ALERT_DAYS), until=today, today=today)
        except ConfigError:
            return []
        return anomaly_events(found)

    @_reads_values
    def alert_events(self, now: datetime | None = None) -> list[AlertEvent]:
        now = (now or datetime.now(UTC)).astimezone(UTC)
        events: list[AlertEvent] = []
        for source in self._alert_sources():
            events += source(now)
        return events

    def deliver_alerts(self, now: datetime | None = None, *, senders: Senders | None = None) -> list[AlertDelivered]:
        """Send what is pending to every channel, once per channel and event across every process
        (alerts/deliver.py). A viewer sends nothing. A failing channel is recorded, never raised;
        a fault reading the store is (the caller keeps its own outcome: cli.py, the app's worker)."""
        with self.reading() as read:  # most stores have no channel: found without SQLAlchemy
            if read.one("SELECT id FROM alertchannel LIMIT 1") is None:
                return []
        from grafient_tui.alerts.deliver import deliver
        from grafient_tui.store.alerts import channels

        if not self.access().can_change or not channels(self.db):
            return []
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        events = self.alert_events(moment)
        clock = (lambda: moment) if now is not None else (lambda: datetime.now(UTC))
        return deliver(self.db, self.vault, events, now=clock, senders=senders or self._senders())

    @_reads_values
    def alert_problem(self) -> str | None:
        """One line for the app's home when a channel's last delivery failed; None when all is well."""
        from grafient_tui.store.alerts import channels

        failing = [c.info for c in channels(self.db) if c.info.last_ok is False]
        if not failing:
            return None
        first = failing[0]
        more = f" (and {len(failing) - 1} more)" if len(failing) > 1 else ""
        return f"Alert channel {first.label}{more} failed: {first.last_outcome or 'no detail'}."

    # -- the database's schema ------------------------------------------------------------------

    def database_status(self) -> DatabaseStatus:
        """Where the store is and its schema's version, whatever that version is (nothing changes)."""
        from grafient_tui.store.schema import read_state

        db = self._open_unchecked()
        session: dict[str, str] = {}
        try:
            with db.engine.connect() as connection:
                state = read_state(connection)
                if db.is_postgres:
                    from grafient_tui.store.server import session_settings

                    session = session_settings(connection)
        except Exception as exc:  # noqa: BLE001  (a driver error: its sentence)
            raise _store_failure(db, exc) from None
        finally:
            db.dispose()
        automatic = state.empty or (not db.is_postgres and not state.newer)
        note = "" if state.current or not automatic else "; it is brought up to date when Grafient next opens it"
        return DatabaseStatus(
            where=_where(db),
            shared=db.is_postgres,
            schema=state.describe() + note,
            usable=state.current or automatic,
            session=session,
        )

    def upgrade_database(self) -> tuple[str, str]:
        """Set up or upgrade the schema to this version's, under the database's lock: (before, after),
        each as words."""
        from grafient_tui.store.schema import upgrade

        db = self._open_unchecked()
        try:
            before, after = upgrade(db)
        except Exception as exc:  # noqa: BLE001
            raise _store_failure(db, exc) from None
        finally:
            db.dispose()
        return before.describe(), after.describe()

    def _open_unchecked(self) -> Database:
        from grafient_tui.store.db import Database

        self.settings.ensure_dirs()
        return Database(self.settings, check_schema=False)

    # -- plan -----------------------------------------------------------------------------------

    @property
    def shared(self) -> bool:
        """The store is a team's PostgreSQL database (known from the URL, without opening it)."""
        return self.settings.database_url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")

    def plan(self) -> str:
        """The plan syncs follow: a shared database's team plan, else config.toml's (a SQLite home's
        plan never opens the database)."""
        if self.shared:
            from grafient_tui.store.team import effective_settings

            return effective_settings(self.db, self.settings).plan()
        return self.settings.plan()

    def _plan_read(self, read: Reader) -> str:
        """The plan, read in a report's own transaction (no SQLAlchemy): a shared database's team plan
        when it has a usable one, else this machine's (store/team.py applies the same rule)."""
        if self.shared:
            row = read.one("SELECT value FROM teamsetting WHERE name = ?", "plan")
            if row is not None and row[0] in PLANS:
                return str(row[0])
        return self.settings.plan()

    @staticmethod
    def plan_days(plan: str) -> int:
        """How many days of history a plan keeps."""
        return PLANS[plan]

    def set_plan(self, plan: str) -> int:
        """Save the plan (for the whole team, on a shared database); the days of history the next sync keeps."""
        if self.shared:
            from grafient_tui.store.team import set_team_plan

            self.access().require_team()  # the owner's, on a shared database
            set_team_plan(self.db, plan)
            return PLANS[plan]
        self.settings.ensure_dirs()
        self.settings.set_plan(plan)
        return PLANS[plan]

    def paces(self) -> list[tuple[str, float, str]]:
        """(provider, requests per minute its keys are paced to, where that comes from) for each provider."""
        from grafient_tui import providers
        from grafient_tui.store.team import read_rpm, read_settings, rpm_setting

        team = read_settings(self.db) if self.shared else {}
        out = []
        for name in providers.names():
            default = providers.get(name).limits.default_rpm
            rpm = read_rpm(team[rpm_setting(name)]) if rpm_setting(name) in team else None
            if rpm is not None:
                out.append((name, rpm, "the team's setting"))
            else:
                local = self.settings.rpm(name, default)
                source = (
                    "the provider's default" if local == default else f"GRAFIENT_{name.upper()}_RPM on this machine"
                )
                if rpm_setting(name) in team:  # a value this Grafient cannot use: said, and not applied
                    source += "; the team's setting in the database is not a number Grafient can use"
                out.append((name, local, source))
        return out

    def set_pace(self, provider: str, rpm: float) -> None:
        """Set the team's pace for one provider's keys (a shared database only)."""
        from grafient_tui.errors import ConfigError
        from grafient_tui.store.team import set_team_rpm

        if not self.shared:
            raise ConfigError(
                f"a home's own pacing is GRAFIENT_{provider.upper()}_RPM; `grafient pace` sets the pacing "
                "a shared database's syncers all follow."
            )
        self.access().require_team()  # the owner's, on a shared database
        set_team_rpm(self.db, provider, rpm)

    # -- who may change things ------------------------------------------------------------------

    def access(self, *, fresh: bool = False) -> Access:
        """Whether this user may change the store (sync, add, rekey, remove, set team settings), and
        if not, why (store/team.py: a viewer). Worked out once, then remembered unless `fresh`."""
        from grafient_tui.store.team import access

        if self._access is None or fresh:
            self._access = access(self.db, self.vault)
        return self._access

    def require_change(self) -> None:
        """ViewerOnly, with its sentence, when this user only views the store."""
        self.access().require()


@dataclass(frozen=True)
class DatabaseStatus:
    where: str  # the SQLite file, or the server and database (never a password)
    shared: bool  # PostgreSQL: a team's database
    schema: str  # its version, in words
    usable: bool  # as it is, or once Grafient has set it up or upgraded it by itself on opening it
    # A shared database: the timeouts (and search_path) in force on this machine's reading sessions.
    session: dict[str, str] = field(default_factory=dict)


def _where(db: Database) -> str:
    if not db.is_postgres:
        return f"SQLite file {db.sqlite_file or db.url.database}"
    url = db.url
    user = f"{url.username}@" if url.username else ""
    port = f":{url.port}" if url.port else ""
    return f"PostgreSQL {user}{url.host or 'localhost'}{port}/{url.database}"


def _store_failure(db: Database, exc: BaseException) -> BaseException:
    from sqlalchemy.exc import DBAPIError

    from grafient_tui.errors import GrafientError

    if isinstance(exc, GrafientError):
        return exc
    if isinstance(exc, DBAPIError):
        return db.error(exc)
    return exc


def _slug(text: str) -> str:
    """A file-name-safe form of a label (the same rule as the app's export file names)."""
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return cleaned or "integration"
