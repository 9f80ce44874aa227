"""The event loop's default executor: each job in a daemon thread, never waited for at exit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class DaemonThreadExecutor(ThreadPoolExecutor):
    """Textual runs thread workers (the screens' store reads, exports, deletes) and asyncio its DNS
    look-ups on the default executor, which asyncio.run joins on the way out, and
    concurrent.futures again at interpreter exit: quitting waited for a year of figures being read
    (a second and more), a write waiting out SQLite's busy timeout, or a DNS look-up with no network.
    A read cut short reads nothing; a write cut short is a transaction SQLite rolls back."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001  (handed to whoever awaits the future)
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=run, name="grafient-thread-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: the threads are daemons, and the process may end under them."""
