"""`grafient serve`: the app in a browser, through textual-serve.

textual-serve runs a web server whose page is a terminal (xterm.js); each browser tab opens a websocket,
and for each one the server starts a command and pipes the tab to it. Here that command is this same
app (`python -m grafient_tui`, the interpreter that runs the server), on the same store: it inherits
the server's environment (GRAFIENT_HOME, the database settings), so nothing but the program and
`--demo` is on its command line, never a key. A tab closed ends its process (the server tells the app to
quit when its websocket closes); with `--demo` each tab builds its own throwaway demo.

The server listens on a loopback address only: the app shows the team's spend and takes its keys, so
another machine reaches it through SSH forwarding, never through an open port. It also answers only
pages whose Host is a loopback name and websockets whose Origin is one of its own pages (a loopback
name and its port): another website open in the same browser, or a page another local server serves,
cannot drive the app (websockets are not bound by the same-origin policy), even through a
DNS name rebound to 127.0.0.1.

textual-serve (with aiohttp) is the `serve` extra, imported only when the server starts.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shlex
import signal
import socket
import sys
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from grafient_tui.errors import ConfigError
from grafient_tui.untrusted import cap, quoted, visible

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# Tabs served at once, each its own app process: a bound on what one page or script can start.
MAX_TABS = 16
# Seconds a tab's app has to quit once its tab has closed (it takes well under one), before SIGTERM, then SIGKILL.
QUIT_GRACE = 10.0
LOOPBACK_NAMES = ("localhost",)

MISSING_EXTRA = (
    "grafient serve needs Grafient's serve extra (textual-serve): install it with "
    "`uv tool install 'grafient-tui[serve]'`, or run `uv run --extra serve grafient serve`."
)


def forwarding_sentence(host: str, port: int = DEFAULT_PORT) -> str:
    """Why a non-loopback address is refused, and what to do instead."""
    return (
        f"grafient serve listens on this machine only (127.0.0.1), not on {quoted(cap(host, 80))}: "
        f"to use it from another machine, forward the port over SSH with "
        f"`ssh -L {port}:127.0.0.1:{port} host` there, then open http://127.0.0.1:{port}."
    )


def bind_address(host: str, port: int = DEFAULT_PORT) -> str:
    """The loopback address to listen on for `--host`; ConfigError (the SSH sentence) for any other."""
    if host.lower() in LOOPBACK_NAMES:
        return DEFAULT_HOST
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(forwarding_sentence(host, port)) from None
    if not address.is_loopback:
        raise ConfigError(forwarding_sentence(host, port))
    return str(address)


def check_port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port must be between 1 and 65535, not {port}.")
    return port


def public_url(address: str, port: int) -> str:
    """The address a browser on this machine opens (an IPv6 literal in brackets)."""
    shown = f"[{address}]" if ":" in address else address
    return f"http://{shown}:{port}"


def app_argv(*, demo: bool) -> list[str]:
    """What each tab runs: this interpreter, this package, and `--demo` at most. Nothing else: the
    store is chosen by the environment the process inherits, and a key never goes on a command line."""
    return [sys.executable, "-m", "grafient_tui", *(["--demo"] if demo else [])]


def app_command(*, demo: bool) -> str:
    """`app_argv` as the shell line textual-serve runs (it starts each tab through a shell); `exec`
    makes the app the tab's process itself, so ending it leaves no shell behind."""
    return "exec " + shlex.join(app_argv(demo=demo))


def _loopback_name(name: str | None) -> bool:
    if not name:
        return False
    if name.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def same_machine_host(host_header: str | None) -> bool:
    """A request's Host names this machine's loopback (a rebound DNS name does not)."""
    if not host_header:
        return False
    try:
        return _loopback_name(urlsplit("//" + host_header).hostname)
    except ValueError:
        return False


def same_machine_origin(origin: str | None, port: int) -> bool:
    """A websocket's Origin is a page this server served: http, a loopback name and its own `port`.
    Another port is another site to the browser (a dev server, a local file server, another app on
    this machine), and its page must not drive the app any more than a site on the internet."""
    if not origin:
        return False
    try:
        parts = urlsplit(origin)
        return parts.scheme == "http" and _loopback_name(parts.hostname) and (parts.port or 80) == port
    except ValueError:
        return False


SERVER_PID = "GRAFIENT_SERVE_PID"  # set for the tabs' apps: the server that started them


