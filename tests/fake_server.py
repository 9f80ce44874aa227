"""A real HTTP server on 127.0.0.1 that serves a FakeCursorTeam, with faults on demand.

The tests point Grafient at it with GRAFIENT_CURSOR_API_URL=http://127.0.0.1:PORT, so the
whole stack runs for real: httpx, sockets, HTTP/1.1 keep-alive, Content-Length, and
connections closed in the middle of a body. Nothing of ours is patched.

Faults, all decided by a seeded random.Random:
  - 5xx and truncated 200 bodies come from a shuffled deck per block of `deck_size`
    answered requests, so "15% 5xx" means exactly 3 in every 20 (a random draw per request
    could miss a kind in a short run). The 5xx go round 500, 502, 503, 504; truncations
    alternate between a short body with a matching Content-Length (the client reads bad
    JSON) and a full Content-Length with the connection closed mid-body (the client sees
    a protocol error).
  - a rolling rate limit: at most `rate_limit` answered requests per `rate_window`
    seconds; over it, 429 with Retry-After (seconds, or an HTTP date) or without. The seconds
    are the plan's `clock`'s: a FakeClock that ticks with every request makes the limit one of
    requests (which 429s come no longer depends on how fast the machine sends them).
  - slow answers: a delay before the first byte or in the middle of the body; with
    `stall_until_hangup`, a stall that lasts until the client gives up and closes the connection
    (so a client's timeout fires however slow the machine is, and never a moment too late).
  - `script`: fault names served first, in order, for tests that must see each kind
    ("ok" for a clean answer in between, so no request runs out of tries).
  - `outage`: answered requests [a, b) all get 503, e.g. to make a run exhaust its retries.
  - `delay`: every usage-events answer waits this long (keeps a backfill busy for the
    SIGKILL test).
  - `hold_events_after`: the usage-events requests after the first N get no answer: each is held
    until the client gives up and closes the connection (`held` and `hung_up` count them).
  - `hostile`: a mode for requests to `hostile_path` (tests/providers/test_hostile_api.py), served
    instead of the team's answer:
      "gzip-bomb"     a small gzip body (Content-Encoding: gzip) that inflates to `bomb_mb` MB
                      of valid JSON (an empty page padded with spaces);
      "endless"       a chunked 200 whose body never ends;
      "drip"          the team's real answer, one byte every `drip_seconds`;
      "endless-pages" pages that always have a next one, each with `page_events` events
                      carrying `new_models` new models and `new_members` new members;
      "echo"          401 on /teams/members and 500 elsewhere, whose `message` echoes a
                      slice of the presented key, a slice of its base64 and the whole key
                      percent-encoded (whatever hostile_path says);
      "answer"        `answer` (bytes) as a 200 JSON body.
    The mode can be switched while the server runs (`server.plan.hostile = ...`);
    `server.hostile_served` counts the requests it answered.

The server runs in a daemon thread and is used as a context manager; leaving the block
shuts it down and closes every open connection. Handler threads also time out idle
keep-alive connections, so nothing outlives the test.
"""

from __future__ import annotations

import base64
import collections
import email.utils
import json
import math
import random
import select
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import httpx

from grafient_tui.providers.cursor.fake import FakeCursorTeam

EVENTS_PATH = "/teams/filtered-usage-events"
FAULT_NAMES = ("500", "502", "503", "504", "short", "close", "429", "429-seconds", "429-date", "slow", "slow-body")


@dataclass
class FaultPlan:
    server_error_rate: float = 0.0
    truncate_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: tuple[float, float] = (0.01, 0.1)
    stall_until_hangup: bool = False
    rate_limit: int | None = None
    rate_window: float = 1.0
    clock: Callable[[], float] = time.monotonic  # read once per request, for the rate limit
    retry_after_rate: float = 0.5  # of the 429s, how many carry Retry-After
    deck_size: int = 20
    script: list[str] = field(default_factory=list)
    outage: tuple[int, int] | None = None
    delay: float = 0.0
    hold_events_after: int | None = None
    hostile: str | None = None
    hostile_path: str = EVENTS_PATH
    bomb_mb: int = 50
    drip_seconds: float = 0.5
    page_events: int = 1
    new_models: int = 0
    new_members: int = 0
    answer: bytes = b"{}"


