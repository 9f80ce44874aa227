"""An in-memory Cloud Billing export in BigQuery, and Google's token endpoint, served as one httpx
handler: the demo's billing account and the tests'.

It answers like Google does as far as its docs tell (shared/google-billing-export.md): the token
endpoint checks the RS256 JWT of a service-account key it knows (signature, audience, scope, a
short lifetime) and hands out `ya29.` tokens; BigQuery wants one as a Bearer token (401 `authError`
without), `tables.get` describes the detailed export (a top-level `resource` record) or the
standard one, and `jobs.query` runs the query Grafient sends over the export's raw rows with
BigQuery's meaning: the `_PARTITIONTIME` pruning, the days as parameters, tax and rounding left
out, the Gemini rows only, grouped and summed as NUMERIC and sent back as decimal strings, page by
page (`pageToken`, `totalRows`), after `incomplete_answers` answers with `jobComplete: false`.
Refusals are BigQuery's: 403 `accessDenied` naming `bigquery.jobs.create` or the table, 404
`notFound`, 400 `invalidQuery` for legacy SQL or a query it does not know.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import itertools
import json
import random
import re
import urllib.parse
from decimal import Decimal
from functools import cache
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from grafient_tui.providers.google.costs import QUERY

TOKEN_PATH = "/token"
AUDIENCE = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/bigquery.readonly"
SLACK_SECONDS = 300  # how far `iat` may be from the fake's clock
MAX_PAGE_ROWS = 10_000

FIELDS = ("day", "service", "sku", "project_id", "project_name", "currency", "usd_rate", "cost", "credits", "row_count")
TYPES = ("STRING", "STRING", "STRING", "STRING", "STRING", "STRING", "STRING", "NUMERIC", "NUMERIC", "INTEGER")


# --------------------------------------------------------------------------- keys


@cache
def _rsa_key(seed: int) -> rsa.RSAPrivateKey:
    """One RSA key per seed and process (the key material is random; only its ids are seeded)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_account_key(seed: int = 1, project_id: str = "grafient-reader", name: str = "grafient-reader") -> str:
    """A service-account JSON key file's text, as IAM & Admin → Service accounts → Keys downloads it."""
    private = _rsa_key(seed)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    key_id = hashlib.sha1(f"fake-key-{seed}".encode(), usedforsecurity=False).hexdigest()
    email = f"{name}@{project_id}.iam.gserviceaccount.com"
    return json.dumps(
        {
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": email,
            "client_id": str(int(key_id[:16], 16)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
            "universe_domain": "googleapis.com",
        },
        indent=2,
    )


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _oauth_error(error: str, description: str) -> httpx.Response:
    return httpx.Response(400, json={"error": error, "error_description": description})


def bq_error(status: int, reason: str, message: str) -> httpx.Response:
    state = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
    return httpx.Response(
        status,
        json={
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
                "status": state.get(status, "UNKNOWN"),
            }
        },
    )


