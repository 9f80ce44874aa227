"""A channel's settings, checked before anything is stored: one sentence for each bad input.

What is stored in the clear (the `target`): Slack's and Teams' host only (their whole URL is the
secret, sealed), the webhook's URL (its signing secret sealed), email's recipients, server, sender,
user and security (the password sealed).
"""

from __future__ import annotations

import re
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from grafient_tui.alerts.send import SECURITIES, check_url, is_loopback
from grafient_tui.errors import ConfigError
from grafient_tui.untrusted import quoted

if TYPE_CHECKING:
    from grafient_tui.secret import Secret

MAX_RECIPIENTS = 20
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")
RETIRED_CONNECTORS = ("webhook.office.com", "outlook.office.com", "outlook.office365.com")


def _address(text: str, what: str) -> str:
    text = text.strip()
    if not _ADDRESS.fullmatch(text):
        raise ConfigError(f"{what} {quoted(text[:80])} is not an email address (name@example.com).")
    return text


def _smtp(text: str, security: str) -> str:
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not _HOST.fullmatch(host) or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"--smtp must be HOST:PORT, such as smtp.example.com:587, not {quoted(text[:80])}.")
    if security == "none" and not is_loopback(host):
        raise ConfigError(
            "--security none sends the message (and any password) in the clear: it is allowed only to a server on "
            "this machine (localhost); use starttls or tls."
        )
    return f"{host}:{int(port_text)}"


def channel_settings(
    kind: str,
    *,
    secret: Secret | None,
    url: str | None,
    to: str | None,
    smtp: str | None,
    sender: str | None,
    user: str | None,
    security: str,
) -> dict[str, str]:
    if kind in ("slack", "teams"):
        if secret is None:
            raise ConfigError(f"no {kind} webhook URL given: pipe it on standard input.")
        address = secret.reveal()
        name = "Slack incoming-webhook URL" if kind == "slack" else "Teams Workflows webhook URL"
        check_url(address, name)
        host = (urlsplit(address).hostname or "").casefold()
        if kind == "teams" and host.endswith(RETIRED_CONNECTORS):
            raise ConfigError(
                "that is an Office 365 connector URL: Microsoft has retired those connectors and Grafient does not "
                "support them; in Teams, create a Workflows webhook ('Post to a channel when a webhook request is "
                "received') and give its URL."
            )
        return {"host": host}
    if kind == "webhook":
        if url is None:
            raise ConfigError("a webhook channel needs --url URL.")
        if secret is None:
            raise ConfigError("no signing secret given: pipe it on standard input.")
        return {"url": check_url(url, "--url"), "signed": "yes"}
    if kind == "email":
        if security not in SECURITIES:
            raise ConfigError(f"--security is starttls, tls or none, not {quoted(security[:40])}.")
        if not to:
            raise ConfigError("an email channel needs --to ADDR[,ADDR...].")
        recipients = [_address(part, "--to") for part in to.split(",") if part.strip()]
        if not recipients or len(recipients) > MAX_RECIPIENTS:
            raise ConfigError(f"--to takes 1 to {MAX_RECIPIENTS} addresses, separated by commas.")
        if not smtp:
            raise ConfigError("an email channel needs --smtp HOST:PORT.")
        server = _smtp(smtp, security)
        fallback = f"grafient@{socket.gethostname() or 'localhost'}"
        from_address = (
            _address(sender, "--from")
            if sender
            else (fallback if _ADDRESS.fullmatch(fallback) else "grafient@localhost")
        )
        settings = {"to": ",".join(recipients), "smtp": server, "from": from_address, "security": security}
        if user is not None:
            if not user or len(user) > 256 or not user.isprintable():
                raise ConfigError("--user must be a user name without control characters.")
            if secret is None:
                raise ConfigError("no SMTP password given for --user: pipe it on standard input.")
            settings["user"] = user
        return settings
    raise ConfigError(f"an alert channel is slack, teams, webhook or email, not {quoted(kind[:40])}.")
