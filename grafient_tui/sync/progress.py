"""What a running sync has done so far, told to its listener as it goes and summed up at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from grafient_tui.figures import SyncProgress, SyncResult
from grafient_tui.providers.base import RequestStats
from grafient_tui.providers.http import RetryNotice
from grafient_tui.secret import scrub_known

ProgressCallback = Callable[[SyncProgress], None]


@dataclass
class SyncTally:
    """One sync's counts: windows done of how many, days written, requests made, and the retry under
    way, if any."""

    integration_id: int
    label: str
    trigger: str
    listener: ProgressCallback | None = None
    windows_total: int = 0
    windows_done: int = 0
    days_written: int = 0
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    retrying: RetryNotice | None = None

    def report(self, done: int) -> None:
        """A page or a window has come in: any retry before it has succeeded."""
        self.windows_done = done
        self.retrying = None
        self.tell()

    def retried(self, notice: RetryNotice) -> None:
        self.retrying = replace(notice, reason=scrub_known(notice.reason))  # fixed words, but a URL is the user's
        self.tell()

    def count(self, stats: RequestStats) -> None:
        self.requests, self.rate_limited, self.retries = stats.requests, stats.rate_limited, stats.retries

    def tell(self) -> None:
        if self.listener is None:
            return
        notice = self.retrying
        self.listener(
            SyncProgress(
                integration_id=self.integration_id,
                label=self.label,
                trigger=self.trigger,
                windows_done=self.windows_done,
                windows_total=self.windows_total,
                days_written=self.days_written,
                requests=self.requests,
                retry_attempt=notice.attempt if notice else 0,
                retry_attempts=notice.attempts if notice else 0,
                retry_reason=notice.reason if notice else None,
            )
        )

    def result(
        self, outcome: str, error: str | None = None, *, blocked: bool = False, kind: type | None = None
    ) -> SyncResult:
        """How the sync ended. Every sentence is redacted against every key this process holds before
        it is printed or stored in the sync log: a sentence may quote what a server sent back."""
        return SyncResult(
            integration_id=self.integration_id,
            label=self.label,
            trigger=self.trigger,
            outcome=outcome,
            days_written=self.days_written,
            requests=self.requests,
            rate_limited=self.rate_limited,
            retries=self.retries,
            error=scrub_known(error) if error else error,
            error_kind=kind.__name__ if kind is not None else None,
            blocked=blocked,
        )
