"""The senders: one event (or a test message) to one channel, with a time limit and retries.

Slack, Teams and the signed webhook are HTTPS POSTs through httpx (plain http only to a loopback
address: local receivers and tests); email is the standard library's smtplib. Each attempt has
TIMEOUT seconds; a failure that may pass (a refused or timed-out connection, HTTP 429 or 5xx, an SMTP
4xx) is tried again after a pause that doubles (BACKOFF, 2 x BACKOFF), ATTEMPTS in all; the pause
goes through an injected `sleep`. The outcome is one sentence that names no secret: the Slack and
Teams URLs are secrets (whoever holds one can post), so only their host is ever named.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from grafient_tui.alerts.content import body_bytes, clean, email_subject, payload_for, plain_text
from grafient_tui.errors import ConfigError
from grafient_tui.figures import AlertEvent

if TYPE_CHECKING:
    import httpx

    from grafient_tui.secret import Secret

TIMEOUT = 10.0  # seconds per attempt
ATTEMPTS = 3
BACKOFF = 2.0  # seconds before the second attempt; doubled before each next one
MAX_ANSWER = 4096  # bytes of a receiver's answer read (only its status matters)
SECURITIES = ("starttls", "tls", "none")

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    attempts: int
    sentence: str


class _Retry(Exception):
    """An attempt failed in a way a later attempt may not."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class _Fatal(Exception):
    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


