"""A wrapper that keeps an API key out of reprs, logs and tracebacks' locals."""

from __future__ import annotations


def key_hint(api_key: str) -> str:
    """The only part of a key we ever show: its prefix and last four characters."""
    prefix = api_key.split("_", 1)[0] + "_" if "_" in api_key[:8] else ""
    return f"{prefix}…{api_key[-4:]}" if len(api_key) >= 8 else "…"


class Secret:
    """Holds a key; prints as its hint. Call `reveal()` only where the key is sent."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        _remember(value)

    def reveal(self) -> str:
        return self._value

    @property
    def hint(self) -> str:
        return key_hint(self._value)

    def __repr__(self) -> str:
        return f"Secret({self.hint})"

    __str__ = __repr__

    def __reduce__(self):  # never pickled into a file by accident
        raise TypeError("a Secret cannot be pickled")


# Every key this process has held, so last-resort output (debug tracebacks,
# log records) can be scrubbed even if a key slipped into some text.
_seen: set[str] = set()


def _remember(value: str) -> None:
    if len(value) >= 8:
        _seen.add(value)


def scrub_known(text: str) -> str:
    for value in _seen:
        text = text.replace(value, "[redacted]")
    return text
