"""The Google Gemini provider (Cloud Billing export in BigQuery) against a faked network: the fake export
and token endpoint behind httpx.MockTransport, or answers in the contract's shapes
(shared/google-billing-export.md). Nothing of ours is patched."""

from __future__ import annotations

import base64
import datetime
import json
import logging
import traceback
import urllib.parse
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from grafient_tui.config import Settings
from grafient_tui.errors import ConfigError
from grafient_tui.providers import get as registered
from grafient_tui.providers.base import CostLine
from grafient_tui.providers.google.api import (
    CLOCK_OFF,
    SCOPE_REFUSED,
    GoogleBillingClient,
    account_fingerprint,
    billing_account,
)
from grafient_tui.providers.google.auth import NOT_A_KEY, UNREADABLE_KEY, NotAServiceAccountKey
from grafient_tui.providers.google.costs import model_of
from grafient_tui.providers.google.fake import FakeBillingExport, bq_error, export_row, service_account_key
from grafient_tui.providers.http import AccessDenied, BadResponse, KeyRejected, LimitExceeded, RequestRejected
from grafient_tui.secret import scrub_known

KEY = service_account_key(seed=7)
KEY_INFO = json.loads(KEY)
TABLE = "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"
TODAY = datetime.date(2026, 12, 7)
NOW = datetime.datetime(2026, 12, 7, 10, 30, tzinfo=datetime.UTC)
TOKEN_URL = "http://127.0.0.1:9/oauth/token"  # GRAFIENT_GOOGLE_TOKEN_URL in a test: loopback http
BASE = "https://bigquery.googleapis.com"
PROJECTS = [("chat-prod", "Chat Prod"), ("search-ai-7f3", "Search AI")]

# The contract's query, written out again: what Grafient must send, apart from whitespace and the table.
CONTRACT_SQL = """
SELECT
  FORMAT_DATE('%F', DATE(usage_start_time)) AS day,
  service.description AS service,
  TRIM(sku.description) AS sku,
  project.id AS project_id,
  ANY_VALUE(project.name) AS project_name,
  currency,
  CAST(currency_conversion_rate AS STRING) AS usd_rate,
  SUM(CAST(cost AS NUMERIC(38, 9))) AS cost,
  SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC(38, 9))) FROM UNNEST(credits) AS c), 0)) AS credits,
  COUNT(*) AS row_count
FROM `PROJECT.DATASET.TABLE`
WHERE (_PARTITIONTIME IS NULL OR _PARTITIONTIME >= TIMESTAMP(DATE_SUB(@first_day, INTERVAL 1 DAY)))
  AND usage_start_time >= TIMESTAMP(@first_day)
  AND usage_start_time < TIMESTAMP(DATE_ADD(@last_day, INTERVAL 1 DAY))
  AND IFNULL(cost_type, 'regular') NOT IN ('tax', 'rounding_error')
  AND (service.description IN ('Gemini API', 'Generative Language API')
       OR (service.description = 'Vertex AI' AND LOWER(sku.description) LIKE '%gemini%'))
GROUP BY day, service, sku, project_id, currency, usd_rate
ORDER BY day, service, sku, project_id, currency, usd_rate
"""

SCHEMA = {
    "fields": [
        {"name": n, "type": t}
        for n, t in (
            ("day", "STRING"),
            ("service", "STRING"),
            ("sku", "STRING"),
            ("project_id", "STRING"),
            ("project_name", "STRING"),
            ("currency", "STRING"),
            ("usd_rate", "STRING"),
            ("cost", "NUMERIC"),
            ("credits", "NUMERIC"),
            ("row_count", "INTEGER"),
        )
    ]
}
JOB = {"projectId": "grafient-reader", "jobId": "job_Xq3v", "location": "US"}


