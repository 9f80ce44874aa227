"""The providers' common part (providers/http_provider.py): the client options are built once, and every
registered provider builds its HTTP client through the base class, sending its own auth.

The network is each provider's fake behind httpx.MockTransport, recorded; nothing of ours is patched."""

from __future__ import annotations

import base64
import dataclasses
from datetime import date, timedelta

import httpx
import pytest

from grafient_tui import providers
from grafient_tui.config import Settings
from grafient_tui.providers.http_provider import ClientOptions, HttpProvider
from tests.providers.test_provider_contract import KITS, TODAY


async def no_sleep(seconds: float) -> None:
    return None


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


# What each provider's calls carry to prove the key (Google's carry the token its key was traded for).
AUTH: dict[str, object] = {
    "cursor": lambda key: {"authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()},
    "anthropic": lambda key: {"x-api-key": key, "anthropic-version": "2023-06-01"},
    "openai": _bearer,
    "openrouter": _bearer,
    "copilot": lambda key: {**_bearer(key), "x-github-api-version": "2026-03-10"},
    "xai": _bearer,
    "google": None,
    "elevenlabs": lambda key: {"xi-api-key": key},
}


class Recording:
    """A fake's handler that keeps every request it served."""

    def __init__(self, fake: object) -> None:
        self.fake = fake
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.fake.handler(request)  # type: ignore[attr-defined,no-any-return]


def test_every_registered_provider_is_an_http_provider_with_an_auth_rule() -> None:
    assert set(AUTH) == set(providers.names())
    for name in providers.names():
        assert issubclass(providers.get(name), HttpProvider), name


@pytest.mark.parametrize("name", providers.names())
async def test_each_provider_sends_its_own_auth_through_the_client_the_base_built(name: str) -> None:
    kit = KITS[name]
    fake, _ = kit.make_fake(kit.good_key, TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    recording = Recording(fake)
    extra = {"account": kit.account} if kit.account else {}
    provider = providers.get(name)(
        kit.good_key,
        transport=httpx.MockTransport(recording.handler),
        rpm=0,
        backoff_base=0,
        sleep=no_sleep,
        **extra,
    )
    provider.today = TODAY
    async with provider:
        await provider.validate()
    assert recording.requests, "nothing went through the transport the options gave"
    assert provider.stats.requests == len(recording.requests)  # every client's calls are counted
    for request in recording.requests:
        assert request.headers["user-agent"].startswith("grafient")
    expected = AUTH[name]
    if expected is None:  # Google: a token request signed with the key, then BigQuery with the token
        token, *calls = recording.requests
        assert token.method == "POST" and b"assertion=" in token.content and "authorization" not in token.headers
        assert calls and all(r.headers["authorization"].startswith("Bearer ") for r in calls)
        assert all(r.url.host == "bigquery.googleapis.com" for r in calls)
    else:
        wanted = expected(kit.good_key)  # type: ignore[operator]
        for request in recording.requests:
            assert {k: request.headers.get(k) for k in wanted} == wanted
            assert request.url.host == httpx.URL(Settings.from_env().api_url(name)).host


def test_the_options_are_built_once_from_the_settings_and_keywords_replace_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRAFIENT_OPENAI_RPM", "7")
    monkeypatch.setenv("GRAFIENT_BACKOFF_BASE", "0.25")
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    provider = providers.get("openai").from_settings("sk-admin-" + "Ab1" * 12, Settings.from_env(), transport=transport)
    assert isinstance(provider, HttpProvider)
    settings = Settings.from_env()
    assert provider.options == ClientOptions(
        rpm=7,
        transport=transport,
        backoff_base=0.25,
        max_response_bytes=settings.max_response_bytes,
        request_deadline=settings.request_deadline,
    )
    built = ClientOptions(rpm=3)
    assert providers.get("openai")("sk-admin-" + "Ab1" * 12, options=built).options is built  # not copied
    with pytest.raises(dataclasses.FrozenInstanceError):
        provider.options.rpm = 1  # type: ignore[misc]

    base = ClientOptions(max_attempts=2, backoff_base=3.0)
    client = providers.get("cursor")("key_" + "c3d4" * 16, options=base, max_attempts=4)
    assert client.options == dataclasses.replace(base, max_attempts=4)  # type: ignore[attr-defined]
    assert client._api.max_attempts == 4  # type: ignore[attr-defined]


def test_an_unset_rpm_is_the_providers_own_default_and_zero_is_unpaced() -> None:
    key = "sk-admin-" + "Pq7" * 12
    paced = providers.get("openai")(key)
    unpaced = providers.get("openai")(key, rpm=0)
    assert paced._api._bucket is not None  # type: ignore[attr-defined]
    assert paced._api._bucket.rpm == providers.get("openai").limits.default_rpm  # type: ignore[attr-defined]
    assert unpaced._api._bucket is None  # type: ignore[attr-defined]


async def test_googles_two_clients_share_the_options_and_both_close() -> None:
    kit = KITS["google"]
    fake, _ = kit.make_fake(kit.good_key, date(2026, 3, 9), date(2026, 3, 11))
    options = ClientOptions(rpm=0, backoff_base=0, max_attempts=2, sleep=no_sleep)
    provider = providers.get("google")(
        kit.good_key,
        account=kit.account,
        options=dataclasses.replace(options, transport=httpx.MockTransport(fake.handler)),  # type: ignore[attr-defined]
    )
    clients = provider._clients  # type: ignore[attr-defined]
    assert len(clients) == 2 and {c.max_attempts for c in clients} == {2}
    assert {c.title for c in clients} == {"Google BigQuery", "Google sign-in"}
    await provider.aclose()
    assert all(c._http.is_closed for c in clients)
