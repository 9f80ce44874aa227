"""What the App knows that the screens show: one immutable value, handed to each screen in the App's
news (tui/messages.py) and at its construction, never read off the App by a screen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

from grafient_tui.config import PERIODS

if TYPE_CHECKING:
    from grafient_tui.figures import SyncProgress
    from grafient_tui.tui.syncing import SyncEnd

V = TypeVar("V")


def frozen(mapping: Mapping[int, V]) -> Mapping[int, V]:
    """A read-only copy: a LiveState never changes under a screen that holds it."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class LiveState:
    """The app's state as the screens see it at one moment; the App replaces it, never changes it."""

    period: int = 30  # the last `period` UTC days are shown everywhere (unless a month is)
    # A calendar month shown everywhere instead ("this-month", "last-month", "YYYY-MM"); None: the last
    # `period` days. A key, not a date range: "this month" stays this month in an app open past midnight.
    month: str | None = None
    store_ready: bool = False  # the store has opened (before that, the last run's snapshot is shown)
    viewer_reason: str | None = None  # why this user only views the store; None: they may change it
    # One line for the home when an alert channel's last delivery failed (service.alert_problem); None: fine.
    alert_problem: str | None = None
    syncing: frozenset[int] = frozenset()  # the integrations whose sync runs in this app
    # integration id -> the latest progress of its running sync
    progress: Mapping[int, SyncProgress] = field(default_factory=dict)
    # integration id -> why its last sync here failed (the store may not hold it: the engine never started)
    failures: Mapping[int, str] = field(default_factory=dict)
    # The integrations whose last sync here succeeded: a card read while it ran says so at once, not
    # "syncing…" until the re-read lands (seconds on a loaded machine, after the "Sync finished" toast).
    synced_here: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        # Read-only copies, however it was made: no holder of this value sees it change.
        object.__setattr__(self, "progress", frozen(self.progress))
        object.__setattr__(self, "failures", frozen(self.failures))

    def next_period(self) -> int:
        """The period after this one (7, 30, 90, 7…)."""
        return PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)] if self.period in PERIODS else 30

    def choose(self, days: int | None = None, month: str | None = None) -> LiveState:
        """The period asked for: a calendar month, the last `days` days, or (neither) from a month back to
        the last days shown before it, else the next of 7, 30, 90."""
        if month:
            return replace(self, month=month)
        return replace(self, period=days or (self.period if self.month else self.next_period()), month=None)

    def is_syncing(self, integration_id: int) -> bool:
        return integration_id in self.syncing

    def sync_started(self, integration_id: int) -> LiveState:
        """Its sync runs; the failure of its last one is forgotten."""
        return replace(
            self.forget_failure(integration_id),
            syncing=self.syncing | {integration_id},
            synced_here=self.synced_here - {integration_id},
        )

    def sync_progressed(self, progress: SyncProgress) -> LiveState:
        return replace(self, progress={**self.progress, progress.integration_id: progress})

    def sync_ended(self, end: SyncEnd) -> LiveState:
        """Its sync is over; a failure is kept for its card (the store may not hold it)."""
        iid = end.integration_id
        failures = dict(self.failures)
        if end.outcome == "failed" and end.sentence:
            failures[iid] = end.sentence
        progress = {i: p for i, p in self.progress.items() if i != iid}
        synced = self.synced_here | {iid} if end.outcome == "success" else self.synced_here - {iid}
        return replace(self, syncing=self.syncing - {iid}, progress=progress, failures=failures, synced_here=synced)

    def forget_failure(self, integration_id: int) -> LiveState:
        return replace(self, failures={i: s for i, s in self.failures.items() if i != integration_id})
