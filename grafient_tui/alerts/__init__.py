"""Alerts that reach the team: events, their wording per channel, the senders, and delivery once per
channel and event.

- `events.py`: what alerts, as `figures.AlertEvent` values, each from one pure *source* function
  (figures in, events out: budgets crossing 50/80/100% or forecast over, a rejected key, an
  integration not synced for 48 hours). `GrafientService.alert_events` calls every source in
  `GrafientService._alert_sources` and joins what they return.
- `content.py`: one event as each channel's payload (Slack blocks + text, a Teams Adaptive Card in
  the Workflows webhook's shape, the webhook's JSON, a plain-text email), outside text escaped for
  each format, every field and body bounded.
- `send.py`: the senders (httpx for the webhooks, the standard library's smtplib for email), each
  with a time limit and retries with backoff; a failure is one sentence without a secret.
- `deliver.py`: for each channel and event, claim it in the store (store/alerts.py), send, record.
- `desktop.py`: the terminal's desktop notification (OSC 9 / OSC 777, through tmux), for the app.

Adding a source (the anomalies, at merge): write one pure function in `events.py`,

    def anomaly_events(anomalies: Sequence[Anomaly]) -> list[AlertEvent]:
        return [
            AlertEvent(
                key=f"anomaly:{a.integration_id or 'all'}:{a.day.isoformat()}",
                kind="anomaly",
                sentence=f"{a.integration or 'All integrations'} spent {rough(a.billed_micro)} on {a.day}, "
                f"{a.ratio:.1f}x its usual {rough(a.baseline_micro)}.",
                figure=..., integration=a.integration, provider=a.provider,
                details=tuple(f"{d.kind} {d.name}: +{rough(d.delta_micro)}" for d in a.drivers[:5]),
            )
            for a in anomalies
        ]

and add one line to `GrafientService._alert_sources`: `lambda now: anomaly_events(self.anomalies(...))`
over the last few complete days. The key must name the day (not the run), so every process that
notices the same anomaly makes the same key, and the store delivers it once per channel.
"""
