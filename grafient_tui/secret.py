"""A wrapper that keeps an API key out of reprs, logs and tracebacks' locals; the one key-shape
check; and the one redaction every piece of outside text goes through before it is shown or stored."""

from __future__ import annotations

import base64
import html
import json
import re
import unicodedata
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
# A run this long of anything derived from a key is taken to be (part of) the key. The
# hint shows four characters; eight are too many to be a coincidence in a server message.
MIN_RUN = 8


KEY_IN_ARGV = "that looks like an API key; keys are read from standard input, never from the command line"

_KEY_PREFIX = re.compile(r"(?i)(key_|crsr_|sk-|sk_|ghp_|gho_|ghu_|ghs_|github_pat_|xai-)[A-Za-z0-9_\-]{12,}")
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
    return any(
        len(part) >= 20 and re.search(r"[A-Za-z]", part) and re.search(r"\d", part) for part in re.split(r"[-_.]", text)
    )


# The documented prefixes of every provider's keys, longest first: they say what kind of key it is
# and are the same for every key of that kind, so showing them gives nothing away.
KEY_PREFIXES = (
    "github_pat_",
    "xai-token-",
    "sk-ant-admin01-",
    "sk-ant-api03-",
    "sk-ant-api01-",
    "sk-or-v1-",
    "sk-admin-",
    "sk-proj-",
    "sk-svcacct-",
    "crsr_",
    "key_",
    "ghp_",
    "xai-",
    "sk-",
)


def _service_account(text: str) -> dict[str, object] | None:
    """The JSON object of a Google service-account key file, or None for any other text."""
    if not text.lstrip().startswith("{") or len(text) > 64 * 1024:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if type(data) is dict and data.get("type") == "service_account" else None


def key_hint(api_key: str) -> str:
    """What may be shown of a key: its kind's prefix (`key_`, `sk-ant-admin01-`) and its last four
    characters; for a service-account JSON key, the last four of its key id (as the Google Cloud
    console lists the account's keys)."""
    account = _service_account(api_key)
    if account is not None:
        key_id = account.get("private_key_id")
        return f"key id …{key_id[-4:]}" if type(key_id) is str and len(key_id) >= 12 else "service-account key"
    prefix = next((p for p in KEY_PREFIXES if api_key.startswith(p)), "")
    if not prefix:
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


# --------------------------------------------------------------------------- redaction


def key_forms(key: str) -> list[str]:
    """Every way a server (or a proxy, or a library) could write `key` back at us: the key,
    its percent-encodings, and base64 (standard and URL-safe, padded or not) of the key and
    of the Basic credentials `key:` that go on the wire, plus the base64 of either when it
    starts one or two bytes into a longer encoded text (a slice of such an encoding is
    still made of these characters)."""
    forms = {
        key,
        quote(key, safe=""),
        quote_plus(key, safe=""),
        "".join(f"%{b:02X}" for b in key.encode("utf-8", "surrogatepass")),
        "".join(f"%{b:02x}" for b in key.encode("utf-8", "surrogatepass")),
    }
    raw = key.encode("utf-8", "surrogatepass")
    for payload in (raw, raw + b":"):
        for shift in (0, 1, 2):
            standard = base64.b64encode(b"\0" * shift + payload).decode("ascii")
            # The first characters of a shifted encoding mix in the bytes before the key,
            # and the last may mix in the bytes after it: keep only the key's own.
            core = standard if shift == 0 else standard[shift + 1 : -3]
            for text in (core, core.rstrip("=")):
                forms.add(text)
                forms.add(text.replace("+", "-").replace("/", "_"))
                forms.add(quote(text, safe=""))
    return [f for f in forms if len(f) >= MIN_RUN]


