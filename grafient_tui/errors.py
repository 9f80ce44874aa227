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


class CorruptRow(StoreError):
    """A stored value its column's type cannot hold (a row written by something else than Grafient):
    the sentence names the table, the row and the column, never the value (store/row_check.py)."""


class NotFound(GrafientError):
    """No integration with that id or label."""


class SyncBusy(GrafientError):
    """A sync of that integration is running (in this process or another), so it cannot change now."""


# --------------------------------------------------------------------------- providers
#
# One family per thing that can go wrong talking to a provider, each a sentence fit to show. A
# provider's own refinement (Cursor's "not Enterprise", Google's "not a service-account key") is a
# member of the family it refines, so a caller catches the family (`except KeyRejected`) and never
# needs to load a provider to name its error.


class ProviderError(GrafientError):
    """Anything that went wrong talking to a provider, as one sentence fit to show."""


class KeyRejected(ProviderError):
    """401: a wrong, revoked or under-privileged key."""


class NotAServiceAccountKey(KeyRejected):
    """Google: the credential is not a usable service-account JSON key, refused before any call."""


class TokenExpired(KeyRejected):
    """Google BigQuery's 401: the access token is bad or expired (a new one is asked for once)."""


class AccessDenied(ProviderError):
    """403: the key is known but may not do this."""


class NotEnterprise(AccessDenied):
    """Cursor's 403: the team is not on an Enterprise plan."""


class NotManagementKey(AccessDenied):
    """OpenRouter: an inference key, which can run completions but not read activity."""


class ProjectsDenied(AccessDenied):
    """OpenAI: the key may read costs but not list projects (a restricted Admin key)."""


class SeatsDenied(AccessDenied):
    """GitHub: the token may read billing but not the Copilot seat list (or seats are not listed)."""


class MissingPermissions(AccessDenied):
    """ElevenLabs: a restricted key without User (Read)."""


class Unreachable(ProviderError):
    """No connection: refused, DNS, reset, TLS."""


class ApiTimeout(ProviderError):
    """The API did not answer in time, every try."""


class RateLimited(ProviderError):
    """429 on every try."""


class ServerError(ProviderError):
    """5xx on every try."""


class RequestRejected(ProviderError):
    """Any other 4xx: the request itself was refused. `status` is the HTTP status (400, 404, ...)."""

    def __init__(self, sentence: str, *, status: int = 400) -> None:
        super().__init__(sentence)
        self.status = status


class BadResponse(ProviderError):
    """A body that is not JSON, or JSON of a shape we cannot read."""


class ShapeError(BadResponse):
    """A 200 answer of a shape a provider's cost rules cannot read. `detail` says what was wrong without
    quoting the value (server text may echo anything, the key included); the provider completes the
    sentence with the path or the day and "nothing from this window was saved"."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class AnswerTooLarge(BadResponse):
    """A body past the size limit, counted after decompression; not retried."""


class LimitExceeded(BadResponse):
    """More pages, models or members in one window than Grafient will hold."""


class ActivityFormatError(BadResponse):
    """OpenRouter: an /activity answer of a shape Grafient cannot read, an error for the whole sync."""


class EventFormatError(ProviderError):
    """Cursor: a usage event with a field Grafient cannot read (a whole sentence, naming the field)."""


# Distinct (day, model, actor) sums a provider holds for one window, counted as they arrive: a real
# organization's widest window (180 days x models x projects) is far inside it, and at ~200 bytes a
# sum it holds ~20 MB. An answer that invents new keys row after row fails its window here, before
# it fills memory, whatever its pages or rows.
MAX_SUMS_PER_WINDOW = 100_000


def too_many_sums(
    title: str, what: str, bound: int = MAX_SUMS_PER_WINDOW, saved: str = "nothing from this window was saved"
) -> LimitExceeded:
    """The sentence for a window past its bound of distinct sums (MAX_SUMS_PER_WINDOW)."""
    return LimitExceeded(
        f"the {title} API sent {what} for more than {bound:,} different days, models and "
        f"actors in one window, more than any real account has; stopped reading, {saved}"
    )


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
