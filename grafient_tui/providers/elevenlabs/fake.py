"""An in-memory ElevenLabs workspace, served as an httpx handler: the demo's workspace and the tests'.

It answers like ElevenLabs does as far as its docs tell (shared/elevenlabs-api.md): the `xi-api-key`
header, 401s told apart by `detail.status` (`invalid_api_key`, `missing_permissions` for a
restricted key without User (Read), `needs_authorization` without a key), 422 with a list `detail`
for a missing parameter, /v1/user/subscription with `tier` and `character_limit`, and
/v1/usage/character-stats with one bucket per UTC day whose midnight lies in
[start_unix, end_unix] (milliseconds) and one series per model. Credits are JSON numbers, halves
included.
"""

from __future__ import annotations

import datetime
import json
import random
from decimal import Decimal

import httpx

DAY_MS = 86_400_000
EPOCH = datetime.date(1970, 1, 1)

# model id -> (credits per character, makes characters: text-to-speech)
MODELS: dict[str, tuple[Decimal, bool]] = {
    "eleven_multilingual_v2": (Decimal(1), True),
    "eleven_flash_v2_5": (Decimal("0.5"), True),
    "eleven_turbo_v2_5": (Decimal("0.5"), True),
    "eleven_v3": (Decimal(1), True),
    "scribe_v1": (Decimal(1), False),  # speech to text: credits without characters
}


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"detail": {"status": code, "message": message}})


def _json_number(value: Decimal) -> int | float:
    """A Decimal as the JSON number ElevenLabs would write (halves are exact as floats)."""
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    assert Decimal(repr(as_float)) == value, "the fake sends only values a float holds exactly"
    return as_float


def _ms(day: datetime.date) -> int:
    return (day - EPOCH).days * DAY_MS


