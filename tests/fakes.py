"""Test instrumentation on top of the demo's fakes: call counters and fast, cached event JSON.

The fakes in grafient_tui keep only what the demo needs; the tests' counts of what a client
asked for, and the encoding speed-ups large tests lean on, live here.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable

import httpx

from grafient_tui.providers.cursor.fake import FakeCursorTeam


def _make_row_encoder() -> Callable[[dict], bytes]:
    """Compact JSON for one event; the C encoder built once is ~40% faster than json.dumps per call.

    `c_make_encoder` is a CPython internal: where it is missing or changed, json.dumps is used."""
    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]

        if c_make_encoder is None:
            raise ImportError
        encoder = c_make_encoder(None, _reject, encode_basestring_ascii, None, ":", ",", False, False, True)
        return lambda row: encoder(row, 0)[0].encode()
    except (ImportError, TypeError):
        return lambda row: json.dumps(row, separators=(",", ":")).encode()


def _reject(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_encode_row = _make_row_encoder()


class CountingCursorTeam(FakeCursorTeam):
    """A FakeCursorTeam that counts the requests it serves, per path and for usage-event pages."""

    def __init__(self, **kwargs: object) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.event_requests = 0
        # The JSON text of each event by id(), holding the event so its id stays its own.
        self._encoded: dict[int, tuple[dict, bytes]] = {}
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def invalidate(self) -> None:
        super().invalidate()
        self._encoded.clear()

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls[request.url.path] += 1
        return super().handler(request)

    def _usage_events(self, request: httpx.Request) -> httpx.Response:
        response = super()._usage_events(request)
        if response.status_code == 200:
            self.event_requests += 1
        return response

    def _row_json(self, row: dict) -> bytes:
        cached = self._encoded.get(id(row))
        if cached is not None and cached[0] is row:
            return cached[1]
        data = _encode_row(row)
        self._encoded[id(row)] = (row, data)
        return data
