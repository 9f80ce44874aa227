"""Optional: Grafient's query against a BigQuery emulator (bqemulator 1.4.0), for the SQL's syntax and
meaning only: the emulator rounds NUMERIC to three decimals and answers a failed query with HTTP 200,
so no money is checked here (the transport-level tests check it to the micro-cent).

The emulator is not a dependency. To run this test, install it in a virtual environment of its own
and name that interpreter:

    uv venv /tmp/bqemu && VIRTUAL_ENV=/tmp/bqemu uv pip install bqemulator==1.4.0 numpy
    GRAFIENT_TEST_BQEMULATOR_PYTHON=/tmp/bqemu/bin/python uv run pytest -m slow tests/providers/test_google_emulator.py

It is started on loopback ports with DuckDB's `spatial` extension skipped (it would be downloaded).
"""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grafient_tui.providers.google.api import GoogleBillingClient
from grafient_tui.providers.google.fake import service_account_key

# Read at import: the autouse fixture clears every GRAFIENT_* variable before each test.
EMULATOR_PYTHON = os.environ.get("GRAFIENT_TEST_BQEMULATOR_PYTHON")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not EMULATOR_PYTHON or not Path(EMULATOR_PYTHON).exists(),
        reason="needs bqemulator: set GRAFIENT_TEST_BQEMULATOR_PYTHON to a Python that has it (see the docstring)",
    ),
]

PROJECT = "grafient-reader"
DATASET = "billing_export"
TABLE_ID = "gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"
TABLE = f"{PROJECT}.{DATASET}.{TABLE_ID}"
DAY = datetime.date(2026, 12, 5)
LAUNCHER = (
    "import sys\n"
    "from bqemulator.storage import engine\n"
    "engine.DuckDBEngine._load_spatial = lambda self: None\n"
    "from bqemulator.cli import main\n"
    "rest, grpc, project = sys.argv[1:4]\n"
    "sys.argv = ['bqemulator', 'start', '--rest-port', rest, '--grpc-port', grpc, '--project', project]\n"
    "main()\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[str]:
    rest, grpc = _free_port(), _free_port()
    log = (tmp_path / "bqemulator.log").open("wb")
    process = subprocess.Popen(
        [str(EMULATOR_PYTHON), "-c", LAUNCHER, str(rest), str(grpc), PROJECT],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        for _ in range(600):  # readiness: the REST port accepts connections (bounded, about a minute)
            if process.poll() is not None:
                pytest.fail(f"the emulator exited ({process.returncode}); see {log.name}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", rest)) == 0:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the emulator did not start listening")
        yield f"http://127.0.0.1:{rest}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _record(name: str, *fields: str, repeated: bool = False) -> dict:
    return {
        "name": name,
        "type": "RECORD",
        "mode": "REPEATED" if repeated else "NULLABLE",
        "fields": [{"name": f, "type": "FLOAT" if f == "amount" else "STRING"} for f in fields],
    }


def _row(service: str, sku: str, project: str | None, cost: float, *, credits: float = 0.0, cost_type: str = "regular"):
    row: dict = {
        "billing_account_id": "0A1B2C-3D4E5F-6A7B8C",
        "service": {"id": "AEFD-7695-64FA", "description": service},
        "sku": {"id": "1234-5678-9ABC", "description": sku},
        "usage_start_time": f"{DAY.isoformat()} 10:00:00 UTC",
        "project": {"id": project, "name": project.title() if project else None},
        "cost": cost,
        "currency": "USD",
        "currency_conversion_rate": 1.0,
        "credits": [{"name": "Free trial", "amount": credits, "type": "PROMOTION"}] if credits else [],
        "cost_type": cost_type,
        "resource": {"name": None, "global_name": None},
    }
    return {"json": row}


def _set_up(base: str) -> None:
    with httpx.Client(base_url=base + "/bigquery/v2", timeout=30) as bq:
        bq.post(
            f"/projects/{PROJECT}/datasets", json={"datasetReference": {"projectId": PROJECT, "datasetId": DATASET}}
        ).raise_for_status()
        schema = [
            {"name": "billing_account_id", "type": "STRING"},
            _record("service", "id", "description"),
            _record("sku", "id", "description"),
            {"name": "usage_start_time", "type": "TIMESTAMP"},
            _record("project", "id", "name"),
            {"name": "cost", "type": "FLOAT"},
            {"name": "currency", "type": "STRING"},
            {"name": "currency_conversion_rate", "type": "FLOAT"},
            _record("credits", "name", "amount", "type", repeated=True),
            {"name": "cost_type", "type": "STRING"},
            _record("resource", "name", "global_name"),
        ]
        bq.post(
            f"/projects/{PROJECT}/datasets/{DATASET}/tables",
            json={
                "tableReference": {"projectId": PROJECT, "datasetId": DATASET, "tableId": TABLE_ID},
                "schema": {"fields": schema},
                "timePartitioning": {"type": "DAY"},
            },
        ).raise_for_status()
        rows = [
            _row(
                "Gemini API",
                "Generate content input token count gemini 2.5 pro short input text",
                "chat-prod",
                4.5,
                credits=-1.5,
            ),
            _row("Vertex AI", "Gemini 2.5 Flash GA Text Input - Predictions", "search-ai", 2.25),
            _row("Vertex AI", "Gemini 2.5 Flash GA Text Input - Predictions", None, -0.5, cost_type="adjustment"),
            _row("Gemini API", "Grounding with Google Search", "chat-prod", 7.0, cost_type="tax"),  # left out
            _row("Vertex AI", "Custom Training: N1 Predefined Instance Core", "search-ai", 30.0),  # not Gemini
            _row("Compute Engine", "N2 Instance Core running in Americas", "chat-prod", 9.0),  # not Gemini
        ]
        inserted = bq.post(f"/projects/{PROJECT}/datasets/{DATASET}/tables/{TABLE_ID}/insertAll", json={"rows": rows})
        inserted.raise_for_status()
        assert not inserted.json().get("insertErrors"), inserted.text


class TokenThenEmulator(httpx.AsyncBaseTransport):
    """Google's token endpoint answered here (the emulator has no OAuth); BigQuery calls go to it over HTTP."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "ya29.emulator-" + "t" * 20, "expires_in": 3599})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_the_query_runs_on_the_emulator_and_keeps_only_gemini_rows(emulator: str) -> None:
    _set_up(emulator)
    client = GoogleBillingClient(
        service_account_key(seed=61, project_id=PROJECT),
        account={"table": TABLE},
        base_url=emulator,
        token_url="http://127.0.0.1:9/token",
        transport=TokenThenEmulator(),
        backoff_base=0,
        rpm=0,
    )
    client.today = DAY + datetime.timedelta(days=1)
    async with client:
        await client.validate()  # tables.get: the detailed export has its resource field
        lines = [line async for batch in client.cost_lines(DAY - datetime.timedelta(days=2), DAY) for line in batch]
    got = {(line.day, line.model, line.actor, line.on_demand) for line in lines}
    assert got == {
        (DAY, "gemini-2.5-pro", "Chat-Prod", True),
        (DAY, "gemini-2.5-pro", "Chat-Prod", False),
        (DAY, "gemini-2.5-flash", "Search-Ai", True),
        (DAY, "gemini-2.5-flash", "Search-Ai", False),
        (DAY, "gemini-2.5-flash", "No project", True),
        (DAY, "gemini-2.5-flash", "No project", False),
    }