class FaultyCursorServer:
    """`with FaultyCursorServer(team, plan, seed=1) as server: server.url`"""

    def __init__(self, team: FakeCursorTeam, plan: FaultPlan | None = None, *, seed: int = 0) -> None:
        self.team = team
        self.plan = plan or FaultPlan()
        self._rng = random.Random(seed)
        self._deck_rng = random.Random(seed + 1)
        self._lock = threading.Lock()  # guards the counters, the RNGs and the team
        self._deck: list[str | None] = []
        self._errors_dealt = 0
        self._truncations_dealt = 0
        self._script = list(self.plan.script)
        self._admitted: collections.deque[float] = collections.deque()
        self.answered = 0  # requests that got past the rate limit
        self.completed = 0  # answers fully written (faulty or not)
        self.faults: collections.Counter[str] = collections.Counter()
        self.hostile_served = 0
        self.drips_finished = 0  # "drip" answers sent to their last byte
        self._events_seen = 0
        self.held = 0  # usage-events requests held unanswered (hold_events_after)
        self.hung_up = 0  # ... whose client then gave up
        self._bomb: bytes | None = None
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultyCursorServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.handle_error = lambda request, address: None  # a client that went away is not news
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-cursor-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._server = None

    # ------------------------------------------------------------------ decisions

    def _decide(self) -> _Decision:
        """What the next request gets: a fault (or None), and the numbers that fault needs."""
        plan = self.plan
        with self._lock:
            now = plan.clock()
            low, high = plan.slow_seconds
            decision = _Decision(None, self._rng.uniform(low, high), 0.0, self._rng.random())
            if self._script:
                decision.fault = self._script.pop(0)
                if not decision.fault.startswith("429"):
                    self.answered += 1
                return decision
            if plan.rate_limit is not None:
                while self._admitted and now - self._admitted[0] >= plan.rate_window:
                    self._admitted.popleft()
                if len(self._admitted) >= plan.rate_limit:
                    decision.wait = plan.rate_window - (now - self._admitted[0])
                    roll = self._rng.random()
                    if roll >= plan.retry_after_rate:
                        decision.fault = "429"
                    else:
                        decision.fault = "429-seconds" if roll < plan.retry_after_rate / 2 else "429-date"
                    return decision
                self._admitted.append(now)
            index = self.answered
            self.answered += 1
            if plan.outage is not None and plan.outage[0] <= index < plan.outage[1]:
                decision.fault = "503"
                return decision
            decision.fault = self._draw()
            if decision.fault is None and self._rng.random() < plan.slow_rate:
                decision.fault = self._rng.choice(("slow", "slow-body"))
            return decision

    def _new_deck(self) -> list[str | None]:
        plan = self.plan
        size = plan.deck_size
        deck: list[str | None] = ["5xx"] * round(plan.server_error_rate * size)
        deck += ["truncate"] * round(plan.truncate_rate * size)
        deck += [None] * (size - len(deck))
        self._deck_rng.shuffle(deck)
        return deck

    def _draw(self) -> str | None:
        """The next card; flavours go round in turn, so a short run still sees each of them."""
        if not self._deck:
            self._deck = self._new_deck()
        card = self._deck.pop()
        if card == "5xx":
            card = ("500", "502", "503", "504")[self._errors_dealt % 4]
            self._errors_dealt += 1
        elif card == "truncate":
            card = ("short", "close")[self._truncations_dealt % 2]
            self._truncations_dealt += 1
        return card

    def _answer(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            return self.team.handler(request)

    def gzip_bomb(self) -> bytes:
        """`bomb_mb` MB of JSON (`{"usageEvents": [` + spaces + `]}`), gzip-compressed to ~1/1000."""
        if self._bomb is None:
            squeeze = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
            spaces = b" " * (1024 * 1024)
            parts = [squeeze.compress(b'{"usageEvents": [')]
            parts += [squeeze.compress(spaces) for _ in range(self.plan.bomb_mb)]
            parts += [squeeze.compress(b"]}"), squeeze.flush()]
            self._bomb = b"".join(parts)
        return self._bomb


def echoed_key(authorization: str) -> str:
    """What a careless server writes back about the key it was sent: a 12-character slice,
    a slice of the base64 Basic credentials, and the whole key percent-encoded."""
    basic = authorization.removeprefix("Basic ")
    key = base64.b64decode(basic).decode().removesuffix(":")
    encoded = "".join(f"%{b:02X}" for b in key.encode())
    return f"key {key[9:21]} was refused (credentials {basic[14:40]}); url {quote(key, safe='')}; enc {encoded}"


@dataclass
class _Decision:
    fault: str | None
    delay: float  # for slow answers
    wait: float  # for 429: how long until the window has room again
    cut: float  # for truncation: the fraction of the body sent


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # an idle keep-alive connection ends its thread after this
    server_owner: FaultyCursorServer

    def setup(self) -> None:
        super().setup()
        with self.server_owner._lock:
            self.server_owner._connections.add(self.connection)

    def finish(self) -> None:
        with self.server_owner._lock:
            self.server_owner._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        owner = self.server_owner
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        mode = owner.plan.hostile
        if mode is not None and (mode == "echo" or self.path == owner.plan.hostile_path):
            with owner._lock:
                owner.hostile_served += 1
            try:
                self._serve_hostile(mode, body)
            except OSError:
                pass  # the client gave up, which is the point
            self.close_connection = True
            return
        if owner.plan.hold_events_after is not None and self.path == EVENTS_PATH:
            with owner._lock:
                owner._events_seen += 1
                hold = owner._events_seen > owner.plan.hold_events_after
                owner.held += hold
            if hold:
                self._wait_for_hangup()
                with owner._lock:
                    owner.hung_up += 1
                return
        decision = owner._decide()
        fault, delay = decision.fault, decision.delay
        if fault == "ok":
            fault = None
        if fault is not None:
            with owner._lock:
                owner.faults[fault] += 1
        try:
            if fault is not None and fault.startswith("429"):
                self._send_429(fault, decision.wait)
                return
            if fault in ("500", "502", "503", "504"):
                self._send_5xx(int(fault))
                return
            request = httpx.Request(
                self.command,
                f"http://127.0.0.1{self.path}",
                headers=[(k, v) for k, v in self.headers.items()],
                content=body,
            )
            response = owner._answer(request)
            content = response.content
            if owner.plan.delay and request.url.path == EVENTS_PATH:
                time.sleep(owner.plan.delay)
            if fault == "slow" and self._stall(delay):
                return  # the client gave up first
            headers = [
                (k, v)
                for k, v in response.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "connection")
            ]
            if fault == "short" and content:
                cut = int(len(content) * decision.cut)
                self._send(response.status_code, headers, content[:cut])
            elif fault == "close" and content:
                cut = int(len(content) * decision.cut)
                self._send_head(response.status_code, headers, len(content))
                self.wfile.write(content[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif fault == "slow-body" and len(content) > 1:
                half = len(content) // 2
                self._send_head(response.status_code, headers, len(content))
                self.wfile.write(content[:half])
                self.wfile.flush()
                if self._stall(delay):
                    return  # the client gave up first
                self.wfile.write(content[half:])
            else:
                self._send(response.status_code, headers, content)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client hung up (or was killed)
            return
        with owner._lock:
            owner.completed += 1

    def _stall(self, delay: float) -> bool:
        """Wait `delay` seconds, or with `stall_until_hangup` until the client closes the connection
        (or the server stops); True when the client has gone."""
        if not self.server_owner.plan.stall_until_hangup:
            time.sleep(delay)
            return False
        self._wait_for_hangup()
        return True

    def _wait_for_hangup(self) -> None:
        """Until the client closes the connection (or the server stops, which shuts every one)."""
        while True:
            readable, _, _ = select.select([self.connection], [], [], 1.0)
            if not readable:
                continue  # the server's stop() shuts every connection, which ends this too
            try:
                gone = not self.connection.recv(1, socket.MSG_PEEK)
            except OSError:
                gone = True
            if gone:
                self.close_connection = True
                return
            time.sleep(0.05)  # bytes from a client that is still there: it may not send more before it gives up

    def _serve_hostile(self, mode: str, body: bytes) -> None:
        owner = self.server_owner
        plan = owner.plan
        # One connection per hostile answer, said out loud: the client must not send its next
        # request on a connection this side is about to close (that would be a different fault).
        json_type = [("Content-Type", "application/json"), ("Connection", "close")]
        if mode == "gzip-bomb":
            self._send(200, [*json_type, ("Content-Encoding", "gzip")], owner.gzip_bomb())
        elif mode == "endless":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            head, chunk = b'{"usageEvents": [', b" " * 65536
            self.wfile.write(b"%x\r\n%s\r\n" % (len(head), head))
            stop = time.monotonic() + 60  # never outlives a broken test by much
            while time.monotonic() < stop:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        elif mode == "drip":
            request = httpx.Request(
                self.command,
                f"http://127.0.0.1{self.path}",
                headers=[(k, v) for k, v in self.headers.items()],
                content=body,
            )
            content = owner._answer(request).content
            self._send_head(200, json_type, len(content))
            for i in range(len(content)):
                self.wfile.write(content[i : i + 1])
                self.wfile.flush()
                time.sleep(plan.drip_seconds)
            with owner._lock:
                owner.drips_finished += 1
        elif mode == "endless-pages":
            query = json.loads(body or b"{}")
            page, start = int(query.get("page", 1)), int(query.get("startDate", 0))
            events = []
            for i in range(plan.page_events):
                model = f"model-{page}-{i % plan.new_models}" if plan.new_models else "gpt-5"
                member = f"m{page}-{i % plan.new_members}@x.io" if plan.new_members else "a@x.io"
                events.append(
                    {
                        "timestamp": str(start + page * 1000 + i),
                        "userEmail": member,
                        "model": model,
                        "kind": "Usage-based",
                        "isChargeable": True,
                        "chargedCents": 1,
                        "requestsCosts": 1,
                    }
                )
            answer = {"usageEvents": events, "pagination": {"currentPage": page, "pageSize": 1000, "hasNextPage": True}}
            self._send(200, json_type, json.dumps(answer).encode())
        elif mode == "echo":
            message = echoed_key(self.headers.get("authorization", ""))
            if self.path == "/teams/members":
                self._send(401, json_type, json.dumps({"error": "Unauthorized", "message": message}).encode())
            else:
                self._send(500, json_type, json.dumps({"error": "Internal Server Error", "message": message}).encode())
        elif mode == "answer":
            self._send(200, json_type, plan.answer)
        else:
            raise ValueError(f"unknown hostile mode {mode!r}")
        self.wfile.flush()

    def _send_head(self, status: int, headers: list[tuple[str, str]], length: int) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
        self._send_head(status, headers, len(content))
        self.wfile.write(content)

    def _send_429(self, fault: str, wait: float) -> None:
        headers = [("Content-Type", "application/json")]
        if fault == "429-seconds":
            headers.append(("Retry-After", str(math.ceil(wait))))  # whole seconds, as servers send it
        elif fault == "429-date":
            headers.append(("Retry-After", email.utils.formatdate(math.ceil(time.time() + wait), usegmt=True)))
        self._send(
            429, headers, b'{"error":"Too Many Requests","message":"Rate limit exceeded. Please try again later."}'
        )
        self.wfile.flush()

    def _send_5xx(self, status: int) -> None:
        if status == 500:
            self._send(
                500,
                [("Content-Type", "application/json")],
                b'{"error":"Internal Server Error","message":"An unexpected error occurred"}',
            )
        else:
            self._send(status, [("Content-Type", "text/html")], f"<html><h1>{status}</h1></html>".encode())
        self.wfile.flush()


_closed_ports: list[socket.socket] = []


def closed_port_url() -> str:
    """An http URL on a loopback port nothing listens on (connection refused). The port stays bound,
    never listening, as long as this process lives: another test's server (in another xdist worker)
    cannot take it meanwhile and answer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _closed_ports.append(sock)
    return f"http://127.0.0.1:{sock.getsockname()[1]}"