class Clock:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A handler that keeps every request, and answers with `inner`."""

    def __init__(self, inner: Callable[[httpx.Request], httpx.Response]) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner(request)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def export(rows: list[dict[str, Any]] | None = None, **kwargs: Any) -> FakeBillingExport:
    options: dict[str, Any] = {"keys": [KEY], "table": TABLE, "rows": rows or [], "now": NOW}
    options.update(kwargs)
    return FakeBillingExport(**options)


def client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    key: str = KEY,
    account: dict[str, str] | None = None,
    wall: Callable[[], float] | None = None,
    monotonic: Callable[[], float] | None = None,
    **kwargs: Any,
) -> GoogleBillingClient:
    options: dict[str, Any] = {
        "rpm": 0,
        "backoff_base": 0,
        "token_url": TOKEN_URL,
        "wall_clock": wall or (lambda: NOW.timestamp()),
        "monotonic": monotonic or Clock(),
        "transport": httpx.MockTransport(handler),
    }
    options.update(kwargs)
    c = GoogleBillingClient(key, account=account or {"table": TABLE}, **options)
    c.today = TODAY
    return c


async def lines_of(c: GoogleBillingClient, first: datetime.date, last: datetime.date) -> list[CostLine]:
    return [line async for batch in c.cost_lines(first, last) for line in batch]


def answer(rows: list[list[Any]], **fields: Any) -> dict[str, Any]:
    """A finished jobs.query answer of the contract's shape."""
    body: dict[str, Any] = {
        "kind": "bigquery#queryResponse",
        "schema": SCHEMA,
        "jobReference": JOB,
        "totalRows": str(len(rows)),
        "rows": [{"f": [{"v": v} for v in row]} for row in rows],
        "totalBytesProcessed": "10485760",
        "jobComplete": True,
        "cacheHit": False,
    }
    body.update(fields)
    return body


def scripted(*answers: dict[str, Any] | httpx.Response) -> Recorder:
    """Google's token endpoint answering with a token, and BigQuery with `answers` in turn."""
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "ya29.a0Af" + "x" * 40, "expires_in": 3599})
        item = queue.pop(0)
        return item if isinstance(item, httpx.Response) else httpx.Response(200, json=item)

    return Recorder(handle)


def day_rows(day: str = "2026-12-05", **over: Any) -> list[Any]:
    row = {
        "day": day,
        "service": "Gemini API",
        "sku": "Generate content input token count gemini 2.5 pro short input text",
        "project_id": "chat-prod",
        "project_name": "Chat Prod",
        "currency": "USD",
        "usd_rate": "1.0",
        "cost": "1.5",
        "credits": "0",
        "row_count": "2",
    }
    row.update(over)
    return list(row.values())


def rendered(error: BaseException) -> str:
    return " ".join([str(error), "".join(traceback.format_exception(error))])


# ------------------------------------------------------------------ registry and settings


def test_registered_with_its_limits_capabilities_and_account_fields() -> None:
    provider = registered("google")
    assert provider is GoogleBillingClient and provider.title == "Google Gemini"
    limits, caps = provider.limits, provider.capabilities
    assert limits.max_window_days >= 366 and limits.one_window  # one query for the whole range a sync needs
    assert limits.history_for("free") == 30 and limits.history_for("pro") == 365 and limits.max_history_days == 365
    assert limits.settle_days == 5 and limits.settle_month  # late rows, re-read
    assert not caps.has_requests and caps.actor_kind == "project" and caps.has_on_demand
    assert caps.cost_basis == "billed"
    assert [f.flag for f in provider.account_fields] == ["--table", "--query-project"]


async def test_from_settings_reads_both_urls_and_the_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFIENT_GOOGLE_API_URL", "https://bq-proxy.example")
    monkeypatch.setenv("GRAFIENT_GOOGLE_TOKEN_URL", "http://127.0.0.1:8089/t")
    fake = export(rows=[], job_user={"other-project"})
    seen = Recorder(fake.handler)
    async with GoogleBillingClient.from_settings(
        KEY,
        Settings.from_env(),
        transport=httpx.MockTransport(seen),
        account={"table": TABLE, "query_project": "other-project"},
    ) as c:
        c.today = TODAY
        with pytest.raises(Exception):  # noqa: B017  (the fake serves /token only: this is about where calls go)
            await c.validate()
    assert str(seen.requests[0].url) == "http://127.0.0.1:8089/t"
    assert seen.requests[0].url.host == "127.0.0.1"
    assert c.base_url == "https://bq-proxy.example" and c.query_project == "other-project"


def test_a_token_url_off_this_machine_must_be_https() -> None:
    with pytest.raises(ConfigError, match="GRAFIENT_GOOGLE_TOKEN_URL must use https"):
        Settings.from_env({"GRAFIENT_GOOGLE_TOKEN_URL": "http://tokens.example/token"})


def test_the_query_project_defaults_to_the_keys_own() -> None:
    c = client(export().handler)
    assert c.query_project == KEY_INFO["project_id"] == "grafient-reader"


