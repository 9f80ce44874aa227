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

A loopback port is open to every user of the machine, so the server also asks for a sign-in. At start it
makes a per-run secret and prints ONE link, `http://127.0.0.1:PORT/?token=...`, on its standard output
(with the "serving on" line, once, nowhere else: not logged, not in any tab's argv or environment). The
first visit with that token is answered with an HttpOnly, SameSite=Strict session cookie (another random
value, compared in constant time) and a redirect to `/` without the token; the token is then spent, and
any later visit with it is refused. Every request without the session cookie (the page, its static files,
the websocket, downloads) gets a 403 and one sentence. Printing the link is acceptable, as with
Jupyter's token link, because it is a secret spent on first use and dead with the process: whoever reads
the terminal afterwards (a scrollback, a log the user redirected it to) holds nothing usable. It is not a
provider key, and no key is ever printed. Cookies are not kept apart by port (the cookie's name carries
it, so two servers do not clash): a page another user serves on this machine's loopback would receive
it if opened in the same browser. A lost link: restart `grafient serve` for a new one.

The page is textual-serve's, from serve_page.html: without its Google Fonts stylesheet, so nothing
leaves the machine when it opens (the terminal uses a local monospace font); its Content-Security-Policy
has the browser fetch from this server only, and lets no other page frame it.

textual-serve (with aiohttp) is the `serve` extra, imported only when the server starts.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
import os
import secrets
import shlex
import signal
import socket
import string
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal
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


# A request without the session cookie: one sentence, whatever it asked for.
SIGN_IN_FIRST = (
    "grafient serve: open the sign-in link that grafient serve printed when it started "
    "(or restart grafient serve for a new link).\n"
)
LINK_SPENT = (
    "grafient serve: this sign-in link has already been used; it works once, in one browser "
    "(restart grafient serve for a new link).\n"
)
PAGE = Path(__file__).with_name("serve_page.html")
NO_STORE = {"Cache-Control": "no-store"}
# The browser itself holds the page to this server: nothing fetched from elsewhere, even if textual-serve's
# script one day asked for it, and no other page may frame it.
PAGE_POLICY = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}


class SignIn:
    """The run's one sign-in link and the session it opens: two random values made at start, neither
    ever shown but the token in the link printed once (repr shows neither)."""

    def __init__(self, port: int) -> None:
        self._token = secrets.token_urlsafe(32)
        self._session = secrets.token_urlsafe(32)
        self._spent = False
        # Browsers keep cookies by host, not by port: the port in the name keeps two servers apart.
        self.cookie_name = f"grafient_serve_{port}"

    def __repr__(self) -> str:
        return f"SignIn(cookie_name={self.cookie_name!r}, spent={self._spent})"

    def link(self, url: str) -> str:
        """The sign-in link on the server's address `url`."""
        return f"{url}/?token={self._token}"

    def redeem(self, token: str) -> Literal["opened", "spent", "wrong"]:
        """A visit with `token`: the first right one opens the session (its cookie is then `session`)."""
        if not _same(token, self._token):
            return "wrong"
        if self._spent:
            return "spent"
        self._spent = True
        return "opened"

    @property
    def session(self) -> str:
        """The session cookie's value: only for the response that sets it."""
        return self._session

    def admits(self, cookie: str | None) -> bool:
        """A request's session cookie is this run's (only once the link has been used)."""
        return self._spent and cookie is not None and _same(cookie, self._session)


def _same(given: str, expected: str) -> bool:
    """Constant time in the value (a length is no secret: both are 43 characters by construction)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def websocket_url(host_header: str, port: int) -> str:
    """The page's websocket on the loopback name the browser used (its cookie is kept by that name), on
    this server's port. `host_header` has passed `same_machine_host`."""
    name = urlsplit("//" + host_header).hostname or DEFAULT_HOST
    return "ws" + public_url(name, port).removeprefix("http") + "/ws"


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
    sign_in = SignIn(port)
    page = string.Template(PAGE.read_text(encoding="utf-8"))
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
            # The one place the link is shown: this terminal (standard output), once.
            print(
                f"grafient: serving on {visible(url)} ({visible(each_tab)}); press Ctrl+C to stop.\n"
                f"grafient: sign in at {visible(sign_in.link(url))} (the link works once, in one browser; "
                "restart grafient serve for a new one).",
                flush=True,
            )

        async def on_shutdown(self, app: web.Application) -> None:
            await asyncio.gather(*(end_tab(tab) for tab in list(self.open_tabs)))

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(only_this_machine)
            app.middlewares.append(signed_in)
            return app

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            """serve_page.html: textual-serve's page, nothing fetched from another host."""
            font_size = min(max(to_int(request.query.get("fontsize", "16"), 16), 6), 64)
            text = page.substitute(
                websocket_url=html.escape(websocket_url(request.host, port)), font_size=str(font_size)
            )
            return web.Response(text=text, content_type="text/html", headers={**NO_STORE, **PAGE_POLICY})

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

    @web.middleware
    async def signed_in(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """The link's first visit opens the session (cookie, then `/` without the token); any other
        request needs the cookie. Nothing here awaits between the check and the spending of the token."""
        tokens = request.query.getall("token", [])
        if tokens and request.path == "/":
            outcome = sign_in.redeem(tokens[0]) if len(tokens) == 1 and request.method == "GET" else "wrong"
            if outcome == "opened":
                opened = web.Response(status=303, headers={"Location": "/", **NO_STORE})
                opened.set_cookie(sign_in.cookie_name, sign_in.session, path="/", httponly=True, samesite="Strict")
                return opened
            raise web.HTTPForbidden(text=LINK_SPENT if outcome == "spent" else SIGN_IN_FIRST, headers=NO_STORE)
        if not sign_in.admits(request.cookies.get(sign_in.cookie_name)):
            raise web.HTTPForbidden(text=SIGN_IN_FIRST, headers=NO_STORE)
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