def _numeric(value: Decimal) -> str:
    """A NUMERIC as BigQuery writes it: plain decimal, no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _schema(standard: bool) -> list[dict[str, Any]]:
    def record(name: str, *fields: str) -> dict[str, Any]:
        return {
            "name": name,
            "type": "RECORD",
            "mode": "NULLABLE",
            "fields": [{"name": f, "type": "STRING"} for f in fields],
        }

    fields: list[dict[str, Any]] = [
        {"name": "billing_account_id", "type": "STRING"},
        record("service", "id", "description"),
        record("sku", "id", "description"),
        {"name": "usage_start_time", "type": "TIMESTAMP"},
        {"name": "usage_end_time", "type": "TIMESTAMP"},
        record("project", "id", "number", "name", "ancestry_numbers"),
        {"name": "export_time", "type": "TIMESTAMP"},
        {"name": "cost", "type": "FLOAT"},
        {"name": "currency", "type": "STRING"},
        {"name": "currency_conversion_rate", "type": "FLOAT"},
        {"name": "credits", "type": "RECORD", "mode": "REPEATED", "fields": [{"name": "amount", "type": "FLOAT"}]},
        {"name": "cost_type", "type": "STRING"},
    ]
    if not standard:
        fields += [record("resource", "name", "global_name"), record("price", "effective_price", "unit")]
    return fields


# --------------------------------------------------------------------------- the export


class FakeBillingExport:
    """One Cloud Billing account's detailed export table, readable through one or more keys.

    `rows` are export rows in the table's shape, as plain dicts: `service` and `sku` descriptions,
    `usage_start_time` (an aware datetime), `project` ({"id", "name"} or None), `cost`, `currency`,
    `currency_conversion_rate`, `credits` (a list of {"amount", "type"}), `cost_type`, and
    `partition` (the UTC day it was written: `_PARTITIONTIME`; None while in the streaming buffer).

    `keys` are the service-account key texts the token endpoint knows. `job_user` are the projects
    the account may run queries in; `data_viewer` whether it may read the table."""

    def __init__(
        self,
        *,
        keys: list[str],
        table: str = "billing-admin.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C",
        rows: list[dict[str, Any]] | None = None,
        standard: bool = False,
        data_viewer: bool = True,
        job_user: set[str] | None = None,
        incomplete_answers: int = 0,
        page_rows: int | None = None,
        location: str = "US",
        now: datetime.datetime | None = None,
        token_lifetime: int = 3599,
    ) -> None:
        self.accounts: dict[str, rsa.RSAPublicKey] = {}
        for text in keys:
            info = json.loads(text)
            private = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
            assert isinstance(private, rsa.RSAPrivateKey)
            self.accounts[info["client_email"]] = private.public_key()
        self.table = table
        self.rows = rows if rows is not None else []
        self.standard = standard
        self.data_viewer = data_viewer
        self.job_user = job_user if job_user is not None else {"grafient-reader"}
        self.incomplete_answers = incomplete_answers
        self.page_rows = page_rows
        self.location = location
        self.now = now  # the clock the JWT's iat is checked against (None: not checked)
        self.token_lifetime = token_lifetime
        self.tokens: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.queries: list[dict[str, Any]] = []  # every jobs.query body received
        self.assertions: list[dict[str, Any]] = []  # every JWT's header and claims
        self._ids = itertools.count(1)

    def revoke_tokens(self) -> None:
        """Every token handed out so far stops working (as when one expires)."""
        self.tokens.clear()

    # ------------------------------------------------------------------ serving

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith(TOKEN_PATH):  # Google's /token, or wherever GRAFIENT_GOOGLE_TOKEN_URL points
            return self._token(request)
        if not path.startswith("/bigquery/v2/projects/"):
            return bq_error(404, "notFound", "Not found: URL")
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return bq_error(401, "authError", "Request had invalid authentication credentials.")
        parts = path.split("/")[4:]  # after /bigquery/v2/projects/
        if request.method == "GET" and len(parts) == 5 and parts[1] == "datasets" and parts[3] == "tables":
            return self._table(parts[0], parts[2], parts[4])
        if request.method == "POST" and len(parts) == 2 and parts[1] == "queries":
            return self._query(parts[0], json.loads(request.content))
        if request.method == "GET" and len(parts) == 3 and parts[1] == "queries":
            return self._results(parts[0], parts[2], request.url.params)
        return bq_error(404, "notFound", "Not found: URL")

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = dict(urllib.parse.parse_qsl(request.content.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return _oauth_error("unsupported_grant_type", "Invalid grant_type: ")
        try:
            head, body, signature = form.get("assertion", "").split(".")
            header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
        except ValueError:
            return _oauth_error("invalid_grant", "Invalid JWT: Unable to parse.")
        public = self.accounts.get(claims.get("iss"))
        if public is None:
            return _oauth_error("invalid_grant", "Invalid grant: account not found")
        try:
            public.verify(_unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        self.assertions.append({"header": header, "claims": claims})
        if header.get("alg") != "RS256" or claims.get("aud") != AUDIENCE:
            return _oauth_error("invalid_grant", "Invalid JWT: Failed audience check.")
        if claims.get("scope") != SCOPE:
            return _oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        iat, exp = claims.get("iat"), claims.get("exp")
        late = self.now is not None and type(iat) is int and abs(iat - self.now.timestamp()) > SLACK_SECONDS
        if type(iat) is not int or type(exp) is not int or not 0 < exp - iat <= 3600 or late:
            return _oauth_error(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                "Check your iat and exp values in the JWT claim.",
            )
        token = "ya29." + hashlib.sha256(f"{signature}{len(self.tokens)}".encode()).hexdigest()
        self.tokens.add(token)
        return httpx.Response(
            200, json={"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        )

    def _table_name(self, project: str, dataset: str, table: str) -> str:
        return f"{project}:{dataset}.{table}"

    def _table(self, project: str, dataset: str, table: str) -> httpx.Response:
        if f"{project}.{dataset}.{table}" != self.table:
            return bq_error(404, "notFound", f"Not found: Table {self._table_name(project, dataset, table)}")
        if not self.data_viewer:
            name = self._table_name(project, dataset, table)
            return bq_error(
                403,
                "accessDenied",
                f"Access Denied: Table {name}: Permission bigquery.tables.get denied on table {name} "
                "(or it may not exist).",
            )
        return httpx.Response(
            200,
            json={
                "kind": "bigquery#table",
                "id": self._table_name(project, dataset, table),
                "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
                "schema": {"fields": _schema(self.standard)},
                "timePartitioning": {"type": "DAY"},
                "numRows": str(len(self.rows)),
                "location": self.location,
            },
        )

    def _query(self, project: str, body: dict[str, Any]) -> httpx.Response:
        self.queries.append(body)
        if project not in self.job_user:
            return bq_error(
                403,
                "accessDenied",
                f"Access Denied: Project {project}: User does not have bigquery.jobs.create permission in "
                f"project {project}.",
            )
        if body.get("useLegacySql", True) is not False:
            return bq_error(400, "invalidQuery", "Invalid table name: `x` [Try using standard SQL].")
        found = re.search(r"FROM `([^`]*)`", body.get("query", ""))
        table = found.group(1) if found else ""
        if " ".join(body.get("query", "").split()) != " ".join(QUERY.replace("{table}", table).split()):
            return bq_error(400, "invalidQuery", "Syntax error: Unexpected query (this fake runs Grafient's only)")
        if table != self.table:
            return bq_error(
                404, "notFound", f"Not found: Table {table.replace('.', ':', 1)} was not found in location US"
            )
        if not self.data_viewer:
            name = table.replace(".", ":", 1)
            return bq_error(
                403,
                "accessDenied",
                f"Access Denied: Table {name}: User does not have permission to query table {name}, or perhaps "
                "it does not exist.",
            )
        params = {p["name"]: p["parameterValue"]["value"] for p in body.get("queryParameters", [])}
        if body.get("parameterMode") != "NAMED" or set(params) != {"first_day", "last_day"}:
            return bq_error(400, "invalidQuery", "Query parameter 'first_day' not found")
        first, last = datetime.date.fromisoformat(params["first_day"]), datetime.date.fromisoformat(params["last_day"])
        job_id = f"job_{next(self._ids):04d}Xq3v"
        page = min(int(body.get("maxResults") or MAX_PAGE_ROWS), self.page_rows or MAX_PAGE_ROWS)
        self.jobs[job_id] = {
            "project": project,
            "rows": self.result(first, last),
            "waits": self.incomplete_answers,
            "page": page,
        }
        return self._answer(job_id, None, "bigquery#queryResponse")

    def _results(self, project: str, job_id: str, params: httpx.QueryParams) -> httpx.Response:
        job = self.jobs.get(job_id)
        if job is None or job["project"] != project:
            return bq_error(404, "notFound", f"Not found: Job {project}:{self.location}.{job_id}")
        if params.get("maxResults"):
            job["page"] = min(int(params["maxResults"]), self.page_rows or MAX_PAGE_ROWS)
        return self._answer(job_id, params.get("pageToken"), "bigquery#getQueryResultsResponse")

    def _answer(self, job_id: str, token: str | None, kind: str) -> httpx.Response:
        job = self.jobs[job_id]
        reference = {"projectId": job["project"], "jobId": job_id, "location": self.location}
        if job["waits"] > 0:
            job["waits"] -= 1
            return httpx.Response(200, json={"kind": kind, "jobReference": reference, "jobComplete": False})
        start = int(token.removeprefix("page-")) if token else 0
        rows = job["rows"]
        chunk = rows[start : start + job["page"]]
        answer: dict[str, Any] = {
            "kind": kind,
            "schema": {
                "fields": [{"name": n, "type": t, "mode": "NULLABLE"} for n, t in zip(FIELDS, TYPES, strict=True)]
            },
            "jobReference": reference,
            "totalRows": str(len(rows)),
            "totalBytesProcessed": "10485760",
            "jobComplete": True,
            "cacheHit": False,
        }
        if chunk:
            answer["rows"] = [{"f": [{"v": v} for v in row]} for row in chunk]
        if start + len(chunk) < len(rows):
            answer["pageToken"] = f"page-{start + len(chunk)}"
        return httpx.Response(200, json=answer)

    # ------------------------------------------------------------------ the query, as BigQuery runs it

    def result(self, first: datetime.date, last: datetime.date) -> list[list[str | None]]:
        """The query's rows for first..last: what BigQuery would answer, from the raw export rows."""
        groups: dict[tuple[str, str, str, str | None, str, str], list[Any]] = {}
        for row in self.rows:
            partition = row.get("partition")
            if partition is not None and partition < first - datetime.timedelta(days=1):
                continue  # pruned: written before the window (the rows of day D sit in D, D+1, ...)
            day = row["usage_start_time"].astimezone(datetime.UTC).date()
            if not first <= day <= last or (row.get("cost_type") or "regular") in ("tax", "rounding_error"):
                continue
            service, sku = row["service"], row["sku"]
            if not (
                service in ("Gemini API", "Generative Language API")
                or (service == "Vertex AI" and "gemini" in sku.lower())
            ):
                continue
            project = row.get("project") or {}
            key = (
                day.isoformat(),
                service,
                sku.strip(),
                project.get("id"),
                row["currency"],
                repr(row["currency_conversion_rate"]),
            )
            group = groups.setdefault(key, [project.get("name"), Decimal(0), Decimal(0), 0])
            group[1] += Decimal(repr(row["cost"]))
            group[2] += sum((Decimal(repr(c["amount"])) for c in row.get("credits", [])), Decimal(0))
            group[3] += 1
        out = []
        for key in sorted(groups, key=lambda k: tuple("" if v is None else v for v in k)):
            name, cost, credits, count = groups[key]
            day, service, sku, project_id, currency, rate = key
            out.append(
                [day, service, sku, project_id, name, currency, rate, _numeric(cost), _numeric(credits), str(count)]
            )
        return out