@pytest.mark.parametrize(
    "table",
    [
        "billing_export.gcp_billing_export_resource_v1_X",  # no project
        "Billing-admin.ds.t",  # a project id is lower case
        "billing-admin.ds.t` WHERE 1=1 --",
        "billing-admin.ds.t;DROP TABLE x",
        "billing-admin.ds.t.u",
    ],
)
def test_a_table_that_is_not_project_dataset_table_is_refused_before_it_can_reach_the_sql(table: str) -> None:
    with pytest.raises(ConfigError, match=r"--table is PROJECT\.DATASET\.TABLE"):
        client(export().handler, account={"table": table})


# ------------------------------------------------------------------ the key, read locally


@pytest.mark.parametrize(
    "text",
    [
        "not json at all",
        "AIzaSyD-" + "x" * 31,  # an AI Studio API key
        json.dumps({"type": "authorized_user", "client_id": "1", "client_secret": "s", "refresh_token": "r"}),
        json.dumps({**KEY_INFO, "private_key": None}),
        json.dumps({k: v for k, v in KEY_INFO.items() if k != "client_email"}),
        json.dumps([KEY_INFO]),
    ],
)
def test_what_is_not_a_service_account_key_is_refused_before_any_call(text: str) -> None:
    calls = Recorder(export().handler)
    with pytest.raises(NotAServiceAccountKey) as raised:
        client(calls, key=text)
    assert raised.value.sentence == NOT_A_KEY and not calls.requests
    assert "IAM & Admin → Service accounts → Keys" in NOT_A_KEY


def test_a_private_key_that_cannot_be_read_is_refused_without_being_shown() -> None:
    broken = KEY_INFO["private_key"].replace("MII", "MIX", 1)
    with pytest.raises(NotAServiceAccountKey) as raised:
        client(export().handler, key=json.dumps({**KEY_INFO, "private_key": broken}))
    assert raised.value.sentence == UNREADABLE_KEY
    body = "".join(broken.splitlines()[1:-1])
    assert body[:40] not in rendered(raised.value) and body[-40:] not in rendered(raised.value)


def test_the_clients_repr_names_the_key_by_its_id_only() -> None:
    c = client(export().handler)
    text = repr(c) + repr(c._account)
    assert f"…{KEY_INFO['private_key_id'][-4:]}" in text
    assert KEY_INFO["private_key"][40:80] not in text and KEY_INFO["private_key_id"] not in text


# ------------------------------------------------------------------ signing in