def is_loopback(host: str) -> bool:
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> str:
    """The URL when it is https (or http to a loopback address); else ConfigError, naming no more of it
    than its scheme (a Slack or Teams URL is a secret)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise ConfigError(f"the {what} is not a URL.") from None
    if not host or parts.scheme not in ("https", "http"):
        raise ConfigError(f"the {what} must be an https:// URL.")
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigError(f"the {what} must use https (plain http is allowed only to this machine, for testing).")
    if any(ch.isspace() or not ch.isprintable() for ch in url) or len(url) > 2048:
        raise ConfigError(f"the {what} has spaces or control characters, or is too long.")
    if "@" in parts.netloc:
        # user:password@host would be stored, listed and sent in the clear: a webhook proves itself by its
        # signing secret, sealed in the vault.
        raise ConfigError(f"the {what} must not carry a user name or password (user:password@host).")
    return url


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "timestamp.body">`: the X-Grafient-Signature header's value."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _with_retries(attempt: Callable[[], str], sleep: Sleep, backoff: float) -> Outcome:
    pause = backoff
    for number in range(1, ATTEMPTS + 1):
        try:
            return Outcome(True, number, attempt())
        except _Fatal as exc:
            return Outcome(False, number, exc.sentence)
        except _Retry as exc:
            if number == ATTEMPTS:
                return Outcome(False, number, exc.sentence + f" (after {ATTEMPTS} attempts)")
            sleep(pause)
            pause *= 2
    raise AssertionError("unreachable")


def post(
    kind: str,
    url: Secret | str,
    event: AlertEvent,
    *,
    signing_secret: Secret | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    clock: Callable[[], float] = time.time,
    timeout: float = TIMEOUT,
    backoff: float = BACKOFF,
) -> Outcome:
    """POST the event to a Slack, Teams or signed webhook URL."""
    import httpx

    address = url if isinstance(url, str) else url.reveal()
    host = urlsplit(address).hostname or "the receiver"
    named = host if kind == "webhook" else f"{host} ({kind} webhook)"
    body = body_bytes(payload_for(kind, event))

    def attempt() -> str:
        headers = {"Content-Type": "application/json", "User-Agent": "grafient-alerts"}
        if signing_secret is not None:
            stamp = str(int(clock()))
            headers["X-Grafient-Timestamp"] = stamp
            headers["X-Grafient-Signature"] = signature(signing_secret.reveal(), stamp, body)
        try:
            with (
                httpx.Client(transport=transport, timeout=timeout, follow_redirects=False) as client,
                client.stream("POST", address, content=body, headers=headers) as answer,
            ):
                read = 0
                for chunk in answer.iter_bytes():
                    read += len(chunk)
                    if read > MAX_ANSWER:
                        break
                status = answer.status_code
        except httpx.TimeoutException:
            raise _Retry(f"{named} did not answer within {timeout:g} s") from None
        except httpx.ConnectError:
            raise _Retry(f"could not connect to {named}") from None
        except httpx.HTTPError as exc:
            raise _Retry(f"sending to {named} failed ({type(exc).__name__})") from None
        if 200 <= status < 300:
            return f"{named} accepted it (HTTP {status})"
        sentence = f"{named} answered HTTP {status}"
        if kind == "teams" and status in (400, 404, 410) and "webhook.office.com" in host:
            sentence += "; Office 365 connectors are retired: use a Teams Workflows webhook URL"
        if status == 429 or status >= 500:
            raise _Retry(sentence)
        raise _Fatal(sentence)

    return _with_retries(attempt, sleep, backoff)


def email(
    settings: dict[str, str],
    password: Secret | None,
    event: AlertEvent,
    *,
    sleep: Sleep = time.sleep,
    timeout: float = TIMEOUT,
    backoff: float = BACKOFF,
    context: ssl.SSLContext | None = None,
) -> Outcome:
    """Send the event as a plain-text email through the channel's SMTP server."""
    host, _, port_text = settings["smtp"].rpartition(":")
    port = int(port_text)
    security = settings.get("security", "starttls")
    recipients = [addr for addr in settings["to"].split(",") if addr]
    message = EmailMessage()
    message["Subject"] = email_subject(event)
    message["From"] = settings["from"]
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="grafient.invalid")
    message.set_content(plain_text(event) + "\n")
    named = f"the SMTP server {clean(host, 100)}:{port}"

    def attempt() -> str:
        tls = context or ssl.create_default_context()
        try:
            server: smtplib.SMTP
            if security == "tls":
                server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls)
            else:
                server = smtplib.SMTP(host, port, timeout=timeout)
            with server:
                server.ehlo()
                if security == "starttls":
                    if not server.has_extn("starttls"):
                        raise _Fatal(f"{named} does not offer STARTTLS; use --security tls, or none on this machine")
                    server.starttls(context=tls)
                    server.ehlo()
                if password is not None:
                    if not server.has_extn("auth"):
                        raise _Fatal(
                            f"{named} does not offer a login (SMTP AUTH) here; leave out --user, or check --security"
                        )
                    server.login(settings["user"], password.reveal())
                refused = server.send_message(message, from_addr=settings["from"], to_addrs=recipients)
        except smtplib.SMTPAuthenticationError as exc:
            raise _Fatal(f"{named} refused the user name and password (SMTP {exc.smtp_code})") from None
        except smtplib.SMTPNotSupportedError:
            raise _Fatal(f"{named} does not support what was asked of it") from None
        except smtplib.SMTPResponseException as exc:
            sentence = f"{named} refused the message (SMTP {exc.smtp_code})"
            if 400 <= exc.smtp_code < 500:
                raise _Retry(sentence) from None
            raise _Fatal(sentence) from None
        except smtplib.SMTPRecipientsRefused:
            raise _Fatal(f"{named} refused every recipient") from None
        except TimeoutError:
            raise _Retry(f"{named} did not answer within {timeout:g} s") from None
        except ssl.SSLError as exc:
            raise _Fatal(f"the TLS connection to {named} failed ({clean(exc.reason or 'TLS error', 80)})") from None
        except (ConnectionError, OSError, smtplib.SMTPException) as exc:
            raise _Retry(f"could not send through {named} ({type(exc).__name__})") from None
        if refused:
            return f"{named} accepted it for {len(recipients) - len(refused)} of {len(recipients)} recipients"
        return f"{named} accepted it"

    return _with_retries(attempt, sleep, backoff)