def secret_parts(key: str) -> list[str]:
    """What of a key is secret, to redact: the key; of a PEM private key, its body (as one line: the
    text it is compared with is read without its spaces and line breaks), not the BEGIN and END lines
    every such key has; of a service-account JSON key file, its private key, never the whole file.
    The file's project id, email and Google's URLs are public, and redacting every run of 8 of their
    characters, in any case, blanked sentences that merely named them ("GRAFIENT_MASTER_KEY" became
    "[redacted]_MASTER_KEY" once a key of project "grafient-reader" had been read)."""
    account = _service_account(key)
    if account is not None and type(account.get("private_key")) is str:
        key = str(account["private_key"])
    if "PRIVATE KEY-----" in key:
        body = "".join(line.strip() for line in key.splitlines() if line.strip() and "-----" not in line)
        if body:
            return [body]
    return [key]


def key_grams(*keys: str) -> frozenset[str]:
    """Every run of MIN_RUN characters of every form of every key (of its secret parts: `secret_parts`),
    and of each form written backwards, case folded (see `redact`: the text is folded the same way
    before it is compared)."""
    grams: set[str] = set()
    for key in keys:
        for part in secret_parts(key) if key else ():
            for form in key_forms(part):
                for text in (form.casefold(), form[::-1].casefold()):
                    grams.update(text[i : i + MIN_RUN] for i in range(len(text) - MIN_RUN + 1))
    return frozenset(grams)


# An HTML or XML character reference (`&#97;`, `&#x61;`, `&amp;`): a server may echo the key inside
# an HTML error page or an escaped message.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# What may be put between a key's characters without hiding them from a reader: spaces, line breaks,
# zero-width and other invisible format characters, combining marks.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"})


def _folded(text: str) -> tuple[str, list[int], list[int]]:
    """`text` as it is compared with a key's grams: character references decoded, spaces and
    invisible characters left out, case folded. With, for each character of the result, where it
    came from in `text` (start and end), so a match is cut out of the text as it was written."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        end = i + 1
        if ch == "&":
            match = _ENTITY.match(text, i)
            if match is not None:
                decoded = html.unescape(match.group())
                if len(decoded) == 1:
                    ch, end = decoded, match.end()
        if ch.isspace() or unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            i = end
            continue
        for folded in ch.casefold():
            chars.append(folded)
            starts.append(i)
            ends.append(end)
        i = end
    return "".join(chars), starts, ends


def redact(text: str, grams: frozenset[str]) -> str:
    """`text` with every run of MIN_RUN or more characters of a key (in any of its forms, see
    `key_grams`) replaced by [redacted], also when the key was echoed transformed: in another case,
    backwards, spaced out, split by zero-width characters or written as HTML character references.

    The text is folded (`_folded`) and every window of MIN_RUN folded characters compared with the
    grams; a run of n >= MIN_RUN characters of a form is covered by its n - MIN_RUN + 1 windows, so
    marking every matching window (and what was left out between its characters) catches the whole run.
    """
    if not grams or len(text) < MIN_RUN:
        return text
    folded, starts, ends = _folded(text)
    hit = bytearray(len(text))
    for i in range(len(folded) - MIN_RUN + 1):
        if folded[i : i + MIN_RUN] in grams:
            start, end = starts[i], ends[i + MIN_RUN - 1]
            hit[start:end] = b"\1" * (end - start)
    if not any(hit):
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if hit[i]:
            while i < len(text) and hit[i]:
                i += 1
            out.append(REDACTED)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def redact_keys(text: str, *keys: str) -> str:
    return redact(text, key_grams(*keys))


# Every key this process has held, so last-resort output (debug tracebacks,
# log records) can be scrubbed even if a key, or a piece or an encoding of one, slipped in.
_seen: set[str] = set()
_seen_grams: frozenset[str] = frozenset()


def _remember(value: str) -> None:
    global _seen_grams
    if len(value) >= MIN_RUN and value not in _seen:
        _seen.add(value)
        _seen_grams = _seen_grams | key_grams(value)  # of its secret parts (a key file: its private key)


def remember_secret(value: str) -> None:
    """Scrub `value` from every last-resort output (debug tracebacks, log records, stored sync
    errors), like a key: for secrets other than a stored key itself, such as a service account's
    private key as it is once read out of its JSON (real line breaks, not `\\n`; the PEM's body as
    one line too, see `secret_parts`), and the access tokens a key is traded for."""
    _remember(value)


def scrub_known(text: str) -> str:
    return redact(text, _seen_grams)
