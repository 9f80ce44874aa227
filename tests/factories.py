"""Demo data for snapshots, screenshots and benchmarks: stored history written through the engine.

`seed_history` writes days the way a sync does, through `grafient_tui.store.sync_writes.write_window`
with a `WindowSums`, for an integration made with `add_integration`; only the sync-log row is
added directly (the engine records runs inside `run_sync`, and this history had no run).
Scripts under benchmarks/ and scripts/ import it with the repo root on sys.path.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from grafient_tui.demo import demo_key
from grafient_tui.secret import Secret
from grafient_tui.store.sums import DaySums, ModelSums

if TYPE_CHECKING:
    from collections.abc import Iterable

    from grafient_tui.service import GrafientService, IntegrationToAdd
    from grafient_tui.store.db import Database
    from grafient_tui.store.vault import Vault


def day_sums(cost: int, *, on_demand: int | None, requests: int | None) -> DaySums:
    """A Cursor-like day's sums: the cost split into on demand and included (None: no split), tokens
    known to be 0, no reasoning or BYOK figures."""
    return DaySums(
        cost_micro=cost,
        on_demand_micro=on_demand,
        included_micro=None if on_demand is None else cost - on_demand,
        requests=requests,
        input_tokens=0,
        output_tokens=0,
        cache_read_tokens=0,
        cache_write_tokens=0,
    )


def model_sums(cost: int, *, requests: int) -> ModelSums:
    """A model's share of such a day: tokens known to be 0, no reasoning figure."""
    return ModelSums(
        cost_micro=cost, requests=requests, input_tokens=0, output_tokens=0, cache_read_tokens=0, cache_write_tokens=0
    )


def seed_history(
    db: Database,
    vault: Vault,
    *,
    label: str,
    until: date,
    days: int,
    models: list[str],
    members: list[str],
    seed: int,
    synced_at: datetime,
    key: str | None = None,
    outcome: str = "success",
    error: str | None = None,
    provider: str = "cursor",
    billed_per_model: bool = False,
) -> int:
    """Store `days` days ending `until` for a new integration, as if a sync had written them.

    Deterministic for a seed. Returns the integration id. Days before `synced_at`'s UTC day are
    complete, as the engine marks them.
    """
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.models import SyncRun
    from grafient_tui.store.sums import MemberSums, WindowSums
    from grafient_tui.store.sync_writes import write_window

    rng = random.Random(seed)
    integration = add_integration(
        db,
        vault,
        label=label,
        provider=provider,
        api_key=Secret(key or demo_key(label, provider)),
        team_members=len(members),
        now=synced_at - timedelta(days=days),
    )
    integration_id = int(integration.id)  # type: ignore[arg-type]
    weights = [1.0 / (i + 1) ** 1.1 for i in range(len(models))]
    totals = WindowSums()
    first = until - timedelta(days=days - 1)
    for offset in range(days):
        day = first + timedelta(days=offset)
        activity = (1.0 if day.weekday() < 5 else 0.25) * (0.6 + 0.4 * offset / max(1, days)) * rng.uniform(0.7, 1.3)
        day_cost = day_requests = on_demand = 0
        day_tokens = [0, 0, 0, 0]
        for model, weight in zip(models, weights, strict=True):
            requests = int(200 * weight * activity * rng.uniform(0.5, 1.5))
            cost = requests * rng.randint(5_000_000, 40_000_000)  # 5-40 cents a request, in micro-cents
            tokens = [
                requests * rng.randint(2_000, 12_000),
                requests * rng.randint(200, 1_500),
                requests * rng.randint(5_000, 40_000),
                requests * rng.randint(500, 6_000),
            ]
            day_cost += cost
            day_requests += requests
            day_tokens = [a + b for a, b in zip(day_tokens, tokens, strict=True)]
            model_on_demand = int(cost * 0.6)  # billed on demand; the rest included in the plan
            on_demand += model_on_demand
            totals.models[(day, model)] = ModelSums(
                cost_micro=cost,
                # kept per model since migration 0012; without it, as a day stored before
                on_demand_micro=model_on_demand if billed_per_model else None,
                requests=requests,
                input_tokens=tokens[0],
                output_tokens=tokens[1],
                cache_read_tokens=tokens[2],
                cache_write_tokens=tokens[3],
            )
        remaining_cost, remaining_requests = day_cost, day_requests
        for i, email in enumerate(members):
            last = i == len(members) - 1
            cost = remaining_cost if last else int(remaining_cost * rng.uniform(0.1, 0.4))
            requests = remaining_requests if last else int(remaining_requests * rng.uniform(0.1, 0.4))
            remaining_cost -= cost
            remaining_requests -= requests
            totals.members[(day, email)] = MemberSums(cost_micro=cost, requests=requests)
        if not billed_per_model:
            on_demand = int(day_cost * 0.6)
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens = day_tokens
        totals.days[day] = DaySums(
            cost_micro=day_cost,
            on_demand_micro=on_demand,
            included_micro=day_cost - on_demand,
            requests=day_requests,
            request_units_micro=day_requests * 1_000_000,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read_tokens,
            cache_write_tokens=cache_write_tokens,
        )
    write_window(db, integration_id, first, until, totals, synced_at)
    with db.session(write=True) as session:
        session.add(
            SyncRun(
                integration_id=integration_id,
                trigger="backfill",
                started_at=synced_at - timedelta(minutes=1),
                finished_at=synced_at,
                outcome=outcome,
                requests=days // 30 + 1,
                days_written=days,
                error=error,
            )
        )
    return integration_id


async def add_demo_teams(
    service: GrafientService, teams: Iterable[IntegrationToAdd], now: datetime, *, backfill: bool = True
) -> list[int]:
    """Each of the demo's `teams` added through the service (as `--demo` adds them) and, with
    `backfill`, synced by the real engine from its fakes (the service's transport); every sync must
    succeed. The integrations' ids, in the teams' order."""
    ids = []
    for team in teams:
        row = await service.add(
            team.provider,
            team.label,
            team.key,
            account=team.account,
            now=now,
            allow_unidentified=team.allow_unidentified,
        )
        ids.append(row.integration_id)
        if backfill:
            [result] = await service.sync(row.integration_id, trigger="backfill", now=now)
            assert result.outcome == "success", result.error
    return ids
