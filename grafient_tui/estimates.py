"""How an integration's dollars were made, read back from the store, and the one way each output marks
them: `≈` before an estimated amount, "—" for a cost the provider cannot price, and the note that
goes beside them ("estimated from credits at the Pro plan's $99 / 500,000 credits", "converted from
EUR at Google's daily rate"). No Textual, no store: the stored JSON comes in as text.

Whether an integration's dollars are an estimate is its provider's (`Capabilities.cost_basis`); the
plan and the rate behind them, as of its last sync, are stored with it (integration.cost_basis,
written by the sync with the figures). A total over several integrations is an estimate as soon as
one of them is, and says which.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from grafient_tui.figures import BILLED, ESTIMATE_MARK, UNKNOWN, Basis
from grafient_tui.untrusted import visible

MAX_STORED = 4096  # the stored JSON: a sentence and a few figures
_ESTIMATE_FIELDS = ("tier", "plan_price_usd", "credit_quota", "usd_per_credit", "as_of")


def basis_of(estimated: bool, stored: str | None) -> Basis:
    """The basis of one integration: its provider's kind (`estimated`) and what its last sync stored
    (JSON, read back untrusted: bounded, a note of text, an estimate of a few plain fields; anything
    else is ignored, the kind still marks the figures)."""
    data: Any = None
    if stored and len(stored) <= MAX_STORED:
        try:
            data = json.loads(stored)
        except (ValueError, RecursionError):
            data = None
    if type(data) is not dict:
        return Basis(estimated=estimated, note="estimated from credits" if estimated else None)
    note = data.get("note")
    note = visible(" ".join(note.split()))[:200] if type(note) is str and note.strip() else None
    raw = data.get("estimate")
    estimate = None
    if type(raw) is dict:
        estimate = {k: raw.get(k) for k in _ESTIMATE_FIELDS if raw.get(k) is None or type(raw.get(k)) in (str, int)}
        estimate = {k: (visible(v)[:64] if type(v) is str else v) for k, v in estimate.items()}
    known = data.get("cost_known") is not False
    return Basis(estimated=estimated, cost_known=known, note=note, estimate=estimate if estimated else None)


def basis_for(provider: str, stored: str | None) -> Basis:
    """The basis of an integration of `provider` (whose kind the registry's capabilities table knows,
    without loading the provider) with what it stored."""
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    try:
        estimated = providers.capabilities(provider).cost_basis == "estimate"
    except GrafientError:  # a provider this version does not know: its figures are shown as billed
        estimated = False
    return basis_of(estimated, stored)


def together(bases: Iterable[tuple[str, Basis]]) -> Basis:
    """The basis of a total over (label, basis) pairs: an estimate when any part is one; the parts
    whose cost is unknown are named (their $0 rows add nothing to it)."""
    pairs = list(bases)
    estimated = tuple(label for label, b in pairs if b.estimated and b.cost_known)
    unknown = tuple(label for label, b in pairs if not b.cost_known)
    total = Basis(estimated=bool(estimated), estimated_labels=estimated, unknown_labels=unknown)
    return Basis(
        estimated=total.estimated,
        note=total.total_note(),
        estimated_labels=estimated,
        unknown_labels=unknown,
    )


__all__ = ["BILLED", "ESTIMATE_MARK", "UNKNOWN", "Basis", "basis_for", "basis_of", "together"]
