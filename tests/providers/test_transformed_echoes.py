"""A key a server echoes back transformed (another case, backwards, spaced out, split by zero-width
characters, as HTML character references) is redacted like a key echoed as it was: never in an
error sentence, the terminal, the sync log viewers read, or any file."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import httpx
import pytest
import respx
from sqlmodel import select

from grafient_tui.config import Settings
from grafient_tui.errors import scrub
from grafient_tui.providers.cursor.fake import FakeCursorTeam
from grafient_tui.store.db import Database
from grafient_tui.store.models import SyncRun
from tests.helpers import all_bytes_under, run_cli

KEY = "key_" + "7Hq2xLm9Vc4Rt8Wz" * 4
NOW = "2026-03-12T10:30:00+00:00"

TRANSFORMS: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "swapped case": str.swapcase,
    "reversed": lambda k: k[::-1],
    "spaced": " ".join,
    "zero-width spaces": "\u200b".join,
    "word joiners and soft hyphens": lambda k: "".join(c + ("\u2060" if i % 2 else "\u00ad") for i, c in enumerate(k)),
    "decimal entities": lambda k: "".join(f"&#{ord(c)};" for c in k),
    "hex entities": lambda k: "".join(f"&#x{ord(c):x};" for c in k),
    "a slice, upper, spaced": lambda k: " ".join(k[10:30].upper()),
    "reversed and entities": lambda k: "".join(f"&#{ord(c)};" for c in k[::-1]),
}


def leaked(text: str, key: str = KEY) -> list[str]:
    """Any 8 characters of the key (either way round, any case) that a reader could still make out of
    `text` once references are decoded and what hides between characters is taken out."""
    plain = re.sub(r"[\s\u00ad\u200b-\u200f\u2060\ufeff]", "", html.unescape(text)).casefold()
    found = []
    for form in (key.casefold(), key[::-1].casefold()):
        found += [form[i : i + 8] for i in range(len(form) - 7) if form[i : i + 8] in plain]
    return found


@pytest.mark.parametrize("transform", TRANSFORMS.values(), ids=TRANSFORMS.keys())
def test_a_transformed_echo_is_redacted(transform: Callable[[str], str]) -> None:
    message = f"invalid credentials: {transform(KEY)} (request 42)"
    cleaned = scrub(message, KEY, limit=10_000)
    assert leaked(cleaned) == [], cleaned
    assert "[redacted]" in cleaned and cleaned.startswith("invalid credentials: ") and "(request 42)" in cleaned


def test_ordinary_text_is_left_alone() -> None:
    for message in ("rate limit exceeded; retry in 20 s", "Workspace &amp; Team: 7 members", "A B C D E F G H I J"):
        assert scrub(message, KEY) == message


def echoing(transform: Callable[[str], str]) -> Callable[[httpx.Request], httpx.Response]:
    team = FakeCursorTeam(api_key=KEY, events=[], members=[{"name": "A", "email": "a@x.io", "role": "owner"}])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/filtered-usage-events"):
            return httpx.Response(500, json={"message": f"upstream rejected {transform(KEY)}"})
        return team.handler(request)

    return handler


@pytest.mark.parametrize("name", ["upper", "reversed", "zero-width spaces", "hex entities"])
def test_an_echo_reaches_neither_the_terminal_nor_the_sync_log(capsys, monkeypatch, grafient_home, name: str) -> None:
    monkeypatch.setenv("GRAFIENT_NOW", NOW)
    monkeypatch.setenv("GRAFIENT_BACKOFF_BASE", "0")
    with respx.mock(base_url="https://api.cursor.com", assert_all_called=False) as router:
        router.route().mock(side_effect=echoing(TRANSFORMS[name]))
        added = run_cli(capsys, monkeypatch, "add", "cursor", "--label", "Eng", "--no-backfill", stdin=KEY)
        assert added.code == 0, added
        synced = run_cli(capsys, monkeypatch, "sync")
    assert synced.code == 1 and "HTTP 500" in synced.out and "[redacted]" in synced.out, synced
    with Database(Settings.from_env()).session() as session:
        errors = [run.error or "" for run in session.exec(select(SyncRun))]
    assert any("[redacted]" in e for e in errors)
    for text in (synced.out, synced.err, *errors):
        assert leaked(text) == [], text
    on_disk = all_bytes_under(grafient_home).decode("utf-8", "replace")
    assert leaked(on_disk) == []


def test_a_service_account_key_file_redacts_its_private_key_never_its_public_parts() -> None:
    """A Google key file is JSON whose one secret is its private key: its project id, email and Google's
    URLs are public, and redacting every run of 8 of their characters (in any case) turned a sentence
    naming GRAFIENT_MASTER_KEY into "[redacted]_MASTER_KEY" once a key of project "grafient-reader"
    had been read in the process."""
    import json

    from grafient_tui.providers.google.fake import service_account_key
    from grafient_tui.secret import remember_secret, scrub_known

    key = service_account_key(seed=7, project_id="grafient-reader")
    info = json.loads(key)
    sentence = (
        "cannot decrypt stored keys: GRAFIENT_MASTER_KEY is not valid base64; service_account "
        f"{info['client_email']} of GRAFIENT-READER at https://oauth2.googleapis.com/token"
    )
    # What this process redacts is every secret it has held (other tests' too): remembering the key
    # file must take nothing more out of the sentence.
    before = scrub_known(sentence)
    remember_secret(key)
    assert scrub_known(sentence) == before
    assert scrub(sentence, key, limit=10_000) == sentence

    lines = [line for line in info["private_key"].splitlines() if line and "-----" not in line]
    body = "".join(lines)
    for echoed in (info["private_key"], json.dumps(info), body, body[100:160].upper(), " ".join(body[300:340])):
        # Bars around the echo: the key is random (RSA), and a letter of "key" or "end" next to it may
        # continue a spaced or case-changed run of it, which redaction then rightly takes too.
        said = f"bad key | {echoed} | end"
        for out in (scrub_known(said), scrub(said, key, limit=100_000)):
            assert out.startswith("bad key |") and out.endswith("| end") and "[redacted]" in out
            assert not any(line[i : i + 8] in out for line in lines for i in range(0, len(line) - 8, 8))
