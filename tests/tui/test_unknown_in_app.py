"""Unknown is never 0 in the app (issue 21), nor is "not reported": OpenAI's embeddings and web search,
and a Cursor model whose events carry no token counts, read `n/a` for what no line of theirs counts,
in an integration's detail and in the all-integrations Models view; a total over models some of which
do not report a count covers those that do, marked `*` and said under the table.

The accounts are the providers' fakes served at the transport; the real service syncs them, the
real app reads them. The clock is the App's `now`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from textual.widgets import DataTable

from grafient_tui.config import DEFAULT_API_URLS, Settings
from grafient_tui.figures import NOT_REPORTED
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


async def synced_openai_and_cursor() -> tuple[httpx.MockTransport, int, int]:
    """An OpenAI organization (Chat) and a Cursor team (Eng) added and synced through the service:
    the transport serving both, and their integration ids."""
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
    return transport, chat.integration_id, eng.integration_id


async def test_models_no_line_counts_read_a_dash_in_the_detail_and_the_models_view(grafient_home) -> None:
    settings = Settings.from_env()
    transport, chat_id, eng_id = await synced_openai_and_cursor()
    app = GrafientApp(settings, transport=transport, now=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(DetailRequested(chat_id))
        await settle(app, pilot)
        assert isinstance(app.screen, CostDetailScreen)
        models = by_column(app.screen.query_one("#models", DataTable))
        for silent in ("text-embedding-3-large", "Web search tool calls"):
            assert [models[silent][c] for c in ("requests", "input", "output")] == [NOT_REPORTED] * 3, models[silent]
        assert [models["gpt-5"][c] for c in ("requests", "input", "output")] == ["80", "2,000", "600"]
        table = app.screen.query_one("#models", DataTable)
        total = dict(zip([str(k.value) for k in table.columns], cells(table, total=True), strict=True))
        # over gpt-5 alone, the one model that reports them, and said so
        assert [total[c] for c in ("requests", "input", "output")] == ["80 *", "2,000 *", "600 *"]
        note = str(app.screen.query_one("#detail-models-note").render())
        assert "n/a" in note and "* a total over the models that report it" in note
        await pilot.press("escape")
        await settle(app, pilot)

        app.post_message(DetailRequested(eng_id))
        await settle(app, pilot)
        models = by_column(app.screen.query_one("#models", DataTable))
        assert [models["request-model"][c] for c in ("requests", "input", "output")] == ["2", *[NOT_REPORTED] * 2]
        assert [models["gpt-5"][c] for c in ("requests", "input", "output")] == ["3", "200", "40"]
        table = app.screen.query_one("#models", DataTable)
        total = dict(zip([str(k.value) for k in table.columns], cells(table, total=True), strict=True))
        assert [total[c] for c in ("requests", "input", "output")] == ["6", "300 *", "60 *"]
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, ModelsScreen)
        across = by_column(app.screen.query_one("#models-across", DataTable))
        embedding = next(row for key, row in across.items() if "embedding" in key)
        request_model = next(row for key, row in across.items() if "request-model" in key)
        assert [embedding[c] for c in ("requests", "input", "output")] == [NOT_REPORTED] * 3
        assert [request_model[c] for c in ("requests", "input", "output")] == ["2", *[NOT_REPORTED] * 2]
        table = app.screen.query_one("#models-across", DataTable)
        total = dict(zip([str(k.value) for k in table.columns], cells(table, total=True), strict=True))
        assert UNKNOWN not in [total[c] for c in ("requests", "input", "output")]
        assert total["input"].endswith(" *") and "n/a" in str(app.screen.query_one("#models-note").render())
