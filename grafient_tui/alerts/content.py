"""One alert event as each channel's payload: pure, no I/O.

Every text field of an event may carry outside text (a label, a model or member name); none carries a
secret. Each format gets it escaped its own way: Slack mrkdwn (&, <, > as entities, so `<!channel>`
or a link cannot be smuggled in), the Adaptive Card's TextBlocks (plain text: markdown off where it
can be, and the characters that markdown would read escaped), JSON for the webhook (json.dumps), and a
plain-text email whose headers carry no CR or LF, nor an RFC 2047 encoded word (which the mail library
and every client would decode back into any text, CR and LF included). Before any of that, every field
is one line through the one rule (untrusted.visible: control, format and invisible characters as their
escapes). Fields are cut (MAX_FIELD, MAX_DETAILS) and a body is never larger than MAX_BODY bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from grafient_tui.figures import AlertEvent
from grafient_tui.untrusted import cap, visible

MAX_FIELD = 400  # characters of one sentence, figure or detail line
MAX_DETAILS = 10  # detail lines
MAX_BODY = 32 * 1024  # bytes of a payload
MAX_SUBJECT = 200  # characters of an email's subject
TITLE = "Grafient alert"


def clean(text: str, limit: int = MAX_FIELD) -> str:
    """Outside text as one line: line breaks and other white space one space, every other control,
    format or invisible character (ESC, C1's CSI, bidi overrides, zero-width spaces) its escape
    through the one rule (untrusted.visible), cut to `limit`."""
    return cap(visible(" ".join(text.split())), limit)


def lines(event: AlertEvent, limit: int = MAX_FIELD) -> list[str]:
    """The event as plain lines: the sentence, then the figure, integration and provider, then details;
    each field cut to `limit`."""
    out = [clean(event.sentence, limit)]
    if event.figure:
        out.append(f"Figure: {clean(event.figure, limit)}")
    if event.integration or event.provider:
        who = clean(event.integration or "All integrations", limit)
        out.append(f"Integration: {who}" + (f" ({clean(event.provider, limit)})" if event.provider else ""))
    out += [f"- {clean(line, limit)}" for line in event.details[:MAX_DETAILS]]
    return out


def plain_text(event: AlertEvent) -> str:
    """The link-free plain-text form (email's body, every format's fallback)."""
    return "\n".join(lines(event))


def slack_escape(text: str) -> str:
    """Slack's mrkdwn escapes: &, < and > (the only three it defines)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack's own preprocessing off, which otherwise turns a plain `@channel`, `@here` or
    # `#general` in a name into a mention or a channel link (the escapes above cover only the `<...>` forms)
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def slack_payload(event: AlertEvent, limit: int = MAX_FIELD) -> dict[str, Any]:
    said = [slack_escape(line) for line in lines(event, limit)]
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _mrkdwn(f"*{slack_escape(TITLE)}*: {said[0]}")}]
    if len(said) > 1:
        blocks.append({"type": "section", "text": _mrkdwn("\n".join(said[1:]))})
    return {"text": "\n".join(said), "blocks": blocks}


_CARD_MARKDOWN = re.compile(r"([\\`*_\[\]()#<>~])")


def card_escape(text: str) -> str:
    """Text for an Adaptive Card TextBlock: Teams renders a subset of markdown there, so the
    characters that make emphasis, links or headings there are backslash-escaped: a label such as
    `[click](https://…)` shows as those characters."""
    return _CARD_MARKDOWN.sub(r"\\\1", text)


def teams_payload(event: AlertEvent, limit: int = MAX_FIELD) -> dict[str, Any]:
    """The Teams Workflows webhook's message: one Adaptive Card (1.4) attachment."""
    said = lines(event, limit)
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": card_escape(TITLE), "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": card_escape(said[0]), "wrap": True},
    ]
    body += [{"type": "TextBlock", "text": card_escape(line), "wrap": True, "isSubtle": True} for line in said[1:]]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "fallbackText": "\n".join(said),
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def webhook_payload(event: AlertEvent, limit: int = MAX_FIELD) -> dict[str, Any]:
    return {
        "source": "grafient",
        "key": clean(event.key),
        "kind": event.kind,
        "sentence": clean(event.sentence, limit),
        "figure": None if event.figure is None else clean(event.figure, limit),
        "integration": None if event.integration is None else clean(event.integration, limit),
        "provider": None if event.provider is None else clean(event.provider, limit),
        "details": [clean(line, limit) for line in event.details[:MAX_DETAILS]],
        "text": "\n".join(lines(event, limit)),
    }


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The JSON body, ASCII only; at most MAX_BODY bytes (the fields are cut well below it)."""
    data = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    if len(data) > MAX_BODY:
        raise ValueError(f"an alert's body of {len(data)} bytes is over {MAX_BODY}")
    return data


def email_subject(event: AlertEvent) -> str:
    """A header value: one line, no CR or LF whatever the event holds, and no RFC 2047 encoded word:
    `=?` (its opener) is written `= ?`. Python's email library decodes `=?utf-8?b?...?=` in a header
    value as it is set and writes what it decodes, so a label holding the base64 of "\\r\\nBcc: ..."
    would add headers (and mail clients decode it too, showing other text than the one we sent)."""
    return cap(clean(f"{TITLE}: {event.sentence}", MAX_BODY).replace("=?", "= ?"), MAX_SUBJECT)


MIN_FIELD = 40  # characters a field keeps however much its payload must shrink


def payload_for(kind: str, event: AlertEvent) -> dict[str, Any]:
    """The channel's payload, its fields cut shorter (halved, down to MIN_FIELD) until its body fits
    MAX_BODY: a name of emoji or CJK characters takes up to 12 bytes a character as JSON's ASCII
    escapes, and every format carries each line twice (the blocks or card, and the fallback), so six
    drivers' names of 255 such characters made a body over MAX_BODY and the alert was never sent."""
    build = {"slack": slack_payload, "teams": teams_payload}.get(kind, webhook_payload)
    limit = MAX_FIELD
    payload = build(event, limit)
    while limit > MIN_FIELD and len(json.dumps(payload, ensure_ascii=True, separators=(",", ":"))) > MAX_BODY:
        limit = max(limit // 2, MIN_FIELD)
        payload = build(event, limit)
    return payload
