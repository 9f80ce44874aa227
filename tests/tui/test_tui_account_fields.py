"""The add form grows the chosen provider's account settings (the test-only Example provider: a required
region, an organization or an enterprise, an optional project), checks them before the key is sent, and
adds the integration with them."""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import Input, Label, Select, Static

from grafient_tui.store.integrations import account_of, list_integrations
from grafient_tui.tui.screens.add import AddIntegrationScreen
from tests.account_provider import KEY, FakeExampleAccount, example_provider
from tests.tui.test_tui import SIZE, make_app, settle

pytestmark = pytest.mark.usefixtures(example_provider.__name__)


async def open_form(app, pilot) -> AddIntegrationScreen:
    await settle(app, pilot)
    await pilot.press("a")
    await pilot.pause()
    form = app.screen
    assert isinstance(form, AddIntegrationScreen)
    return form


async def test_the_form_shows_the_chosen_providers_settings_and_adds_with_them(grafient_home) -> None:
    fake = FakeExampleAccount(region="us", owner="acme-corp")
    app = make_app(httpx.MockTransport(fake.handler))
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(app, pilot)
        assert not form.query(".account-input")  # Cursor has none: nothing extra on its form
        assert not form.query_one("#account-fields").display
        form.query_one("#provider", Select).value = "example"
        await pilot.pause()
        labels = [str(label.render()) for label in form.query("#account-fields Label").results(Label)]
        assert labels == ["Region", "Organization or Enterprise", "Project (optional)"]
        assert form.query_one("#account-region", Input).placeholder == "eu"

        form.query_one("#label", Input).value = "Team"
        form.query_one("#account-region", Input).value = "us"
        form.query_one("#key", Input).value = KEY
        form.query_one("#key", Input).focus()
        await pilot.press("enter")  # no organization or enterprise yet: refused here, the key kept
        await pilot.pause()
        error = str(form.query_one("#account-error", Static).render())
        assert error == "Example needs one of --org ORG or --enterprise SLUG."
        assert form.query_one("#key", Input).value == KEY and not fake.calls
        assert app.focused is form.query_one("#account-group-owner", Input)

        form.query_one("#account-kind-owner", Select).value = "enterprise"
        await pilot.pause()
        assert form.query_one("#account-group-owner", Input).placeholder == "acme-corp"
        form.query_one("#account-group-owner", Input).value = "acme-corp"
        form.query_one("#key", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        [row] = list_integrations(app.service.db)
        assert account_of(row) == {"region": "us", "enterprise": "acme-corp"}
        assert fake.calls and all(r.headers["x-owner"] == "acme-corp" for r in fake.calls)


async def test_switching_provider_clears_the_fields_and_a_bad_value_is_its_sentence(grafient_home) -> None:
    app = make_app(httpx.MockTransport(FakeExampleAccount().handler))
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(app, pilot)
        for provider in ("example", "cursor", "example"):  # fields of one name come and go without clashing
            form.query_one("#provider", Select).value = provider
            await pilot.pause()
        form.query_one("#label", Input).value = "Team"
        form.query_one("#account-region", Input).value = "mars"
        form.query_one("#account-group-owner", Input).value = "acme"
        form.query_one("#key", Input).value = KEY
        await form.run_action("submit")
        await pilot.pause()
        assert str(form.query_one("#account-error", Static).render()) == "The region is eu or us."
        assert list_integrations(app.service.db) == []