class FakeElevenLabsWorkspace:
    """One ElevenLabs workspace seen through one key: its plan and its usage per day and model.

    `usage` maps a UTC day to model id -> (credits, characters); characters are None for models that
    make none (speech to text). `restricted` is a key without User (Read). `skip_quiet_days` leaves
    days without usage out of the buckets (whether ElevenLabs sends them is undocumented)."""

    def __init__(
        self,
        *,
        api_key: str,
        tier: str = "pro",
        character_limit: int | None = 500_000,
        usage: dict[datetime.date, dict[str, tuple[Decimal, int | None]]] | None = None,
        restricted: bool = False,
        retired: bool = False,
        skip_quiet_days: bool = False,
    ) -> None:
        self.api_key = api_key
        self.tier = tier
        self.character_limit = character_limit
        self.usage = usage if usage is not None else {}
        self.restricted = restricted
        self.retired = retired
        self.skip_quiet_days = skip_quiet_days

    # ------------------------------------------------------------------ serving

    def handler(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("xi-api-key")
        if key is None:
            return _error(401, "needs_authorization", "Neither authorization header nor xi-api-key received.")
        if key != self.api_key:
            return _error(401, "invalid_api_key", "Invalid API key")
        path = request.url.path
        if request.method != "GET":
            return httpx.Response(405, json={"detail": "Method Not Allowed"})
        if path == "/v1/models":
            return httpx.Response(
                200, json=[{"model_id": m, "name": m, "can_do_text_to_speech": t} for m, (_, t) in MODELS.items()]
            )
        if path not in ("/v1/user/subscription", "/v1/usage/character-stats"):
            return httpx.Response(404, json={"detail": "Not Found"})
        if self.restricted:
            return _error(
                401,
                "missing_permissions",
                "The API key you used is missing the permission user_read to execute this operation.",
            )
        if path == "/v1/user/subscription":
            return self._subscription()
        if self.retired:
            return httpx.Response(410, json={"detail": "Gone"})
        return self._character_stats(request.url.params)

    def _subscription(self) -> httpx.Response:
        used = sum((c for day in self.usage.values() for c, _ in day.values()), Decimal(0))
        return httpx.Response(
            200,
            json={
                "tier": self.tier,
                "character_count": int(used),
                "character_limit": self.character_limit,
                "max_credit_limit_extension": "unlimited",
                "can_extend_character_limit": True,
                "allowed_to_extend_character_limit": True,
                "next_character_count_reset_unix": 1767225600,
                "voice_slots_used": 3,
                "voice_limit": 160,
                "professional_voice_limit": 1,
                "can_use_instant_voice_cloning": True,
                "can_use_professional_voice_cloning": True,
                "currency": "usd",
                "current_overage": {"amount": "0", "currency": "usd"},
                "status": "active",
                "billing_period": "monthly_period",
                "character_refresh_period": "monthly_period",
                "next_invoice": None,
                "open_invoices": [],
                "has_open_invoices": False,
                "pending_change": None,
            },
        )

    def _character_stats(self, params: httpx.QueryParams) -> httpx.Response:
        missing = [name for name in ("start_unix", "end_unix") if name not in params]
        if missing:
            return httpx.Response(
                422,
                json={
                    "detail": [
                        {"type": "missing", "loc": ["query", name], "msg": "Field required", "input": None}
                        for name in missing
                    ]
                },
            )
        try:
            start, end = int(params["start_unix"]), int(params["end_unix"])
        except ValueError:
            return httpx.Response(422, json={"detail": [{"type": "int_parsing", "loc": ["query", "start_unix"]}]})
        metric = params.get("metric", "credits")
        if (
            metric not in ("credits", "tts_characters")
            or params.get("breakdown_type") != "model"
            or params.get("aggregation_interval", "day") != "day"
            or params.get("include_workspace_metrics") != "true"
        ):
            return _error(400, "invalid_parameters", "This fake serves what Grafient asks for only")
        first = EPOCH + datetime.timedelta(days=-(-start // DAY_MS))
        days = []
        day = first
        while _ms(day) <= end:
            if not self.skip_quiet_days or self.usage.get(day):
                days.append(day)
            day += datetime.timedelta(days=1)
        models = sorted(
            {
                model
                for d in days
                for model, (credits, chars) in self.usage.get(d, {}).items()
                if (chars is not None if metric == "tts_characters" else True)
            }
        )
        series: dict[str, list[int | float]] = {}
        for model in models:
            values = []
            for d in days:
                credits, chars = self.usage.get(d, {}).get(model, (Decimal(0), 0))
                value = credits if metric == "credits" else Decimal(chars or 0)
                values.append(_json_number(value))
            series[model] = values
        body = json.dumps({"time": [_ms(d) for d in days], "usage": series}, separators=(",", ":"))
        return httpx.Response(200, content=body.encode(), headers={"content-type": "application/json"})


# --------------------------------------------------------------------------- data


def make_usage(
    *, seed: int, start: datetime.date, days: int, models: list[str] | None = None
) -> dict[datetime.date, dict[str, tuple[Decimal, int | None]]]:
    """Deterministic usage for every day from `start`: a few models a day, characters for the
    text-to-speech ones (credits = characters × the model's rate, halves for Flash and Turbo)."""
    rng = random.Random(seed)
    models = models or list(MODELS)
    usage: dict[datetime.date, dict[str, tuple[Decimal, int | None]]] = {}
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        spent: dict[str, tuple[Decimal, int | None]] = {}
        for model in rng.sample(models, rng.randint(1, len(models))):
            rate, speaks = MODELS[model]
            if speaks:
                chars = rng.randint(200, 40_000)
                spent[model] = (rate * chars, chars)
            else:
                spent[model] = (Decimal(rng.randint(100, 9_000)), None)
        usage[day] = spent
    return usage


def demo_account(api_key: str, today: datetime.date, seed: int) -> FakeElevenLabsWorkspace:
    """A small studio on the Creator plan ($22 for 100,000 credits a month): narration most weekdays
    in Multilingual v2, drafts in Flash, transcription in Scribe, quiet weekends. Seeded."""
    rng = random.Random(seed)
    usage: dict[datetime.date, dict[str, tuple[Decimal, int | None]]] = {}
    for back in range(95, -1, -1):
        day = today - datetime.timedelta(days=back)
        if day.weekday() >= 5 and rng.random() < 0.7:
            continue
        spent: dict[str, tuple[Decimal, int | None]] = {}
        narration = rng.randint(500, 6_000)
        spent["eleven_multilingual_v2"] = (Decimal(narration), narration)
        if rng.random() < 0.7:
            drafts = rng.randint(400, 9_000)
            spent["eleven_flash_v2_5"] = (Decimal(drafts) / 2, drafts)
        if rng.random() < 0.4:
            spent["scribe_v1"] = (Decimal(rng.randint(300, 2_500)), None)
        usage[day] = spent
    return FakeElevenLabsWorkspace(api_key=api_key, tier="creator", character_limit=100_000, usage=usage)
