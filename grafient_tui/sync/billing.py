"""The billing cycle, read after a sync's cost windows: members' cycle spend and spend limits."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from datetime import datetime

from grafient_tui.errors import GrafientError
from grafient_tui.providers.base import Provider
from grafient_tui.secret import scrub_known
from grafient_tui.store.db import Database
from grafient_tui.store.sync_writes import Identity, IntegrationGone, write_billing
from grafient_tui.sync.threads import in_daemon_thread

log = logging.getLogger("grafient.sync")


async def sync_billing(
    client: Provider,
    db: Database,
    integration_id: int,
    label: str,
    *,
    ends_at: float,
    clock: Callable[[], datetime],
    identity: Identity,
) -> None:
    """Read the billing cycle after the cost windows and store it. Whatever goes wrong here, the
    costs just written stand and the sync succeeds: the members' previous cycle figures are kept,
    and the fault is logged in one sentence."""
    try:
        async with asyncio.timeout_at(ends_at):
            billing = await client.billing()
        if billing is not None:
            await in_daemon_thread(
                write_billing, db, integration_id, billing, clock(), identity=identity, source=f"the {client.title} API"
            )
    except IntegrationGone:
        raise
    except GrafientError as exc:
        log.warning(
            "%s: the billing cycle and spend limits were not updated (%s); the costs are saved", label, exc.sentence
        )
    except TimeoutError:
        log.warning("%s: the billing cycle was not read before the sync's time limit; the costs are saved", label)
    except Exception as exc:  # noqa: BLE001  (never fails the costs; the traceback only scrubbed, in debug)
        log.debug(
            "%s: reading the billing cycle failed:\n%s", label, scrub_known("".join(traceback.format_exception(exc)))
        )
        log.warning(
            "%s: the billing cycle was not updated (unexpected %s); the costs are saved", label, type(exc).__name__
        )