def _segment(text: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


async def test_the_token_request_is_a_signed_jwt_posted_form_encoded_to_the_token_url() -> None:
    fake = export()
    calls = Recorder(fake.handler)
    issued = int(NOW.timestamp())
    async with client(calls, wall=lambda: NOW.timestamp() + 0.75) as c:
        await c.validate()
    token_calls = [r for r in calls.requests if r.url.path == "/oauth/token"]
    assert len(token_calls) == 1
    request = token_calls[0]
    assert str(request.url) == TOKEN_URL and request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = dict(urllib.parse.parse_qsl(request.content.decode()))
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer" and set(form) == {
        "grant_type",
        "assertion",
    }
    head, body, signature = form["assertion"].split(".")
    assert _segment(head) == {"alg": "RS256", "typ": "JWT", "kid": KEY_INFO["private_key_id"]}
    assert _segment(body) == {
        "iss": KEY_INFO["client_email"],
        "scope": "https://www.googleapis.com/auth/bigquery.readonly",
        "aud": "https://oauth2.googleapis.com/token",  # the literal, though the request went elsewhere
        "iat": issued,
        "exp": issued + 3600,
    }
    private = serialization.load_pem_private_key(KEY_INFO["private_key"].encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    private.public_key().verify(raw, f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    # BigQuery then gets the token it was given, as a Bearer token
    bigquery = [r for r in calls.requests if r.url.path.startswith("/bigquery/")]
    assert bigquery and all(r.headers["authorization"].startswith("Bearer ya29.") for r in bigquery)


async def test_the_assertion_never_goes_to_the_keys_own_token_uri() -> None:
    planted = json.dumps({**KEY_INFO, "token_uri": "https://attacker.example/token"})
    fake = export(keys=[planted])
    calls = Recorder(fake.handler)
    async with client(calls, key=planted) as c:
        await c.validate()
    assert {r.url.host for r in calls.requests} == {"127.0.0.1", "bigquery.googleapis.com"}


async def test_a_token_is_reused_while_valid_and_renewed_a_minute_before_it_runs_out() -> None:
    fake = export(rows=[export_row(TODAY, "Gemini API", "Grounding with Google Search", PROJECTS[0], 1.0)])
    calls = Recorder(fake.handler)
    clock = Clock(100.0)
    async with client(calls, monotonic=clock) as c:
        await lines_of(c, TODAY, TODAY)
        await lines_of(c, TODAY, TODAY)
        assert calls.paths().count("/oauth/token") == 1
        clock.now = 100.0 + 3599 - 61  # still more than a minute left
        await lines_of(c, TODAY, TODAY)
        assert calls.paths().count("/oauth/token") == 1
        clock.now = 100.0 + 3599 - 59
        await lines_of(c, TODAY, TODAY)
        assert calls.paths().count("/oauth/token") == 2


async def test_a_401_from_bigquery_gets_one_new_token_then_fails() -> None:
    fake = export(rows=[export_row(TODAY, "Gemini API", "Grounding with Google Search", PROJECTS[0], 2.0)])
    calls = Recorder(fake.handler)
    async with client(calls) as c:
        await lines_of(c, TODAY, TODAY)
        fake.revoke_tokens()  # the token has expired at Google
        lines = await lines_of(c, TODAY, TODAY)
        assert sum(line.cost_micro for line in lines) == 200_000_000
        assert calls.paths().count("/oauth/token") == 2

    always = Recorder(
        lambda r: (
            httpx.Response(200, json={"access_token": "ya29.t" + "y" * 30, "expires_in": 3599})
            if r.url.path == "/oauth/token"
            else bq_error(401, "authError", "Request had invalid authentication credentials.")
        )
    )
    async with client(always) as c:
        with pytest.raises(KeyRejected, match="refused the access token"):
            await lines_of(c, TODAY, TODAY)
    assert always.paths().count("/oauth/token") == 2 and len(always.requests) == 4


@pytest.mark.parametrize(
    ("error", "description", "sentence"),
    [
        ("invalid_grant", "Invalid JWT Signature.", "deleted or rotated"),
        ("invalid_grant", "Invalid grant: account not found", "deleted or rotated"),
        (
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your "
            "iat and exp values in the JWT claim.",
            CLOCK_OFF,
        ),
        ("invalid_scope", "Invalid OAuth scope or ID token audience provided.", SCOPE_REFUSED),
        ("invalid_client", "The OAuth client was not found.", "deleted or rotated"),
    ],
)
async def test_every_refusal_of_the_token_endpoint_is_our_sentence_never_googles(
    error: str, description: str, sentence: str, caplog: pytest.LogCaptureFixture
) -> None:
    marked = description + " MARKER-FROM-GOOGLE"
    calls = Recorder(lambda r: httpx.Response(400, json={"error": error, "error_description": marked}))
    async with client(calls) as c:
        with pytest.raises(KeyRejected) as raised:
            await c.validate()
    assert sentence in raised.value.sentence and "Google Gemini" in raised.value.sentence
    assert "MARKER" not in raised.value.sentence
    assert len(calls.requests) == 1  # a refused key is not retried, and BigQuery is never asked


async def test_a_clock_that_is_off_is_told_as_such_by_the_fake_too() -> None:
    fake = export(now=NOW + datetime.timedelta(hours=2))
    async with client(fake.handler) as c:
        with pytest.raises(KeyRejected) as raised:
            await c.validate()
    assert raised.value.sentence == CLOCK_OFF


async def test_another_key_of_the_same_account_name_is_refused_by_its_signature() -> None:
    fake = export()
    async with client(fake.handler, key=service_account_key(seed=8)) as c:
        with pytest.raises(KeyRejected, match="deleted or rotated"):
            await c.validate()


# ------------------------------------------------------------------ validation refusals


async def test_a_good_key_and_table_give_the_account() -> None:
    yesterday = TODAY - datetime.timedelta(days=1)
    rows = [
        export_row(yesterday, "Gemini API", "Grounding with Google Search", PROJECTS[0], 1.0),
        export_row(yesterday, "Vertex AI", "Gemini 2.5 Flash GA Text Input - Predictions", PROJECTS[1], 1.0),
        export_row(yesterday, "Compute Engine", "N2 Instance Core", ("infra-only", "Infra"), 9.0),
    ]
    fake = export(rows=rows)
    calls = Recorder(fake.handler)
    async with client(calls) as c:
        info = await c.validate()
    assert info.members == 2 and info.fingerprint  # the projects with Gemini spend yesterday
    assert calls.paths() == [
        "/oauth/token",
        "/bigquery/v2/projects/billing-admin/datasets/billing_export/tables/gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C",
        "/bigquery/v2/projects/grafient-reader/queries",
    ]
    params = {p["name"]: p["parameterValue"]["value"] for p in fake.queries[0]["queryParameters"]}
    assert params == {"first_day": "2026-12-06", "last_day": "2026-12-06"}  # yesterday only: the 10 MB minimum


async def test_the_same_table_is_the_same_account_whichever_key_reads_it() -> None:
    other = service_account_key(seed=9, name="another-reader")
    fake = export(keys=[KEY, other])
    async with client(fake.handler) as a, client(fake.handler, key=other) as b:
        first, second = (await a.validate()).fingerprint, (await b.validate()).fingerprint
    async with client(export(table=TABLE + "_2").handler, account={"table": TABLE + "_2"}) as c:
        third = (await c.validate()).fingerprint
    assert first == second != third


def test_the_billing_account_the_table_s_name_carries_is_the_account() -> None:
    """Google names an export table after its billing account: two tables of one account (an export moved
    to another dataset or project, a copy) are one account; a table named otherwise is its own."""
    moved = "other-admin.billing_eu.gcp_billing_export_resource_v1_0a1b2c_3d4e5f_6a7b8c"
    assert billing_account(TABLE) == billing_account(moved) == "0A1B2C-3D4E5F-6A7B8C"
    assert account_fingerprint(TABLE) == account_fingerprint(moved)
    another = TABLE.replace("0A1B2C_3D4E5F_6A7B8C", "0F0F0F_1E1E1E_2D2D2D")
    assert billing_account(another) == "0F0F0F-1E1E1E-2D2D2D" and account_fingerprint(another) != account_fingerprint(
        TABLE
    )
    view, copy = "billing-admin.views.gemini_spend", "billing-admin.views2.gemini_spend"
    assert billing_account(view) is None and billing_account(TABLE + "_2") is None
    assert len({account_fingerprint(view), account_fingerprint(copy), account_fingerprint(TABLE)}) == 3


@pytest.mark.parametrize(
    ("fake_options", "account", "error", "words"),
    [
        ({"standard": True}, {}, AccessDenied, "this is the standard export"),
        ({"table": TABLE.replace("resource_v1", "v1")}, {}, RequestRejected, "does not know the table"),
        ({"data_viewer": False}, {}, AccessDenied, "BigQuery Data Viewer"),
        ({"job_user": set()}, {}, AccessDenied, "BigQuery Job User on project grafient-reader"),
        (
            {"job_user": {"grafient-reader"}},
            {"query_project": "billing-admin"},
            AccessDenied,
            "Job User on project billing-admin",
        ),
    ],
)
async def test_each_refusal_at_validation_is_one_sentence(
    fake_options: dict[str, Any], account: dict[str, str], error: type[Exception], words: str
) -> None:
    fake = export(**fake_options)
    async with client(fake.handler, account={"table": TABLE, **account}) as c:
        with pytest.raises(error) as raised:
            await c.validate()
    sentence = raised.value.sentence  # type: ignore[attr-defined]
    assert words in sentence and "\n" not in sentence and "Google" in sentence
    assert KEY_INFO["private_key_id"] not in sentence


async def test_the_standard_export_by_its_name_is_refused_with_the_detailed_tables_name() -> None:
    standard = "billing-admin.billing_export.gcp_billing_export_v1_0A1B2C_3D4E5F_6A7B8C"
    async with client(export(table=standard, standard=True).handler, account={"table": standard}) as c:
        with pytest.raises(AccessDenied) as raised:
            await c.validate()
    assert "gcp_billing_export_resource_v1_" in raised.value.sentence


# ------------------------------------------------------------------ the query


async def test_the_query_is_the_contracts_standard_sql_with_the_days_as_parameters() -> None:
    fake = export()
    async with client(fake.handler) as c:
        await lines_of(c, datetime.date(2026, 11, 1), TODAY)
    (body,) = fake.queries
    assert " ".join(body["query"].split()) == " ".join(CONTRACT_SQL.replace("PROJECT.DATASET.TABLE", TABLE).split())
    assert body["useLegacySql"] is False and body["parameterMode"] == "NAMED"
    assert body["queryParameters"] == [
        {"name": "first_day", "parameterType": {"type": "DATE"}, "parameterValue": {"value": "2026-11-01"}},
        {"name": "last_day", "parameterType": {"type": "DATE"}, "parameterValue": {"value": "2026-12-07"}},
    ]
    assert body["timeoutMs"] == 20000 and body["maxResults"] == 10000 and "location" not in body


async def test_the_partition_filter_keeps_late_rows_and_the_streaming_buffer_and_prunes_older_partitions() -> None:
    first = datetime.date(2026, 12, 1)
    rows = [
        export_row(first, "Gemini API", "Grounding with Google Search", PROJECTS[0], 1.0, late_days=3),
        {**export_row(first, "Gemini API", "Grounding with Google Search", PROJECTS[0], 2.0), "partition": None},
        export_row(first - datetime.timedelta(days=3), "Gemini API", "Grounding with Google Search", PROJECTS[0], 4.0),
    ]
    async with client(export(rows=rows).handler) as c:
        lines = await lines_of(c, first, TODAY)
    assert sum(line.cost_micro for line in lines) == 300_000_000


async def test_an_unfinished_query_is_polled_and_never_read_as_no_rows() -> None:
    rows = [export_row(TODAY, "Gemini API", "Grounding with Google Search", PROJECTS[0], 3.25)]
    fake = export(rows=rows, incomplete_answers=3, location="EU")
    calls = Recorder(fake.handler)
    async with client(calls) as c:
        lines = await lines_of(c, TODAY, TODAY)
    assert sum(line.cost_micro for line in lines) == 325_000_000
    polls = [r for r in calls.requests if r.method == "GET" and "/queries/" in r.url.path]
    assert len(polls) == 3
    assert all(r.url.params["location"] == "EU" and "pageToken" not in r.url.params for r in polls)
    assert all(r.url.path == "/bigquery/v2/projects/grafient-reader/queries/job_0001Xq3v" for r in polls)


async def test_a_query_that_never_finishes_fails_its_window() -> None:
    fake = export(incomplete_answers=10_000)
    async with client(fake.handler) as c:
        with pytest.raises(LimitExceeded, match="had not finished the query"):
            await lines_of(c, TODAY, TODAY)


async def test_pages_are_followed_to_the_last_and_add_up_to_total_rows() -> None:
    rows = [
        export_row(TODAY - datetime.timedelta(days=d % 20), "Gemini API", f"SKU {d}", PROJECTS[d % 2], 0.01 * (d + 1))
        for d in range(57)
    ]
    fake = export(rows=rows, page_rows=10)
    calls = Recorder(fake.handler)
    async with client(calls) as c:
        lines = await lines_of(c, TODAY - datetime.timedelta(days=30), TODAY)
    assert sum(line.cost_micro for line in lines) == sum(round(0.01 * (d + 1) * 100) for d in range(57)) * 1_000_000
    tokens = [r.url.params.get("pageToken") for r in calls.requests if "/queries/" in r.url.path]
    assert tokens == [f"page-{n}" for n in range(10, 57, 10)]


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        (
            [answer([day_rows()], pageToken="A"), answer([day_rows("2026-12-04")], pageToken="A")],
            "pageToken seen before",
        ),
        ([answer([day_rows()], totalRows="3")], "announced 3"),
        ([{k: v for k, v in answer([day_rows()]).items() if k != "jobComplete"}], "no jobComplete"),
        ([{k: v for k, v in answer([day_rows()]).items() if k != "schema"}], "without a schema"),
        ([{k: v for k, v in answer([day_rows()]).items() if k != "totalRows"}], "without totalRows"),
        ([answer([day_rows()], schema={"fields": [{"name": "day"}]})], "columns other than the query's"),
        ([answer([day_rows("2026-11-01")])], "outside"),
        ([answer([day_rows("12/05/2026")])], "not YYYY-MM-DD"),
        ([answer([day_rows(cost=1.5)])], "not a decimal string"),
        ([answer([day_rows(credits="1,5")])], "not a decimal string"),
        ([answer([day_rows(usd_rate="0")])], "conversion rate"),
        ([answer([day_rows(usd_rate=None)])], "conversion rate"),
        ([answer([day_rows(), day_rows("2026-12-04", currency="EUR")])], "currency that changes"),
        ([answer([day_rows()], pageToken="B"), answer([day_rows("2026-12-04")], jobComplete=False)], "unfinished"),
        ([{"kind": "bigquery#queryResponse", "jobComplete": False}], "without a jobReference"),
        ([answer([day_rows()], jobReference={"projectId": "grafient-reader", "jobId": "../../x"})], "job id"),
    ],
)
async def test_a_malformed_answer_fails_its_window_and_never_becomes_empty_days(
    answers: list[dict[str, Any]], words: str
) -> None:
    async with client(scripted(*answers)) as c:
        with pytest.raises(BadResponse) as raised:
            await lines_of(c, datetime.date(2026, 12, 1), TODAY)
    assert words in raised.value.sentence and "nothing from this window was saved" in raised.value.sentence


