"""The sync's clock: wall time, or a pinned start (tests, GRAFIENT_NOW) that moves on with real time.

The planner never reads a clock (today is passed in); the engine reads this one for the moment a
run starts and ends and each window is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from time import monotonic


def now() -> datetime:
    return datetime.now(UTC)


class SyncClock:
    """Wall time, or a pinned start advanced by the real elapsed time."""

    def __init__(self, start: datetime | None) -> None:
        self._start = start
        self._t0 = monotonic()

    def __call__(self) -> datetime:
        if self._start is None:
            return now()
        return self._start + timedelta(seconds=monotonic() - self._t0)
