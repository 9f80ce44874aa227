"""How the app ends when it is told to (SIGTERM, SIGHUP) or its terminal goes away.

A closed terminal (a killed tmux session, a dropped SSH connection, a closed window) is hung up:
the kernel sends SIGHUP to the process that has it as its controlling terminal, and from then on
reads see end-of-file and writes fail with EIO. Textual copes with neither: its output thread
dies on the first failed write, the next writes fill its queue, and then the event loop blocks for
good on one more, so an exit asked of the app never comes (a `grafient --demo` whose tmux session
was killed sat there until SIGKILL). So, while the app runs:

  - SIGTERM and SIGHUP ask the app to exit (it restores the terminal if there still is one), and a
    watchdog ends the process `grace` seconds later whatever it is doing, after `cleanup` (the
    demo's throwaway home); a second signal ends it at once the same way;
  - a thread waits for the terminal to be hung up (poll: POLLHUP) and takes it as SIGHUP, for a
    process that gets no signal (no controlling terminal, or SIGHUP ignored by what started it).

Ending the process under the app loses nothing: a sync's finished windows are committed, the one
under way is a transaction SQLite rolls back, and the lock files are released by the kernel.
Nothing here imports Textual.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator

GRACE_SECONDS = 0.6  # a quit takes 0.2-0.4 s: past this, the app is stuck (a dead terminal) and is ended
SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
# What Textual leaves behind when it cannot restore the terminal itself: the alternate screen, a
# hidden cursor, mouse reporting, bracketed paste.
_RESET = b"\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1003l\x1b[?1006l\x1b[?2004l"


class Ending:
    """The state of one run: which signal ended it, if one did."""

    def __init__(
        self, stop: Callable[[], None], cleanup: Callable[[], None], grace: float, terminal_fd: int | None
    ) -> None:
        self.signal: int | None = None
        self._stop = stop
        self._cleanup = cleanup
        self._grace = grace
        self._fd = terminal_fd if terminal_fd is not None and _is_tty(terminal_fd) else None
        self._modes = _modes(self._fd)
        self._lock = threading.Lock()
        self._cleaned = False
        self._cleanup_lock = threading.Lock()
        self._over = False  # the app has returned: nothing left to stop

    @property
    def exit_code(self) -> int | None:
        """128 + the signal's number, as a shell reports a process ended by it; None without one.
        A terminal found hung up counts as SIGHUP even when the app noticed it first (its input
        thread read end-of-file before the watcher woke): the end is the same, and so is the code."""
        if self.signal is None and self._fd is not None and _hung_up(self._fd):
            return 128 + signal.SIGHUP
        return None if self.signal is None else 128 + self.signal

    def cleanup(self) -> None:
        """`cleanup` once, whichever thread gets here first (the other waits for it to finish)."""
        with self._cleanup_lock:
            if self._cleaned:
                return
            self._cleaned = True
            try:
                self._cleanup()
            except Exception:  # noqa: BLE001  (ending anyway: nothing to report it to)
                pass

    def begin(self, signum: int) -> None:
        """Told to end (from any thread): ask the app to stop, and end the process after the grace
        period if it has not ended by then; told a second time, end it now."""
        with self._lock:
            again, self.signal = self.signal is not None, self.signal or signum
        if again:
            self._end_now(signum)
        threading.Thread(target=self._watchdog, name="grafient-ending", daemon=True).start()
        if not self._over:
            try:
                self._stop()  # thread-safe: App.exit posts its message through call_soon_threadsafe
            except Exception:  # noqa: BLE001  (the watchdog ends it anyway)
                pass

    def _watchdog(self) -> None:
        threading.Event().wait(self._grace)
        self._end_now(self.signal or signal.SIGTERM)

    def _end_now(self, signum: int) -> None:
        """Clean up, give the terminal back if it is still there, and end the process."""
        try:
            self.cleanup()
            self._restore_terminal()
        finally:
            os._exit(128 + signum)

    def _restore_terminal(self) -> None:
        if self._fd is None:
            return
        # termios.error is no OSError: a hung-up terminal raises it here, and a thread that died of
        # it would never have ended the process.
        with contextlib.suppress(Exception):
            import termios

            if self._modes is not None:
                termios.tcsetattr(self._fd, termios.TCSANOW, self._modes)
        with contextlib.suppress(OSError):
            os.write(self._fd, _RESET)  # a hung-up terminal fails it at once (EIO)

    # -- the threads that notice --------------------------------------------------------

    def _read_signals(self, wakeup: int) -> None:
        """Python runs signal handlers on the main thread only, and only between bytecodes: a main
        thread blocked on Textual's full output queue never runs them (and a hang-up's SIGHUP often
        lands on another thread, as it comes with a SIGCONT). The C handler writes each signal's
        number to the wakeup fd whichever thread takes it: read here, it is acted on at once."""
        while True:
            try:
                data = os.read(wakeup, 64)
            except InterruptedError:
                continue
            except OSError:
                return
            if not data:
                return  # closed: the run is over
            for signum in data:
                if signum in SIGNALS:
                    self.begin(signum)

    def _watch_terminal(self) -> None:
        """Block until the terminal is hung up (or closed), then end as SIGHUP would."""
        poller = select.poll()
        poller.register(self._fd, 0)  # POLLHUP, POLLERR and POLLNVAL are reported whatever the mask
        while True:
            try:
                events = poller.poll()
            except InterruptedError:
                continue
            if events and not self._over and any(mask & (select.POLLHUP | select.POLLERR) for _, mask in events):
                self.begin(signal.SIGHUP)
            return


def _hung_up(fd: int) -> bool:
    """The terminal on `fd` is hung up or gone (a poll that does not wait)."""
    try:
        events = select.poll()
        events.register(fd, 0)
        return any(mask & (select.POLLHUP | select.POLLERR) for _, mask in events.poll(0))
    except (OSError, ValueError):
        return False


def _ignore(_signum: int, _frame: object) -> None:
    """The Python-level handler: nothing (the wakeup fd carries the signal to Ending._read_signals);
    installed so that SIGTERM and SIGHUP no longer kill the process outright."""


@contextlib.contextmanager
def ending_on_signals(
    stop: Callable[[], None],
    *,
    cleanup: Callable[[], None] = lambda: None,
    grace: float = GRACE_SECONDS,
    terminal_fd: int | None = 0,
) -> Iterator[Ending]:
    """While the block runs, SIGTERM, SIGHUP and a hung-up terminal call `stop()` (from a thread: it
    must be thread-safe, as App.exit is), and end the process `grace` seconds later if it is still
    there. `cleanup` runs once on the way out, either way. Only from the main thread."""
    ending = Ending(stop, cleanup, grace, terminal_fd)
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    previous = {sig: signal.signal(sig, _ignore) for sig in SIGNALS}
    previous_wakeup = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    threading.Thread(target=ending._read_signals, args=(read_end,), name="grafient-signals", daemon=True).start()
    if ending._fd is not None and hasattr(select, "poll") and sys.platform != "darwin":  # macOS: no poll on ttys
        threading.Thread(target=ending._watch_terminal, name="grafient-terminal", daemon=True).start()
    try:
        yield ending
    finally:
        ending._over = True
        ending.cleanup()  # with the handlers still ours: a signal now cannot cut the cleanup short
        signal.set_wakeup_fd(previous_wakeup)
        for sig, old in previous.items():
            signal.signal(sig, old)
        os.close(write_end)  # the reader sees end-of-file and stops


def _is_tty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _modes(fd: int | None) -> list | None:
    """The terminal's modes before the app changes them, to put back if the app cannot."""
    if fd is None:
        return None
    try:
        import termios

        return termios.tcgetattr(fd)
    except Exception:  # noqa: BLE001  (termios.error is no OSError)
        return None