async def test_a_truncated_body_is_a_network_error_and_is_retried() -> None:
    whole = json.dumps(answer([day_rows()])).encode()
    async with client(scripted(httpx.Response(200, content=whole[:-40]), answer([day_rows()]))) as c:
        lines = await lines_of(c, datetime.date(2026, 12, 1), TODAY)
        assert c.stats.retries == 1
    assert sum(line.cost_micro for line in lines) == 150_000_000


@pytest.mark.parametrize(
    ("status", "reason"),
    [(403, "rateLimitExceeded"), (429, "rateLimitExceeded"), (403, "quotaExceeded"), (503, "backendError")],
)
async def test_rate_limits_and_backend_errors_are_waited_out_by_their_reason(status: int, reason: str) -> None:
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    limited = bq_error(status, reason, "Exceeded rate limits: too many api requests per user per method")
    limited.headers["Retry-After"] = "7"
    async with client(scripted(limited, answer([day_rows()])), sleep=sleep) as c:
        lines = await lines_of(c, datetime.date(2026, 12, 1), TODAY)
    assert sum(line.cost_micro for line in lines) == 150_000_000
    assert delays == [7.0] or (status == 503 and len(delays) == 1)


async def test_a_403_access_denied_is_a_refusal_not_a_retry() -> None:
    denied = bq_error(
        403, "accessDenied", "Access Denied: Project p: User does not have bigquery.jobs.create permission"
    )
    calls = scripted(denied, answer([day_rows()]))
    async with client(calls) as c:
        with pytest.raises(AccessDenied, match="Job User"):
            await lines_of(c, datetime.date(2026, 12, 1), TODAY)
    assert len(calls.requests) == 2  # the token, and one query


