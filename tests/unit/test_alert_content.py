"""The alerts' pure parts: the events each source makes (their keys above all), each channel's
payload with outside text escaped and bounded, the webhook's signature, and the terminal's desktop
notification sequence."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from grafient_tui.alerts import content
from grafient_tui.alerts.desktop import notification
from grafient_tui.alerts.events import budget_events, key_rejected_events, stale_events
from grafient_tui.alerts.send import signature
from grafient_tui.budgets.status import budget_status
from grafient_tui.figures import AlertEvent, Forecast, IntegrationHealth, PeriodBounds

DOLLAR = 100_000_000
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
MONTH = PeriodBounds(start=date(2026, 11, 1), end=date(2026, 11, 30))


def status(spent: float, forecast: float | None, *, target_id: int | None = 3, measure: str = "cost", period="month"):
    return budget_status(
        budget_id=7,
        target="Eng",
        target_id=target_id,
        provider="cursor",
        period=period,
        measure=measure,
        budget_micro=500 * DOLLAR,
        bounds=MONTH,
        today="2026-11-24",
        spent_micro=round(spent * DOLLAR),
        forecast=Forecast(
            micro=None if forecast is None else round(forecast * DOLLAR), complete_days=14, average_micro=DOLLAR
        ),
        synced_days=23,
        finished_days=23,
    )


def test_a_budget_makes_one_event_for_its_highest_threshold_and_one_for_its_forecast() -> None:
    [reached, forecast] = budget_events([status(412, 540)])
    assert reached.key == "budget:7:2026-11-01:80" and reached.kind == "budget"
    assert reached.sentence == "Eng has reached 80% of its monthly budget: $412.00 of $500, resets 2026-12-01."
    assert reached.figure == "$412.00 of $500 (82%)"
    assert (reached.integration, reached.provider) == ("Eng", "Cursor")
    assert forecast.key == "budget:7:2026-11-01:forecast" and "forecast to spend $540" in forecast.sentence
    [over] = budget_events([status(600, 700, target_id=None)])  # over: the forecast says nothing more
    assert over.key == "budget:7:2026-11-01:100" and over.sentence.startswith("All integrations is over")
    assert over.integration is None
    assert budget_events([status(100, None)]) == []  # 20%, no forecast yet: nothing to tell


def test_a_budget_on_billed_or_on_demand_is_named_in_plain_english() -> None:
    """'...by the end of its monthly budget, billed's period...' was budget_title's heading pasted in."""
    [reached, forecast] = budget_events([status(412, 540, measure="billed")])
    assert reached.sentence == "Eng has reached 80% of its monthly billed budget: $412.00 of $500, resets 2026-12-01."
    assert forecast.sentence == (
        "Eng is forecast to spend $540 by the end of this month, above its monthly billed budget of $500."
    )
    cycle = PeriodBounds(start=date(2026, 11, 10), end=date(2026, 12, 9), follows_cycle=True)
    on_demand = replace(status(412, 540, measure="on_demand", period="cycle"), bounds=cycle)
    [_, forecast] = budget_events([on_demand])
    assert forecast.sentence == (
        "Eng is forecast to spend $540 by the end of this billing cycle, above its cycle on-demand budget of $500."
    )
    for event in budget_events([status(412, 540, measure=m) for m in ("cost", "billed", "on_demand")]):
        assert "'s period" not in event.sentence and ", billed" not in event.sentence


def health(**kw) -> IntegrationHealth:
    base = {
        "integration_id": 4,
        "label": "Eng",
        "provider": "openai",
        "created": NOW - timedelta(days=10),
        "last_success": NOW - timedelta(hours=49),
        "last_outcome": "failed",
        "last_error_kind": "TokenExpired",
    }
    return IntegrationHealth(**{**base, **kw})


def test_a_rejected_key_and_a_stale_integration_are_keyed_by_the_last_good_sync() -> None:
    last = NOW - timedelta(hours=49)
    [rejected] = key_rejected_events([health(), health(integration_id=5, last_error_kind="Unreachable")])
    assert rejected.key == f"key-rejected:4:{int(last.timestamp())}" and rejected.provider == "OpenAI"
    [stale] = stale_events([health(), health(integration_id=6, last_success=NOW - timedelta(hours=47))], NOW)
    assert stale.key == f"stale:4:{int(last.timestamp())}" and stale.figure == "49 hours"
    assert stale.sentence == "Eng has not synced for 49 hours (last good sync 2026-11-22 09:30 UTC)."
    [never] = stale_events([health(last_success=None)], NOW)
    assert never.key == "stale:4:never" and never.sentence == "Eng has never synced for 240 hours."


HOSTILE = AlertEvent(
    key="anomaly:1:2026-11-20",
    kind="anomaly",
    sentence="<!channel> spent & rose\r\nBcc: x@evil.test \x1b]52;c;AAAA\x07",
    figure="$1,200 of *$800*",
    integration="[click](https://evil.test)",
    provider="OpenAI",
    details=tuple(f"model-{i} <b>" + "x" * 1000 for i in range(50)),
)


def test_slack_escapes_its_three_characters_and_keeps_a_plain_fallback() -> None:
    payload = content.slack_payload(HOSTILE)
    text = json.dumps(payload)
    assert "<!channel>" not in text and "&lt;!channel&gt; spent &amp; rose Bcc: x@evil.test" in payload["text"]
    assert "\x1b" not in text and "\\r" not in text and "\\u001b" not in text
    assert payload["blocks"][0]["text"]["text"].startswith("*Grafient alert*: &lt;!channel&gt;")
    assert len(payload["text"].splitlines()) == 3 + content.MAX_DETAILS  # sentence, figure, integration, details
    assert len(content.body_bytes(payload)) < content.MAX_BODY


def test_teams_is_an_adaptive_card_in_the_workflows_shape_with_markdown_escaped() -> None:
    payload = content.teams_payload(HOSTILE)
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4" and card["fallbackText"]
    texts = [block["text"] for block in card["body"]]
    assert r"Integration: \[click\]\(https://evil.test\) \(OpenAI\)" in texts
    assert r"Figure: $1,200 of \*$800\*" in texts


def test_the_webhook_body_is_json_with_every_field_cut_and_one_line() -> None:
    body = content.webhook_payload(HOSTILE)
    assert body["kind"] == "anomaly" and body["integration"] == "[click](https://evil.test)"
    assert "\r" not in body["sentence"] and "\n" not in body["sentence"] and "\x1b" not in body["sentence"]
    assert len(body["details"]) == content.MAX_DETAILS and all(len(d) <= content.MAX_FIELD for d in body["details"])
    assert content.body_bytes(body).isascii()


def test_an_email_subject_is_one_line_whatever_the_event_holds() -> None:
    subject = content.email_subject(HOSTILE)
    assert "\r" not in subject and "\n" not in subject and subject.startswith("Grafient alert: <!channel>")
    assert len(subject) <= content.MAX_SUBJECT


def test_an_email_subject_holds_no_encoded_word_for_a_mail_library_or_client_to_decode() -> None:
    word = "=?utf-8?b?eA0KUmVwbHktVG86IHRoaWVmQGV2aWwudGVzdA==?="  # "x\r\nReply-To: thief@evil.test"
    event = AlertEvent(key="k", kind="test", sentence=f"{word} =?= and =" + "?" * 300)
    subject = content.email_subject(event)
    assert "=?" not in subject and subject.startswith("Grafient alert: = ?utf-8?b?")
    assert len(subject) <= content.MAX_SUBJECT
    message = EmailMessage()
    message["Subject"] = subject
    assert str(message["Subject"]) == subject and b"Reply-To" not in message.as_bytes()


def test_every_payload_shows_c1_zero_width_and_bidi_characters_as_their_escapes() -> None:
    event = AlertEvent(key="k", kind="test", sentence="Eng\x9b2J\u200b\u202eok\x85next\u2028line", details=("m\x1b",))
    for kind in ("slack", "teams", "webhook"):
        said = json.dumps(content.payload_for(kind, event), ensure_ascii=False)
        assert not any(ch in said for ch in "\x9b\u200b\u202e\x85\u2028\x1b"), kind
        assert r"\\x9b2J\\u200b\\u202eok next line" in said, kind  # (teams escapes the backslash again)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature("s3cret", "1700000000", b"{}") == "sha256=" + expected


def test_a_desktop_notification_is_osc_9_and_777_with_outside_text_controls_made_visible() -> None:
    sequence = notification("Budget", "Eng\x1b]52;c;AAAA\x07 is over; $612\x9c\n")
    shown = r"Eng\x1b]52;c;AAAA\x07 is over; $612\x9c"  # no ESC, BEL or ST: nothing ends the sequence early
    assert sequence == f"\x1b]9;Budget: {shown}\x07\x1b]777;notify;Budget;{shown}\x07"
    # C1's CSI and ST, a zero-width space and a bidi override: their escapes (untrusted.visible), and
    # the title's C1 too; a line break is a space
    hidden = notification("Bud\x9bget", "a\u200bb\u202ec\x9b2J\r\nd")
    said = r"a\u200bb\u202ec\x9b2J d"
    assert hidden == f"\x1b]9;Bud\\x9bget: {said}\x07\x1b]777;notify;Bud\\x9bget;{said}\x07"
    assert sum(ch in "\x1b\x07" for ch in hidden) == 4  # each sequence's own ESC and BEL only
    assert notification("a;b", "x") == "\x1b]9;a,b: x\x07\x1b]777;notify;a,b;x\x07"  # `;` would end the title


def test_inside_tmux_each_sequence_is_wrapped_in_dcs_passthrough_with_esc_doubled() -> None:
    sequence = notification("Budget", "Eng is over", tmux=True)
    assert sequence == (
        "\x1bPtmux;\x1b\x1b]9;Budget: Eng is over\x07\x1b\\\x1bPtmux;\x1b\x1b]777;notify;Budget;Eng is over\x07\x1b\\"
    )
    assert len(notification("t", "x" * 5000)) < 600  # bounded
