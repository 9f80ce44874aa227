"""The crash report: Textual's, minus local variables (a key could be in one), with known keys scrubbed."""

from __future__ import annotations

import sys

from textual.app import App


class CrashReportWithoutSecrets(App[None]):
    """An App whose crash report shows no local variable and no key it knows of.

    tests/tui/test_tui.py checks, next to an end-to-end crash, that Textual still calls the private
    hook overridden here, and the way this override relies on."""

    def _fatal_error(self) -> None:
        """The one private hook we override, because nothing public can do it: Textual's
        `_handle_exception` calls `_fatal_error` for any exception without `__rich__`, and that
        prints a rich Traceback with `show_locals=True`. It runs inside the `except` that caught
        the error (Textual's own Traceback reads `sys.exc_info()` too), but a failed worker reaches
        it wrapped in the WorkerFailed that Textual has just recorded as the app's error (and that
        run_test re-raises), so that one is reported as such. The report goes out through the
        public `panic`.
        """
        import traceback

        from rich.text import Text

        from grafient_tui.secret import scrub_known

        error = sys.exc_info()[1]
        recorded = self._exception  # the app's first unhandled error, set just before this call
        if recorded is not None and (error is None or error is recorded or error is getattr(recorded, "error", None)):
            error = recorded
        self.bell()
        if error is None:
            report = "grafient: unexpected error\n"
        else:
            report = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        # Unwrapped: panic renders at the screen's width, and a wrapped line would split what it quotes.
        self.panic(Text(scrub_known(report), style="red", no_wrap=True, overflow="ignore"))
