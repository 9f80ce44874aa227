"""Deliver events to channels: claim each (channel, event) in the store, send it, record how it went.

A channel that fails is recorded (on the delivery and as the channel's last outcome) and never raises
out of here: the sync or check that called keeps its own outcome and exit code. A channel whose
secret cannot be opened (another master key) fails with that sentence, recorded the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from grafient_tui.alerts import send
from grafient_tui.errors import GrafientError
from grafient_tui.figures import AlertDelivered, AlertEvent
from grafient_tui.secret import remember_secret
from grafient_tui.store import alerts as stored

if TYPE_CHECKING:
    import httpx

    from grafient_tui.store.db import Database
    from grafient_tui.store.vault import Vault


@dataclass(frozen=True)
class Senders:
    """How to reach the outside: the tests' transport, sleep and clocks; the defaults are real."""

    transport: httpx.BaseTransport | None = None
    sleep: send.Sleep = time.sleep
    clock: Callable[[], float] = time.time
    timeout: float = send.TIMEOUT
    backoff: float = send.BACKOFF  # seconds before the second attempt (GRAFIENT_BACKOFF_BASE scales it)
    smtp_context: object | None = field(default=None)  # an ssl.SSLContext trusting a test server


def send_one(channel: stored.StoredChannel, vault: Vault, event: AlertEvent, senders: Senders) -> send.Outcome:
    """Send one event to one channel (no claim: `alert test` and `deliver` below)."""
    import ssl

    kind = channel.info.kind
    try:
        secret = stored.open_secret(vault, channel)
        if secret is not None:
            remember_secret(secret.reveal())  # scrubbed from anything logged from here on
        if kind in ("slack", "teams"):
            assert secret is not None, "a Slack or Teams channel's URL is its sealed secret"
            return send.post(
                kind,
                secret,
                event,
                transport=senders.transport,
                sleep=senders.sleep,
                timeout=senders.timeout,
                backoff=senders.backoff,
            )
        if kind == "webhook":
            return send.post(
                kind,
                channel.settings["url"],
                event,
                signing_secret=secret,
                transport=senders.transport,
                sleep=senders.sleep,
                clock=senders.clock,
                timeout=senders.timeout,
                backoff=senders.backoff,
            )
        context = senders.smtp_context if isinstance(senders.smtp_context, ssl.SSLContext) else None
        return send.email(
            channel.settings,
            secret,
            event,
            sleep=senders.sleep,
            timeout=senders.timeout,
            backoff=senders.backoff,
            context=context,
        )
    except GrafientError as exc:
        return send.Outcome(False, 0, exc.sentence.rstrip("."))
    except (KeyError, ValueError):  # a setting missing or of no use (a row not written by Grafient)
        return send.Outcome(
            False,
            0,
            "the channel's stored settings cannot be used (one is missing or not valid); remove it and add it again",
        )


def deliver(
    db: Database,
    vault: Vault,
    events: Sequence[AlertEvent],
    *,
    now: Callable[[], datetime],
    senders: Senders | None = None,
) -> list[AlertDelivered]:
    """Each event to each channel, at most once per pair whichever process gets there first."""
    senders = senders or Senders()
    out: list[AlertDelivered] = []
    if not events:
        return out
    for channel in stored.channels(db):
        for event in events:
            if not stored.claim(db, channel.info.id, event.key, now()):
                continue
            outcome = send_one(channel, vault, event, senders)
            sentence = outcome.sentence
            stored.finish(
                db,
                channel.info.id,
                event.key,
                ok=outcome.ok,
                attempts=max(outcome.attempts, 1),
                outcome=sentence,
                now=now(),
            )
            out.append(
                AlertDelivered(
                    channel=channel.info.label,
                    event_key=event.key,
                    ok=outcome.ok,
                    attempts=outcome.attempts,
                    outcome=sentence,
                )
            )
    return out