# --------------------------------------------------------------------------- data

# (service, SKU description, $ per unit of a day's usage share)
SKUS: list[tuple[str, str]] = [
    ("Gemini API", "Generate content input token count gemini 2.5 pro short input text"),
    ("Gemini API", "Generate content output token count gemini 2.5 pro short input text"),
    ("Gemini API", "Generate content input token count gemini 2.5 flash lite text"),
    ("Gemini API", "Generate content output token count Gemini 2.5 Flash text"),
    ("Gemini API", "Grounding with Google Search"),
    ("Vertex AI", "Gemini 2.5 Flash GA Text Input - Predictions"),
    ("Vertex AI", " Gemini 2.5 Pro Thinking Text Output - Predictions"),
    ("Vertex AI", "Gemini 2.5 Flash GA Input Text Caching"),
]
# Rows the query must leave out: other services, Vertex AI that is not Gemini.
OTHER_SKUS: list[tuple[str, str]] = [
    ("Vertex AI", "Custom Training: N1 Predefined Instance Core"),
    ("Compute Engine", "N2 Instance Core running in Americas"),
    ("Claude Sonnet 4.5 (Vertex AI Model Garden)", "Claude Sonnet 4.5 Input Tokens"),
]


def export_row(
    day: datetime.date,
    service: str,
    sku: str,
    project: tuple[str, str] | None,
    cost: float,
    *,
    credits: list[tuple[float, str]] | None = None,
    currency: str = "USD",
    rate: float = 1.0,
    late_days: int = 0,
    hour: int = 10,
    cost_type: str = "regular",
) -> dict[str, Any]:
    """One export row: `cost` in the account's currency (at most six decimals, as Google writes),
    credits as negative amounts, written `late_days` after its usage day."""
    start = datetime.datetime.combine(day, datetime.time(hour), datetime.UTC)
    return {
        "service": service,
        "sku": sku,
        "usage_start_time": start,
        "usage_end_time": start + datetime.timedelta(hours=1),
        "project": None if project is None else {"id": project[0], "name": project[1]},
        "cost": cost,
        "currency": currency,
        "currency_conversion_rate": rate,
        "credits": [{"amount": amount, "type": kind, "name": kind.title()} for amount, kind in credits or []],
        "cost_type": cost_type,
        "partition": day + datetime.timedelta(days=late_days),
    }


