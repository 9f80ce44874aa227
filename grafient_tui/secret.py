"""A wrapper that keeps an API key out of reprs, logs and tracebacks' locals; the one key-shape check."""

from __future__ import annotations

import base64
import re

KEY_IN_ARGV = "that looks like an API key; keys are read from standard input, never from the command line"

_KEY_PREFIX = re.compile(r"(?i)(key_|crsr_|sk-|sk_)[A-Za-z0-9_\-]{12,}")
_KEYISH = re.compile(r"[A-Za-z0-9_\-+/=.]{24,}")


def looks_like_key(text: str) -> bool:
    """True for text shaped like an API key: a key prefix (`key_`, `crsr_`, `sk-`) and 12 more
    characters, or a token of 24+ key characters with a 20+ character stretch (between `-`, `_`
    and `.`) that mixes letters and digits, as random tokens do and labels like
    `platform-engineering-2026` do not. Such text is never echoed back."""
    text = text.strip()
    if _KEY_PREFIX.fullmatch(text):
        return True
    if not _KEYISH.fullmatch(text):
        return False
    return any(len(part) >= 20 and re.search(r"[A-Za-z]", part) and re.search(r"\d", part)
               for part in re.split(r"[-_.]", text))


def key_hint(api_key: str) -> str:
    """What may be shown of a key: its prefix (`key_`, `crsr_`) and its last four characters."""
    cut = api_key.find("_")
    prefix = api_key[: cut + 1] if 0 <= cut < 8 else ""
    rest = api_key[len(prefix) :]
    # A key too short to be real would be given away by its last four characters.
    return f"{prefix}…{rest[-4:]}" if len(rest) >= 12 else f"{prefix}…"


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
        try:  # and the key as it goes on the wire: the Basic credentials of the Authorization header
            _seen.add(base64.b64encode(f"{value}:".encode()).decode("ascii"))
        except UnicodeEncodeError:
            pass  # not sendable, so never sent


def scrub_known(text: str) -> str:
    for value in _seen:
        text = text.replace(value, "[redacted]")
    return text
