"""JSON as the providers' APIs write it, for the in-memory fakes: a Decimal is written as the number it
is (`11.97026278`, `3E-8`), never through a binary float, so a fake can send the exact amounts a test
then expects to the micro-cent."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\u0000D:"
_MARKED = re.compile(r'"\\u0000D:([^"]+)"')


def exact_json(data: Any) -> bytes:
    """`data` as compact JSON, its Decimals written as JSON numbers from their own digits."""

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            return _MARK + str(value)
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    return _MARKED.sub(r"\1", json.dumps(mark(data), separators=(",", ":"))).encode()
