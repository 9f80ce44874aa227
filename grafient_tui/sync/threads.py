"""Store work off the event loop, in threads that never hold the process open."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def in_daemon_thread(work: Callable[..., T], *args: object, **kwargs: object) -> T:
    """`await work(*args)` run in a daemon thread.

    Like asyncio.to_thread, but the thread never holds the process open: a store write waiting out
    SQLite's busy timeout (another process holds the write lock) must not delay quitting. A write
    cut short by the exit is a transaction never committed, which SQLite rolls back."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(setter: Callable[[Any], None], value: Any) -> None:
        if not future.done():
            setter(value)

    def run() -> None:
        deliver: Callable[[Any], None]
        value: Any
        try:
            outcome = work(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001  (handed to the awaiting coroutine)
            deliver, value = future.set_exception, exc
        else:
            deliver, value = future.set_result, outcome
        try:
            loop.call_soon_threadsafe(settle, deliver, value)
        except RuntimeError:
            pass  # the loop has closed: nobody waits for this any more

    threading.Thread(target=run, name="grafient-store", daemon=True).start()
    return await future