def follow_server(environ: dict[str, str] | None = None) -> None:
    """In a tab's app: end (SIGTERM, which the app handles as a quit) when the server that started it
    dies, even by SIGKILL, which gives it no chance to end its tabs. Linux only (PR_SET_PDEATHSIG); a
    server already gone by now ends the app at once."""
    served_by = (os.environ if environ is None else environ).get(SERVER_PID, "")
    if not served_by.isdigit() or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != int(served_by):
        os.kill(os.getpid(), signal.SIGTERM)


def serve(*, host: str, port: int, demo: bool) -> int:
    """Serve the app until Ctrl+C or SIGTERM; ConfigError for a bad address or a missing extra."""
    check_port(port)
    address = bind_address(host, port)
    try:
        from aiohttp import web
        from textual_serve.app_service import AppService
        from textual_serve.server import Server, to_int
    except ImportError:
        raise ConfigError(MISSING_EXTRA) from None

    url = public_url(address, port)
    each_tab = "each browser tab runs its own demo" if demo else "each browser tab runs its own app on this store"

    class GrafientServer(Server):
        """textual-serve's server with this module's rules, and each tab's app seen to its end."""

        open_tabs: set[AppService] = set()

        def initialize_logging(self) -> None:
            """Quiet: no access log and no rich tracebacks with locals (textual-serve's default)."""
            import logging

            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("grafient serve: %(message)s"))
            for name in ("textual-serve", "aiohttp"):
                logger = logging.getLogger(name)
                logger.handlers[:] = [handler]
                logger.setLevel(logging.WARNING)
                logger.propagate = False

        async def on_startup(self, app: web.Application) -> None:
            print(f"grafient: serving on {visible(url)} ({visible(each_tab)}); press Ctrl+C to stop.", flush=True)

        async def on_shutdown(self, app: web.Application) -> None:
            await asyncio.gather(*(end_tab(tab) for tab in list(self.open_tabs)))

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(only_this_machine)
            return app

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            """textual-serve's own, with the checks first, a bound on tabs, and the tab's app ended
            for sure when its websocket closes (told to quit; then SIGTERM, then SIGKILL, each after
            QUIT_GRACE without an end)."""
            if not same_machine_origin(request.headers.get("Origin"), port):
                raise web.HTTPForbidden(text="grafient serve answers only pages opened from this machine.\n")
            if len(self.open_tabs) >= MAX_TABS:
                raise web.HTTPServiceUnavailable(text=f"grafient serve runs at most {MAX_TABS} tabs at once.\n")
            websocket = web.WebSocketResponse(heartbeat=15)
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            await websocket.prepare(request)

            async def close_page() -> None:  # the app has quit (q in the page)
                await websocket.close()

            tab = AppService(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=close_page,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            self.open_tabs.add(tab)
            try:
                await tab.start(width, height)
                await self._process_messages(websocket, tab)
            finally:
                await end_tab(tab)
                self.open_tabs.discard(tab)
                await websocket.close()
            return websocket

    async def end_tab(tab: AppService) -> None:
        try:
            await asyncio.wait_for(tab.stop(), QUIT_GRACE)  # tells the app to quit, reads it to its end
        except TimeoutError:
            pass
        # AppService keeps its process to itself (`_process`); nothing public says whether it ended.
        process = getattr(tab, "_process", None)
        if process is None or process.returncode is not None:
            return
        for end in (process.terminate, process.kill):  # SIGTERM is a quit too (the demo removes its home)
            try:
                await asyncio.wait_for(process.wait(), QUIT_GRACE)
                return
            except TimeoutError:
                end()
        await process.wait()

    @web.middleware
    async def only_this_machine(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not same_machine_host(request.host):
            raise web.HTTPMisdirectedRequest(text="grafient serve answers only 127.0.0.1 and localhost.\n")
        return await handler(request)

    listening = _listen(address, port, url)
    os.environ[SERVER_PID] = str(os.getpid())  # textual-serve gives each tab's app this environment
    server = GrafientServer(app_command(demo=demo), host=address, port=port, title="Grafient", public_url=url)
    server.initialize_logging()
    loop = asyncio.new_event_loop()
    for ending in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(ending, server.request_exit)
    # textual-serve's own `serve` binds by name, after its start-up has said it serves: the socket
    # bound here first makes a taken port one sentence, and "serving" true when it is printed.
    web.run_app(server._make_app(), sock=listening, handle_signals=False, loop=loop, print=None, access_log=None)
    return 0


def _listen(address: str, port: int, url: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((address, port))
        listening.listen(128)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        listening.close()
        reason = (exc.strerror or type(exc).__name__).lower()
        raise ConfigError(f"cannot listen on {url}: {reason}; choose another --port.") from None
    listening.set_inheritable(False)
    return listening
