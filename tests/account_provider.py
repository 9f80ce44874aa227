"""A provider that exists only in the tests, with account settings of every kind a provider may declare:
a required field (`--region`), two alternatives of which exactly one is given (`--org` / `--enterprise`)
and an optional one (`--project`). It proves the account-fields path end to end (CLI flags, the add
form, the store, the sync handing them back) without depending on any real provider's rules.

`example_provider` registers it for one test (the registry's rows, undone afterwards). Its fake API
echoes nothing but checks that every call carries the account it was built with.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
import pytest

from grafient_tui.providers.base import (
    AccountField,
    AccountInfo,
    Capabilities,
    CostLine,
    Limits,
    Provider,
    RequestStats,
    check_account,
)
from grafient_tui.providers.http import HttpClient

NAME = "example"
KEY = "ex-" + "Zq7Lm3Np" * 5
BASE_URL = "https://api.example.test"

FIELDS = (
    AccountField(
        name="region",
        flag="--region",
        metavar="REGION",
        label="Region",
        help="The region the account lives in: eu or us.",
        pattern=r"eu|us",
        invalid="The region is eu or us.",
        placeholder="eu",
    ),
    AccountField(
        name="org",
        flag="--org",
        metavar="ORG",
        label="Organization",
        help="The organization's short name.",
        pattern=r"[A-Za-z0-9][A-Za-z0-9-]{0,38}",
        invalid="An organization name is letters, digits and hyphens.",
        group="owner",
        placeholder="acme",
    ),
    AccountField(
        name="enterprise",
        flag="--enterprise",
        metavar="SLUG",
        label="Enterprise",
        help="The enterprise's slug.",
        pattern=r"[a-z0-9-]{1,60}",
        invalid="An enterprise slug is lower-case letters, digits and hyphens.",
        group="owner",
        placeholder="acme-corp",
    ),
    AccountField(
        name="project",
        flag="--project",
        metavar="P",
        label="Project",
        help="A project to bill the reads to.",
        pattern=r"[a-z][a-z0-9-]{2,29}",
        invalid="A project id is 3 to 30 lower-case letters, digits and hyphens.",
        required=False,
    ),
)


class ExampleClient(Provider):
    name = NAME
    title = "Example"
    key_kind = "Reader key"
    key_help = "A reader key of your Example account."
    key_placeholder = "ex-…"
    limits = Limits(max_window_days=30, history_days={"free": 30}, max_history_days=30, settle_days=1, default_rpm=60)
    capabilities = Capabilities(has_requests=False, actor_kind="member", has_on_demand=False)
    account_fields = FIELDS

    def __init__(self, api_key: str, account: Mapping[str, str], transport: httpx.AsyncBaseTransport | None) -> None:
        self.account = dict(account)
        owner = account.get("org") or account["enterprise"]
        self._api = HttpClient(
            api_key,
            title=self.title,
            base_url=BASE_URL,
            headers={"Authorization": f"Bearer {api_key}", "X-Region": account["region"], "X-Owner": owner},
            transport=transport,
            backoff_base=0,
        )

    @property
    def stats(self) -> RequestStats:  # type: ignore[override]
        return self._api.stats

    @classmethod
    def from_settings(
        cls,
        api_key: str,
        settings: Any,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        account: Mapping[str, str] | None = None,
    ) -> ExampleClient:
        return cls(api_key, check_account(FIELDS, account or {}, title=cls.title), transport)

    async def validate(self) -> AccountInfo:
        data = await self._api.request("GET", "/check")
        return AccountInfo(members=int(data["members"]), fingerprint=str(data["account"]))

    def cost_lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        return self._lines(first, last)

    async def _lines(self, first: datetime.date, last: datetime.date) -> AsyncIterator[list[CostLine]]:
        data = await self._api.request("GET", "/costs", params={"first": first.isoformat(), "last": last.isoformat()})
        yield [
            CostLine(datetime.date.fromisoformat(d), "model-a", self.account["region"], False, int(c), None)
            for d, c in data["days"].items()
        ]

    async def aclose(self) -> None:
        await self._api.aclose()


class FakeExampleAccount:
    """Answers a key for one region and owner; a call with any other account gets 403, a wrong key 401."""

    def __init__(self, *, api_key: str = KEY, region: str = "eu", owner: str = "acme", cents: int = 250) -> None:
        self.api_key, self.region, self.owner, self.cents = api_key, region, owner, cents
        self.calls: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return httpx.Response(401, json={"message": "bad key"})
        if request.headers.get("x-region") != self.region or request.headers.get("x-owner") != self.owner:
            return httpx.Response(403, json={"message": "not your account"})
        if request.url.path == "/check":
            return httpx.Response(200, json={"members": 3, "account": f"{self.region}/{self.owner}"})
        first = datetime.date.fromisoformat(request.url.params["first"])
        last = datetime.date.fromisoformat(request.url.params["last"])
        days = {
            (first + datetime.timedelta(days=i)).isoformat(): self.cents * 1_000_000
            for i in range((last - first).days + 1)
        }
        return httpx.Response(200, json={"days": days})


@pytest.fixture
def example_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The Example provider in the registry for this test (a row like any provider's)."""
    from grafient_tui import providers

    row = providers.ProviderRow(
        title=ExampleClient.title,
        client=f"{__name__}:ExampleClient",
        fake=f"{__name__}:FakeExampleAccount",
        base_url=BASE_URL,
        capabilities={"has_requests": False, "actor_kind": "member", "has_on_demand": False},
        colour="#ffffff",
        account_fields=f"{__name__}:FIELDS",
    )
    monkeypatch.setitem(providers._ROWS, NAME, row)
    yield NAME
