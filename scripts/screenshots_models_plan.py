"""Write the Models view's and the `P` question's screenshots (screenshots/models-*.svg,
screenshots/plan-confirm-*.svg) from demo mode at 120x40 and 80x24, with a frozen clock.

    uv run python scripts/screenshots_models_plan.py [--out screenshots]

Apart from scripts/screenshots.py, whose shots at one size are taken in one long run: these two
screens at both sizes the README shows.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grafient_tui.demo import build_demo  # noqa: E402
from grafient_tui.tui.app import GrafientApp  # noqa: E402
from grafient_tui.tui.screens.models import ModelsScreen  # noqa: E402
from grafient_tui.tui.screens.plan import ConfirmPlanScreen  # noqa: E402
from scripts.screenshots import NOW  # noqa: E402

SIZES = ((120, 40), (80, 24))


async def shoot(out: Path, size: tuple[int, int]) -> list[Path]:
    env = build_demo(now=NOW, latency=0)
    env.settings.set_plan("free")  # the question then offers pro, and what its backfill fetches
    app = GrafientApp(env.settings, transport=env.transport, now=lambda: NOW, demo_teams=env.teams)
    written: list[Path] = []
    name = f"{size[0]}x{size[1]}"

    def save(shot: str) -> None:
        app.clear_notifications()
        svg = re.sub(r"terminal-\d+", "terminal", app.export_screenshot(title="Grafient"))
        path = out / f"{shot}-{name}.svg"
        path.write_text(svg, encoding="utf-8")
        written.append(path)

    async def until(condition, pilot) -> None:  # type: ignore[no-untyped-def]
        for _ in range(2000):
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            if condition():
                return
        raise RuntimeError("the app did not reach the expected state")

    try:
        async with app.run_test(size=size) as pilot:  # no toasts: they would hide what the shot is of
            await until(lambda: app.integrations and not app.syncs, pilot)
            await pilot.press("m")
            await until(lambda: isinstance(app.screen, ModelsScreen) and app.screen.data is not None, pilot)
            await pilot.pause(0.2)
            save("models")
            await pilot.press("escape")
            await pilot.pause(0.1)
            await pilot.press("P")
            await until(lambda: isinstance(app.screen, ConfirmPlanScreen) and app.screen.asked is not None, pilot)
            await pilot.pause(0.2)
            save("plan-confirm")
            await pilot.press("escape")
            await pilot.pause(0.1)
    finally:
        env.cleanup()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        for path in asyncio.run(shoot(args.out, size)):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
