"""Grafient against an API that is hostile or broken on purpose: answers too big or endless,
answers that drip, pagination without end, servers that echo the key back, plaintext
addresses, and a success that is no success.

The network is real (tests/fake_server.py on 127.0.0.1) or faked at the transport; nothing
of ours is patched. No traffic ever leaves the machine.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from grafient_tui.errors import scrub
from grafient_tui.secret import REDACTED, Secret, scrub_known
from tests.conftest import GOOD_KEY

B64_BASIC = base64.b64encode(f"{GOOD_KEY}:".encode()).decode()
FULLY_ENCODED = "".join(f"%{b:02X}" for b in GOOD_KEY.encode())


def echoes(key: str) -> dict[str, str]:
    """What a careless server writes back: a 12-character slice of the key, a slice of the
    base64 of its Basic credentials (in both alphabets), and the whole key percent-encoded."""
    basic = base64.b64encode(f"{key}:".encode()).decode()
    return {
        "slice": key[9:21],
        "b64": basic[14:40],
        "b64url": basic.replace("+", "-").replace("/", "_")[30:50],
        "quoted": quote(key, safe=""),
        "encoded": "".join(f"%{b:02x}" for b in key.encode()),
    }


# ------------------------------------------------------------------ redaction


@pytest.mark.parametrize("key", [GOOD_KEY, "crsr_Zq8+Lm/Np=Xy7&Wv3?Tt0#Rr5Qs"])
def test_redaction_removes_every_slice_and_encoding_of_the_key(key: str) -> None:
    found = echoes(key)
    message = " | ".join(f"{name}={text}" for name, text in found.items())
    for cleaned in (scrub(message, key, limit=10_000), scrub_known_with(key, message)):
        for text in found.values():
            assert text not in cleaned
            assert text.upper() not in cleaned
        assert cleaned.count(REDACTED) == len(found)
        assert "slice=" in cleaned and "encoded=" in cleaned  # the rest of the message survives


def scrub_known_with(key: str, text: str) -> str:
    Secret(key)  # the process has now seen it
    return scrub_known(text)


def test_redaction_leaves_ordinary_messages_alone() -> None:
    for message in ("Invalid API key", "Rate limit exceeded. Please try again later.",
                    "An unexpected error occurred", "key_…d4 was refused"):
        assert scrub(message, GOOD_KEY) == message


def test_redaction_happens_before_the_cut() -> None:
    """Cutting first could leave the first characters of a key at the end of the sentence."""
    message = "x" * 190 + GOOD_KEY
    cleaned = scrub(message, GOOD_KEY)
    assert GOOD_KEY[:8] not in cleaned and len(cleaned) <= 200
