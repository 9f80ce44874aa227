"""Unknown is never 0 in the app (issue 21): OpenAI's embeddings and web search, and a Cursor model
whose events carry no token counts, read `—` for what no line counts, in an integration's detail and
in the all-integrations Models view.

The accounts are the providers' fakes served at the transport; the real service syncs them, the
real app reads them. The clock is the App's `now`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from textual.widgets import DataTable

from grafient_tui.config import DEFAULT_API_URLS, Settings
from grafient_tui.secret import Secret
from grafient_tui.service import GrafientService
from grafient_tui.tui.app import GrafientApp
from grafient_tui.tui.messages import DetailRequested
from grafient_tui.tui.screens.detail import CostDetailScreen
from grafient_tui.tui.screens.models import ModelsScreen
from tests.cli.test_unknown_never_zero import OPENAI_KEY, TODAY, UNKNOWN, cursor_team, openai_org
from tests.conftest import GOOD_KEY
from tests.helpers import settle
from tests.tui.test_tui import SIZE, cells

NOW = datetime(TODAY.year, TODAY.month, TODAY.day, 10, 30, tzinfo=UTC)


def by_column(table: DataTable) -> dict[str, dict[str, str]]:
    """The table's rows (without the total) by their first cell, each by column key."""
    keys = [str(key.value) for key in table.columns]
    return {row[0]: dict(zip(keys, row, strict=True)) for row in cells(table)}


async def test_models_no_line_counts_read_a_dash_in_the_detail_and_the_models_view(grafient_home) -> None:
    settings = Settings.from_env()
    settings.ensure_dirs()
    accounts = {
        httpx.URL(DEFAULT_API_URLS["openai"]).host: openai_org(),
        httpx.URL(DEFAULT_API_URLS["cursor"]).host: cursor_team(),
    }
    transport = httpx.MockTransport(lambda request: accounts[request.url.host].handler(request))  # type: ignore[attr-defined]
    service = GrafientService(settings, transport=transport)
    chat = await service.add("openai", "Chat", Secret(OPENAI_KEY), now=NOW)
    eng = await service.add("cursor", "Eng", Secret(GOOD_KEY), now=NOW)
    assert all(r.outcome == "success" for r in await service.sync(trigger="backfill", now=NOW))
    service.close()

    app = GrafientApp(settings, transport=transport, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(DetailRequested(chat.integration_id))
        await settle(app, pilot)
        assert isinstance(app.screen, CostDetailScreen)
        models = by_column(app.screen.query_one("#models", DataTable))
        for unknown in ("text-embedding-3-large", "Web search tool calls"):
            assert [models[unknown][c] for c in ("requests", "input", "output")] == [UNKNOWN] * 3, models[unknown]
        assert [models["gpt-5"][c] for c in ("requests", "input", "output")] == ["80", "2,000", "600"]
        await pilot.press("escape")
        await settle(app, pilot)

        app.post_message(DetailRequested(eng.integration_id))
        await settle(app, pilot)
        models = by_column(app.screen.query_one("#models", DataTable))
        assert [models["request-model"][c] for c in ("requests", "input", "output")] == ["2", UNKNOWN, UNKNOWN]
        assert [models["gpt-5"][c] for c in ("requests", "input", "output")] == ["3", "200", "40"]
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, ModelsScreen)
        across = by_column(app.screen.query_one("#models-across", DataTable))
        embedding = next(row for key, row in across.items() if "embedding" in key)
        request_model = next(row for key, row in across.items() if "request-model" in key)
        assert [embedding[c] for c in ("requests", "input", "output")] == [UNKNOWN] * 3
        assert [request_model[c] for c in ("requests", "input", "output")] == ["2", UNKNOWN, UNKNOWN]
