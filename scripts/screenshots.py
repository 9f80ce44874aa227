"""Write screenshots/*.svg from demo mode, at a fixed size and a frozen clock.

    uv run python scripts/screenshots.py [--out screenshots] [--size 110x32]
    uv run python scripts/screenshots.py --sizes   # home, each detail, budgets, form at 120x40 and 80x24

The app runs headless on the demo's simulated accounts, one per provider (the real
clients and sync engine; no network). A gate in front of the demo transport holds requests
so the backfill and the key check can be pictured while they run.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grafient_tui.demo import build_demo  # noqa: E402
from grafient_tui.providers.google.fake import service_account_key  # noqa: E402
from grafient_tui.tui.app import GrafientApp  # noqa: E402
from grafient_tui.tui.screens.add import AddIntegrationScreen  # noqa: E402
from grafient_tui.tui.widgets.card import IntegrationCard  # noqa: E402

NOW = datetime(2025, 6, 18, 9, 30, tzinfo=UTC)


class Gate(httpx.AsyncBaseTransport):
    """Lets `allow` Cursor usage-event requests through, then holds them until released (the other
    providers' demo accounts sync at once)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.allow: int | None = None  # None: everything passes
        self.hold_members = False
        self.opened = asyncio.Event()

    def hold_after(self, allow: int, *, members_too: bool = False) -> None:
        self.allow, self.hold_members, self.opened = allow, members_too, asyncio.Event()

    def release(self) -> None:
        self.allow = None
        self.opened.set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        held = request.url.path.endswith("filtered-usage-events") or self.hold_members
        if self.allow is not None and held:
            if self.allow > 0:
                self.allow -= 1
            else:
                await self.opened.wait()
        return await self.inner.handle_async_request(request)


async def shoot(out: Path, size: tuple[int, int]) -> list[Path]:
    env = build_demo(now=NOW, latency=0)
    gate = Gate(env.transport)
    gate.hold_after(9)  # part of the backfill, then hold: the cards show their progress
    app = GrafientApp(env.settings, transport=gate, now=lambda: NOW, demo_teams=env.teams, demo_budgets=env.budgets)
    written: list[Path] = []

    def save(name: str, *, toasts: bool = False) -> None:
        if not toasts:  # only the alert shot keeps them: elsewhere they would hide what the shot is of
            app.clear_notifications()
        svg = re.sub(r"terminal-\d+", "terminal", app.export_screenshot(title="Grafient"))
        path = out / f"{name}.svg"
        path.write_text(svg, encoding="utf-8")
        written.append(path)

    async def until(condition, pilot) -> None:
        for _ in range(400):
            await pilot.pause(0.01)
            if condition():
                return
        raise RuntimeError(f"the app did not reach the expected state: {app.syncs} {app.live.progress} {gate.allow}")

    try:
        async with app.run_test(size=size, notifications=True) as pilot:

            async def settled() -> None:
                """Every worker (store reads, the budget check) done and its news on screen."""
                for _ in range(5):
                    await app.workers.wait_for_complete()
                    await pilot.pause(0.1)

            await until(lambda: gate.allow == 0 and len(app.syncs) == 1 and len(app.live.progress) >= 1, pilot)
            await pilot.pause(0.1)
            save("home-syncing")
            gate.release()
            await until(lambda: not app.syncs, pilot)
            await settled()
            save("home-alert", toasts=True)  # the budget toasts, once the syncs have ended
            app.clear_notifications()
            await pilot.pause(0.1)
            save("home")
            await pilot.press("enter")
            await pilot.pause(0.1)
            save("detail")
            app.screen.query_one("#detail-tabs").active = "members-tab"  # type: ignore[attr-defined]
            app.screen.query_one("#members").focus()  # the focused models table is hidden now
            await pilot.pause(0.2)
            save("detail-members")
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("down")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause(0.1)
            save("detail-anthropic")
            await pilot.press("escape")
            await pilot.pause()
            copilot = next(c for c in app.screen.query(IntegrationCard) if c.view.provider == "copilot")
            copilot.focus()
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause(0.1)
            app.screen.query_one("#detail-tabs").active = "members-tab"  # type: ignore[attr-defined]
            app.screen.query_one("#members").focus()
            await pilot.pause(0.2)
            save("detail-copilot")  # its people, and what no seat holder accounts for
            await pilot.press("escape")
            await pilot.pause()
            voice = next(c for c in app.screen.query(IntegrationCard) if c.view.provider == "elevenlabs")
            voice.focus()  # the ElevenLabs workspace: its dollars are an estimate
            await pilot.pause(0.1)
            save("home-estimate")
            await pilot.press("enter")
            await pilot.pause(0.2)
            save("detail-estimate")
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            app.screen.query_one("#provider").value = "google"  # type: ignore[attr-defined]
            await pilot.pause()
            for field in app.screen.query("Input"):
                field.cursor_blink = False  # type: ignore[attr-defined]
            app.screen.query_one("#label").value = "Acme Gemini EU"  # type: ignore[attr-defined]
            app.screen.query_one("#account-table").value = (  # type: ignore[attr-defined]
                "acme-billing.billing_export.gcp_billing_export_resource_v1_0A1B2C_3D4E5F_6A7B8C"
            )
            app.screen.query_one("#key-document").value = service_account_key(  # type: ignore[attr-defined]
                seed=99, project_id="acme-gemini-eu", name="grafient-reader"
            )
            app.screen.query_one("#key-document").focus()  # scrolls the form down to the pasted key
            await pilot.pause(0.2)
            save("add-google")
            await pilot.press("escape")
            await pilot.pause()
            app.screen.query(IntegrationCard).first().focus()  # back to the first card for the shots below
            await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            app.screen.query_one("#provider").value = "anthropic"  # type: ignore[attr-defined]
            await pilot.pause()
            for field in app.screen.query("Input"):
                field.cursor_blink = False  # type: ignore[attr-defined]
            save("add-anthropic")
            app.screen.query_one("#provider").value = "copilot"  # type: ignore[attr-defined]
            await pilot.pause()
            for field in app.screen.query("Input"):
                field.cursor_blink = False  # type: ignore[attr-defined]
            app.screen.query_one("#label").value = "Acme Copilot"  # type: ignore[attr-defined]
            app.screen.query_one("#account-group-owner").value = "acme"  # type: ignore[attr-defined]
            app.screen.query_one("#account-group-owner").focus()
            await pilot.pause()
            save("add-copilot")  # the key help and the organization (or enterprise) it reads
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            for field in app.screen.query("Input"):
                field.cursor_blink = False  # type: ignore[attr-defined]
            await pilot.press("tab", *"Acme Platform", "tab")  # the form opens on the provider
            app.screen.query_one("#key").value = "key_" + "0" * 60 + "9f3e"  # type: ignore[attr-defined]
            await pilot.pause()
            save("add")
            gate.hold_after(0, members_too=True)
            await pilot.press("enter")
            await pilot.pause(0.1)
            save("add-checking")
            gate.release()
            await until(lambda: isinstance(app.screen, AddIntegrationScreen) and not app.screen.checking, pilot)
            await pilot.pause(0.1)
            save("add-error")
    finally:
        env.cleanup()
    return written


async def shoot_sizes(out: Path, sizes: list[tuple[int, int]]) -> list[Path]:
    """At each size, once the demo's accounts have synced: the home, the detail of each provider, the
    budgets screen (the demo's budgets) and its form: home-<columns>x<rows>.svg, detail-<provider>-…,
    budgets-…, budget-form-…."""
    written: list[Path] = []
    for size in sizes:
        name = f"{size[0]}x{size[1]}"
        env = build_demo(now=NOW, latency=0)
        app = GrafientApp(
            env.settings, transport=env.transport, now=lambda: NOW, demo_teams=env.teams, demo_budgets=env.budgets
        )

        def save(shot: str, app: GrafientApp = app, name: str = name) -> None:
            app.clear_notifications()  # the budget toasts would hide what the shot is of
            path = out / f"{shot}-{name}.svg"
            path.write_text(
                re.sub(r"terminal-\d+", "terminal", app.export_screenshot(title="Grafient")), encoding="utf-8"
            )
            written.append(path)

        try:
            async with app.run_test(size=size, notifications=True) as pilot:

                async def settled(app: GrafientApp = app) -> None:
                    for _ in range(5):
                        await app.workers.wait_for_complete()
                        await pilot.pause(0.1)

                for _ in range(100_000):
                    await pilot.pause(0.01)
                    if app.live.store_ready and app.integrations and not app.syncs and not app.demo_teams:
                        break
                await settled()
                save("home")
                for provider in [card.view.provider for card in app.screen.query(IntegrationCard)]:
                    card = next(c for c in app.screen.query(IntegrationCard) if c.view.provider == provider)
                    card.focus()
                    await pilot.pause()
                    await pilot.press("enter")
                    await settled()
                    save(f"detail-{provider}")
                    await pilot.press("escape")
                    await settled()
                await pilot.press("b")
                await settled()
                save("budgets")
                await pilot.press("n")
                await settled()
                for field in app.screen.query("Input"):
                    field.cursor_blink = False  # type: ignore[attr-defined]
                app.screen.query_one("#budget-amount").value = "1500"  # type: ignore[attr-defined]
                await pilot.pause(0.1)
                save("budget-form")
        finally:
            env.cleanup()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--size", default="110x32", help="COLUMNSxROWS")
    parser.add_argument(
        "--sizes",
        action="store_true",
        help="the home, each provider's detail, budgets and the budget form, at 120x40 and 80x24",
    )
    args = parser.parse_args()
    columns, rows = (int(n) for n in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    shots = shoot_sizes(args.out, [(120, 40), (80, 24)]) if args.sizes else shoot(args.out, (columns, rows))
    for path in asyncio.run(shots):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
