"""The screens' reads of the store (`messages.Reads`), through the App's one service.

Each runs in the thread of the screen's read worker (tui/screens/reading.py); the home's figures are
also kept for the next start's first paint (home_snapshot.py), unless the home is a throwaway one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from grafient_tui import home_snapshot

if TYPE_CHECKING:
    from grafient_tui.config import Settings
    from grafient_tui.estimates import Basis
    from grafient_tui.figures import BudgetStatus, DetailFigures, HomeFigures, ModelAcross, PeriodChoice
    from grafient_tui.service import GrafientService


@dataclass(frozen=True)
class TargetChoice:
    """An integration a budget can be on."""

    integration_id: int
    label: str
    provider: str


@dataclass(frozen=True)
class BudgetList:
    """What the budgets screen shows."""

    statuses: tuple[BudgetStatus, ...]
    unusable: tuple[str, ...]  # a sentence for each stored budget this Grafient cannot use
    targets: tuple[TargetChoice, ...]


@dataclass(frozen=True)
class ModelsView:
    """The Models view's figures: every integration's models by key over the period, and how their
    dollars were made (≈ where an estimate is among them)."""

    span: PeriodChoice
    models: tuple[ModelAcross, ...]
    basis: Basis


class StoreReads:
    def __init__(
        self,
        settings: Settings,
        service: Callable[[], GrafientService],
        now: Callable[[], datetime],
        *,
        remember_home: bool,
    ) -> None:
        self._settings = settings
        self._service = service
        self._now = now
        # False for a throwaway home (the demo's): no next start to give a head start to, and a home read
        # finishing in its thread after the home was removed would make its folder anew to write one.
        self._remember_home = remember_home
        # The last run's home is keyed to its database: an app opened on another one never paints it.
        self.database_key = home_snapshot.database_key(settings.database_url)
        self._written: bytes | None = None
        self._lock = threading.Lock()
        # What the period choice offers (7/30/90 days, this month, last month, each stored month before),
        # as the last home read found them; the palette lists them without reading the store itself.
        self.period_choices: tuple[PeriodChoice, ...] = ()

    def last_home(self, period: int) -> HomeFigures | None:
        """The home screen's figures from the last run (plain json), painted before the store opens."""
        return home_snapshot.load(self._settings.data_dir, period, self.database_key)

    def now(self) -> datetime:
        return self._now()

    def today(self) -> date:
        return self._now().astimezone(UTC).date()

    def home(self, period: int, month: str | None = None) -> HomeFigures:
        """The home screen's figures over the last `period` days or the calendar `month` (a key of
        spans.choice), kept for the next start's first paint."""
        from grafient_tui.errors import GrafientError

        service, today = self._service(), self.today()
        figures = service.home(period, today, span=service.period(month, today) if month else None)
        self.period_choices = service.period_choices(today)
        if self._remember_home:
            try:
                with self._lock:
                    self._written = home_snapshot.remember(
                        self._settings.data_dir, figures, self._written, database=self.database_key
                    )
            except (OSError, GrafientError):
                pass  # only a head start for the next run: the store still holds everything
        return figures

    @property
    def throwaway(self) -> bool:
        """A home removed on quit (the demo's): what is written there goes with it."""
        return not self._remember_home

    def budgets(self) -> BudgetList:
        """Every budget as `grafient check` evaluates it today, the stored ones this Grafient cannot
        use (in words), and the integrations a budget can be on."""
        service = self._service()
        return BudgetList(
            statuses=tuple(service.check_budgets(self.today())),
            unusable=tuple(service.unusable_budgets()),
            targets=tuple(TargetChoice(i.integration_id, i.label, i.provider) for i in service.integrations()),
        )

    def detail(self, integration_id: int, period: int, month: str | None = None) -> DetailFigures:
        """One integration's cost detail over the last `period` days or the calendar `month` (NotFound
        once it is gone)."""
        service, today = self._service(), self.today()
        return service.detail(integration_id, period, today, span=service.period(month, today) if month else None)

    def models(self, period: int, month: str | None = None) -> ModelsView:
        """Every integration's models by one key per model over the last `period` days or the `month`."""
        from grafient_tui.estimates import together

        service, today = self._service(), self.today()
        span = service.period(month or str(period), today)
        basis = together((i.label, i.basis) for i in service.integrations())
        return ModelsView(span, tuple(service.models_across(span, today)), basis)