# ------------------------------------------------------------------ the money


async def test_the_contracts_answer_gives_bill_and_credits_exactly() -> None:
    contract = answer(
        [
            [
                "2026-11-01",
                "Gemini API",
                "Generate content input token count gemini 2.5 pro short input text",
                "chat-prod",
                "Chat Prod",
                "USD",
                "1.0",
                "4.318207",
                "-0.812113",
                "3",
            ],
            [
                "2026-11-01",
                "Vertex AI",
                "Gemini 2.5 Flash GA Input Text Caching",
                None,
                None,
                "USD",
                "1.0",
                "-0.41",
                "0",
                "1",
            ],
        ]
    )
    async with client(scripted(contract)) as c:
        lines = await lines_of(c, datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
        assert c.cost_basis() is None  # US dollars: nothing to say beside them
    got = {(line.model, line.actor, line.on_demand): line.cost_micro for line in lines}
    assert got == {
        ("gemini-2.5-pro", "Chat Prod", True): 350_609_400,  # the bill: 4.318207 − 0.812113
        ("gemini-2.5-pro", "Chat Prod", False): 81_211_300,  # the credits, as the included part
        ("gemini-2.5-flash", "No project", True): -41_000_000,  # an adjustment, negative as sent
        ("gemini-2.5-flash", "No project", False): 0,
    }
    assert all(line.requests is None and line.input_tokens is None for line in lines)  # unknown, never 0


async def test_a_non_usd_account_is_converted_by_each_rows_rate_and_says_so() -> None:
    rows = [
        day_rows("2026-12-04", currency="EUR", usd_rate="0.9", cost="9.000009", credits="-0.9"),
        day_rows("2026-12-05", currency="EUR", usd_rate="1.5E-1", cost="0.3", credits="0"),
        day_rows(
            "2026-12-05", currency="EUR", usd_rate="0.7", cost="1", credits="0", sku="Grounding with Google Search"
        ),
    ]
    async with client(scripted(answer(rows))) as c:
        lines = await lines_of(c, datetime.date(2026, 12, 1), TODAY)
        basis = c.cost_basis()
    got = {(line.day.isoformat(), line.model, line.on_demand): line.cost_micro for line in lines}
    assert got[("2026-12-04", "gemini-2.5-pro", True)] == 900_001_000  # (9.000009 − 0.9) ÷ 0.9 = 9.00001
    assert got[("2026-12-04", "gemini-2.5-pro", False)] == 100_000_000  # 0.9 ÷ 0.9
    assert got[("2026-12-05", "gemini-2.5-pro", True)] == 200_000_000  # 0.3 ÷ 0.15
    assert got[("2026-12-05", "Grounding with Google Search", True)] == 142_857_143  # 1 ÷ 0.7, half-even
    assert basis is not None and basis.note == "converted from EUR at Google's daily rate" and basis.currency == "EUR"


def test_the_model_is_read_from_the_sku_as_the_contract_says() -> None:
    assert model_of("Generate content input token count gemini 2.5 flash lite text") == "gemini-2.5-flash-lite"
    assert model_of("Gemini 2.5 Flash GA Text Input - Predictions") == "gemini-2.5-flash"
    assert model_of(" Gemini 2.5 Pro Thinking Text Output - Predictions") == "gemini-2.5-pro"
    assert model_of("Gemini-2.0-Flash-Lite input") == "gemini-2.0-flash-lite"
    assert model_of("Grounding with Google Search") == "Grounding with Google Search"


async def test_projects_are_the_members_no_project_has_its_own_name_and_twins_stay_apart() -> None:
    rows = [
        export_row(TODAY, "Gemini API", "Grounding with Google Search", ("chat-prod", "Chat"), 1.0),
        export_row(TODAY, "Gemini API", "Grounding with Google Search", ("chat-eu", "Chat"), 2.0),
        export_row(TODAY, "Gemini API", "Grounding with Google Search", None, 4.0),
    ]
    async with client(export(rows=rows).handler) as c:
        lines = await lines_of(c, TODAY, TODAY)
    by_actor: dict[str, int] = {}
    for line in lines:
        by_actor[line.actor] = by_actor.get(line.actor, 0) + line.cost_micro
    assert by_actor == {"Chat (chat-pro)": 100_000_000, "Chat (chat-eu)": 200_000_000, "No project": 400_000_000}


async def test_tax_rounding_other_services_and_non_gemini_vertex_rows_are_left_out() -> None:
    rows = [
        export_row(TODAY, "Gemini API", "Grounding with Google Search", PROJECTS[0], 1.0),
        export_row(TODAY, "Gemini API", "Grounding with Google Search", PROJECTS[0], 5.0, cost_type="tax"),
        export_row(TODAY, "Gemini API", "Grounding with Google Search", PROJECTS[0], 0.01, cost_type="rounding_error"),
        export_row(TODAY, "Gemini API", "Grounding with Google Search", PROJECTS[0], -0.25, cost_type="adjustment"),
        export_row(TODAY, "Generative Language API", "Gemini 1.5 Pro output", PROJECTS[0], 0.5),
        export_row(TODAY, "Vertex AI", "Custom Training: N1 Predefined Instance Core", PROJECTS[0], 30.0),
        export_row(TODAY, "Claude Sonnet 4.5", "Claude Sonnet 4.5 Input Tokens", PROJECTS[0], 30.0),
    ]
    async with client(export(rows=rows).handler) as c:
        lines = await lines_of(c, TODAY, TODAY)
    assert sum(line.cost_micro for line in lines) == 125_000_000


# ------------------------------------------------------------------ secrets


async def test_the_private_key_and_the_token_never_reach_a_sentence_or_a_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = "ya29.a0AfSecretToken" + "Q" * 30

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": token, "expires_in": 3599})
        # A server echoing what it was sent: the Authorization header.
        return bq_error(400, "invalid", f"bad request with {request.headers['authorization']}")

    async with client(handle) as c:
        with pytest.raises(RequestRejected) as raised:
            await c.validate()
    texts = rendered(raised.value) + caplog.text
    body = "".join(KEY_INFO["private_key"].splitlines()[1:-1])
    assert token not in texts and token[8:] not in texts
    assert body[100:140] not in texts
    assert token not in scrub_known(f"oops {token} and {KEY_INFO['private_key']}")
    assert body[200:260] not in scrub_known(f"pem {KEY_INFO['private_key']}")


def test_decimal_strings_are_never_read_through_a_float() -> None:
    # 0.1 + 0.2 as floats is 0.30000000000000004; as the strings BigQuery sends, exactly 0.3.
    from grafient_tui.providers.google.costs import money

    assert money("0.1") + money("0.2") == Decimal("0.3")  # type: ignore[operator]
    assert money("1.5E-5") == Decimal("0.000015") and money(1.5) is None and money("1e999") is None
