"""Errors a user can act on. Each carries one sentence fit to show as it is.

Nothing here may hold an API key: the sentences are built from fixed text,
status codes and server messages that have been scrubbed (see `scrub`).
"""

from __future__ import annotations


class GrafientError(Exception):
    """An error with a user-facing sentence. `exit_code` is what the CLI returns."""

    exit_code = 2

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence


class ConfigError(GrafientError):
    """A bad setting, environment variable or argument."""


class Unidentified(ConfigError):
    """The key is good, but its account cannot be identified, so "one account, one integration" cannot
    be checked: refused unless the user says the account is not connected yet (--allow-unidentified)."""


class VaultError(GrafientError):
    """Stored keys cannot be encrypted or decrypted."""


class StoreError(GrafientError):
    """The database failed (disk full, locked, corrupt; a team's server unreachable or refusing).

    `transient`: a second try a moment later may get past it (the connection was cut, the server
    was restarting, a deadlock was resolved against us)."""

    def __init__(self, sentence: str, *, transient: bool = False, code: str | None = None) -> None:
        super().__init__(sentence)
        self.transient = transient
        self.code = code  # a team server's SQLSTATE, where it gave one (55P03: a lock timeout)


class NotFound(GrafientError):
    """No integration with that id or label."""


class SyncBusy(GrafientError):
    """A sync of that integration is running (in this process or another), so it cannot change now."""


def scrub(text: str, *secrets: str, limit: int = 200) -> str:
    """Redact every secret from text and cut it to `limit` characters.

    Used on anything that came from outside (server messages) before it goes into an
    error sentence. Redaction (see `secret.redact`) removes any run of 8 or more
    characters of a secret, of its base64 and of its percent-encoding, and happens
    before the cut, so a cut can never leave half a key behind.
    """
    from grafient_tui.secret import redact_keys
    from grafient_tui.untrusted import visible

    text = redact_keys(text, *secrets)
    # Escapes made visible here, at the one door server text comes through: a sentence is shown
    # by the app, printed by the CLI and stored in the sync log, and must drive no terminal.
    text = visible(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
