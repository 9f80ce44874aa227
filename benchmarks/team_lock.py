"""What the shared database's sync lock costs: taking and releasing it, the check a sync makes before
each window it fetches and writes, and naming its holder (what `list` asks per integration).

Runs against a PostgreSQL server given as a superuser URL (the one `.ci/with-postgres` exports), in a
database of its own that it drops afterwards. Nothing here times a process, so nothing is compiled
first. Prints, as its last lines:
  acquire_release_ms=N   check_ms=N   holder_lookup_ms=N
  checks_per_year_sync=N   check_cost_per_year_sync_ms=N

Usage: .ci/with-postgres uv run --extra postgres python benchmarks/team_lock.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def median_ms(work, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--url", default=os.environ.get("GRAFIENT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if not args.url:
        print("needs a PostgreSQL superuser URL: --url or GRAFIENT_TEST_DATABASE_URL (.ci/with-postgres)")
        return 2
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from grafient_tui.config import Settings
    from grafient_tui.secret import Secret
    from grafient_tui.store.db import Database
    from grafient_tui.store.integrations import add_integration
    from grafient_tui.store.vault import Vault, new_master_key_b64
    from grafient_tui.sync.lock import ServerSyncLock, lock_holder
    from grafient_tui.sync.plan import plan_windows

    admin_url = make_url(args.url).set(drivername="postgresql+psycopg")
    name = f"grafient_bench_{os.getpid()}"
    admin = create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as home:
            settings = Settings.from_env(
                {
                    "GRAFIENT_HOME": home,
                    "GRAFIENT_DATABASE_URL": admin_url.set(database=name).render_as_string(hide_password=False),
                    "GRAFIENT_MASTER_KEY": new_master_key_b64(),
                }
            )
            settings.ensure_dirs()
            db = Database(settings)
            row = add_integration(
                db, Vault(settings), label="Bench", provider="cursor", api_key=Secret("key_" + "b" * 64)
            )
            assert row.id is not None
            lock = ServerSyncLock(db, row.id)

            def take_and_drop() -> None:
                assert lock.try_acquire()
                lock.release()

            acquire_ms = median_ms(take_and_drop, args.rounds)
            assert lock.try_acquire()
            check_ms = median_ms(lock.check, args.rounds * 5)
            holder_ms = median_ms(lambda: lock_holder(db, row.id), args.rounds)
            lock.release()
            db.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    from datetime import date, timedelta

    year = [date(2026, 1, 1) + timedelta(days=offset) for offset in range(366)]
    checks = 2 * len(plan_windows(year, 30))  # before each window's fetch and before its write
    print(f"server: {admin_url.host}:{admin_url.port} (loopback: the round trip is the floor of every figure)")
    print(f"acquire_release_ms={acquire_ms:.2f}   check_ms={check_ms:.2f}   holder_lookup_ms={holder_ms:.2f}")
    print(f"checks_per_year_sync={checks}   check_cost_per_year_sync_ms={checks * check_ms:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