def make_rows(
    *,
    seed: int,
    start: datetime.date,
    days: int,
    projects: list[tuple[str, str]],
    currency: str = "USD",
    per_day: int = 6,
) -> list[dict[str, Any]]:
    """Deterministic export rows for every day from `start`: Gemini rows of several SKUs and projects,
    some with promotion or free-tier credits, some exported days late, one without a project
    (an adjustment) every fifth day, and rows the query must leave out (tax, other services)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        rate = 1.0 if currency == "USD" else round(rng.uniform(0.85, 0.95), 6)
        for _ in range(per_day):
            service, sku = rng.choice(SKUS)
            cost = round(rng.uniform(0.0, 12.0), 6)
            credits = [(-round(cost * rng.uniform(0.1, 1.0), 6), "PROMOTION")] if rng.random() < 0.3 else []
            if rng.random() < 0.1:
                credits.append((-round(rng.uniform(0.0, 0.5), 6), "FREE_TIER"))
            rows.append(
                export_row(
                    day,
                    service,
                    sku,
                    rng.choice(projects),
                    cost,
                    credits=credits,
                    currency=currency,
                    rate=rate,
                    late_days=rng.choice((0, 0, 0, 1, 2, 4)),
                    hour=rng.randint(0, 23),
                )
            )
        if offset % 5 == 0:
            rows.append(
                export_row(
                    day, "Gemini API", SKUS[0][1], None, -0.41, currency=currency, rate=rate, cost_type="adjustment"
                )
            )
        service, sku = rng.choice(OTHER_SKUS)
        rows.append(
            export_row(
                day, service, sku, rng.choice(projects), round(rng.uniform(1, 40), 6), currency=currency, rate=rate
            )
        )
        rows.append(
            export_row(day, SKUS[0][0], SKUS[0][1], None, 1.234567, currency=currency, rate=rate, cost_type="tax")
        )
    return rows


DEMO_PROJECTS = [("chat-prod", "Chat Prod"), ("search-ai-7f3", "Search AI"), ("ml-sandbox", "ML Sandbox")]


def demo_account(key: str, today: datetime.date, seed: int) -> FakeBillingExport:
    """A billing account whose detailed export began on the first day of last month (a multi-region
    dataset's first day): AI Studio and Vertex AI Gemini use in three projects, free-trial credits
    in the first weeks, some rows exported a few days late. Seeded."""
    first = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    rows = make_rows(seed=seed, start=first, days=(today - first).days + 1, projects=DEMO_PROJECTS, per_day=5)
    return FakeBillingExport(keys=[key], rows=rows, job_user={json.loads(key)["project_id"]})
