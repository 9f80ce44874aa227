"""One sync per integration at a time, across processes (a TUI and a cron job).

An advisory flock on a per-integration file in the data dir: the kernel drops
it when the holder exits, however it exits, so a killed sync never leaves a
stale lock behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from pathlib import Path

from grafient_tui.config import FILE_MODE, Settings, ensure_private_dir


class SyncLock:
    def __init__(self, settings: Settings, integration_id: int) -> None:
        self.path: Path = settings.lock_dir / f"integration-{integration_id}.lock"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        ensure_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.fchmod(fd, FILE_MODE)
        self._fd = fd
        return True

    async def acquire(self, wait: float) -> bool:
        """Try for up to `wait` seconds; False if another sync still holds it."""
        deadline = time.monotonic() + wait
        while True:
            if self.try_acquire():
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def is_sync_running(settings: Settings, integration_id: int) -> bool:
    """True when some process (this one included) is syncing this integration now."""
    lock = SyncLock(settings, integration_id)
    if not lock.path.exists():
        return False
    if lock.try_acquire():
        lock.release()
        return False
    return True
