"""The home screen's last figures, kept in a small file so the next start paints numbers at once.

After each read of the store for the home screen, what it shows (the period, the summary, and
each card's label, provider, key hint, figures, sync state and chart days) is written to
`<data dir>/home-snapshot.json`, 0600, through `config.write_private_file`. At start the App
reads it with plain json (no SQLModel, SQLAlchemy or httpx: that is the point) and the home
screen paints it before the store has opened, then replaces it with the store's figures.

Money is integer micro-cents, dates are ISO strings. Text in it (labels, model names, errors)
came from users or APIs and is still shown through `untrusted.visible`, like the store's. A
file that is missing, unreadable, of another format or for another period is ignored.

It is keyed to its database (`database_key`: a hash of the URL without its password), so an app
opened on another database never paints these figures; `remove` drops the integration from it
(`forget`), so a removed team's card is not painted at the next start.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from grafient_tui.estimates import BILLED, Basis

# 2: unknown figures are null; history_from. 3: cost basis. 4: keyed to its database
FORMAT = "grafient-home-snapshot/4"
FILE_NAME = "home-snapshot.json"
MAX_BYTES = 4 * 1024 * 1024  # a sane file is a few tens of kB; a huge one is not ours

SUMMARY_FIELDS = (
    "since",
    "until",
    "days",
    "synced_days",
    "complete_days",
    "today_partial",
    "total_micro",
    "on_demand_micro",
    "included_micro",
    "requests",
    "daily_average_micro",
    "top_model",
    "top_model_micro",
    "change_pct",
    "change_note",
    "requests_partial",
    "byok_micro",
)


@dataclass(frozen=True)
class SnapshotSummary:
    """The fields of store.queries.Summary the screens read, without importing the store."""

    since: date
    until: date
    days: int
    synced_days: int
    complete_days: int
    today_partial: bool
    total_micro: int
    on_demand_micro: int | None
    included_micro: int | None
    requests: int | None
    daily_average_micro: int | None
    top_model: str | None
    top_model_micro: int
    change_pct: float | None
    change_note: str | None
    requests_partial: bool = False
    byok_micro: int | None = None

    @property
    def fully_synced(self) -> bool:
        return self.synced_days == self.days


@dataclass(frozen=True)
class SnapshotDay:
    """A chart day: what store.queries.DayRow gives the chart and its scale line."""

    day: date
    synced: bool
    complete: bool
    cost_micro: int = 0


@dataclass(frozen=True)
class SnapshotStatus:
    """The stored sync state, as store.integrations.IntegrationStatus has it."""

    status: str
    last_sync: datetime | None
    error: str | None


@dataclass(frozen=True)
class SnapshotFigures:
    """One card, shaped like overview.IntegrationFigures."""

    integration_id: int
    label: str
    provider: str
    key_hint: str
    team_members: int | None
    summary: SnapshotSummary
    days: tuple[SnapshotDay, ...]
    status: SnapshotStatus
    history_from: date | None = None
    basis: Basis = BILLED


@dataclass(frozen=True)
class HomeSnapshot:
    """The home screen's figures, shaped like overview.HomeData."""

    period: int
    today: date
    plan: str
    integrations: tuple[SnapshotFigures, ...]
    summary: SnapshotSummary | None
    from_snapshot: bool = True
    basis: Basis = BILLED
    estimated_models: frozenset[str] = frozenset()


def snapshot_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def database_key(database_url: str) -> str:
    """Which database a snapshot is of: the SHA-256 of its URL without the password (which never
    goes into a file), so two databases, or the same server under another database name, differ."""
    from grafient_tui.config import without_password

    return hashlib.sha256(without_password(database_url).encode("utf-8", "surrogatepass")).hexdigest()


# --------------------------------------------------------------------------- writing (in a thread)


def _summary_json(summary: Any) -> dict[str, Any] | None:
    if summary is None:
        return None
    out = {name: getattr(summary, name) for name in SUMMARY_FIELDS}
    out["since"], out["until"] = summary.since.isoformat(), summary.until.isoformat()
    return out


def _basis_json(basis: Basis) -> dict[str, Any]:
    return {
        "estimated": basis.estimated,
        "cost_known": basis.cost_known,
        "note": basis.note,
        "estimated_labels": list(basis.estimated_labels),
        "unknown_labels": list(basis.unknown_labels),
    }


def _basis(raw: Any) -> Basis:
    if not isinstance(raw, dict):
        raise ValueError("not a cost basis")
    labels = [raw["estimated_labels"], raw["unknown_labels"]]
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in labels):
        raise ValueError("not a list of labels")
    return Basis(
        estimated=_bool(raw["estimated"]),
        cost_known=_bool(raw["cost_known"]),
        note=_text(raw["note"], optional=True),
        estimated_labels=tuple(labels[0]),
        unknown_labels=tuple(labels[1]),
    )


def encode(data: Any, database: str = "") -> bytes:
    """The file's bytes for an overview.HomeData read from the database of key `database`."""
    cards = []
    for f in data.integrations:
        status = f.status
        cards.append(
            {
                "id": f.integration_id,
                "label": f.label,
                "provider": f.provider,
                "key_hint": f.key_hint,
                "team_members": f.team_members,
                "summary": _summary_json(f.summary),
                "history_from": f.history_from.isoformat() if f.history_from else None,
                "status": {
                    "status": status.status,
                    "error": status.error,
                    "last_sync": status.last_sync.isoformat() if status.last_sync else None,
                },
                # [day, cost in micro-cents or null when never synced, complete]
                "days": [[d.day.isoformat(), d.cost_micro if d.synced else None, d.complete] for d in f.days],
                "basis": _basis_json(f.basis),
            }
        )
    document = {
        "format": FORMAT,
        "database": database,
        "period": data.period,
        "today": data.today.isoformat(),
        "plan": data.plan,
        "summary": _summary_json(data.summary),
        "integrations": cards,
        "basis": _basis_json(data.basis),
        "estimated_models": sorted(data.estimated_models),
    }
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def remember(data_dir: Path, data: Any, previous: bytes | None = None, *, database: str = "") -> bytes:
    """Write the snapshot of `data` (an overview.HomeData, read from the database of key `database`)
    unless it is `previous`; return its bytes."""
    from grafient_tui.config import write_private_file

    encoded = encode(data, database)
    if encoded != previous:
        write_private_file(snapshot_path(data_dir), encoded)
    return encoded


# --------------------------------------------------------------------------- reading (at start)


def _int(value: Any, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if type(value) is not int:
        raise ValueError("not an integer")
    return value


def _text(value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("not a boolean")
    return value


def _summary(raw: Any) -> SnapshotSummary:
    if not isinstance(raw, dict):
        raise ValueError("not a summary")
    change = raw["change_pct"]
    if change is not None and type(change) not in (int, float):
        raise ValueError("not a number")
    return SnapshotSummary(
        since=date.fromisoformat(_text(raw["since"])),
        until=date.fromisoformat(_text(raw["until"])),
        days=_int(raw["days"]),
        synced_days=_int(raw["synced_days"]),
        complete_days=_int(raw["complete_days"]),
        today_partial=_bool(raw["today_partial"]),
        total_micro=_int(raw["total_micro"]),
        on_demand_micro=_int(raw["on_demand_micro"], optional=True),
        included_micro=_int(raw["included_micro"], optional=True),
        requests=_int(raw["requests"], optional=True),
        daily_average_micro=_int(raw["daily_average_micro"], optional=True),
        top_model=_text(raw["top_model"], optional=True),
        top_model_micro=_int(raw["top_model_micro"]),
        change_pct=None if change is None else float(change),
        change_note=_text(raw["change_note"], optional=True),
        requests_partial=_bool(raw["requests_partial"]),
        byok_micro=_int(raw["byok_micro"], optional=True),
    )


def _day(raw: Any) -> SnapshotDay:
    day, cost, complete = raw
    cost = _int(cost, optional=True)
    return SnapshotDay(date.fromisoformat(_text(day)), cost is not None, _bool(complete), cost or 0)


def _card(raw: dict[str, Any]) -> SnapshotFigures:
    status = raw["status"]
    last_sync = _text(status["last_sync"], optional=True)
    history_from = _text(raw.get("history_from"), optional=True)
    return SnapshotFigures(
        integration_id=_int(raw["id"]),
        label=_text(raw["label"]),
        provider=_text(raw["provider"]),
        key_hint=_text(raw["key_hint"]),
        team_members=_int(raw["team_members"], optional=True),
        summary=_summary(raw["summary"]),
        days=tuple(_day(d) for d in raw["days"]),
        status=SnapshotStatus(
            _text(status["status"]),
            datetime.fromisoformat(last_sync) if last_sync else None,
            _text(status["error"], optional=True),
        ),
        history_from=date.fromisoformat(history_from) if history_from else None,
        basis=_basis(raw["basis"]),
    )


def decode(raw: bytes, database: str | None = None) -> HomeSnapshot:
    """Raises ValueError (or KeyError/TypeError) on anything that is not a well-formed snapshot (of the
    database of key `database`, when given)."""
    document = json.loads(raw)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError("not a home snapshot of this format")
    if database is not None and document.get("database") != database:
        raise ValueError("a snapshot of another database")
    summary = document["summary"]
    return HomeSnapshot(
        period=_int(document["period"]),
        today=date.fromisoformat(_text(document["today"])),
        plan=_text(document["plan"]),
        integrations=tuple(_card(c) for c in document["integrations"]),
        summary=None if summary is None else _summary(summary),
        basis=_basis(document["basis"]),
        estimated_models=frozenset(_text(m) or "" for m in document["estimated_models"]),
    )


def _read(data_dir: Path) -> bytes | None:
    try:
        with snapshot_path(data_dir).open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    return raw if len(raw) <= MAX_BYTES else None


def load(data_dir: Path, period: int, database: str) -> HomeSnapshot | None:
    """The last snapshot of the database of key `database` for `period`, or None (missing, unreadable,
    corrupt, another format, database or period)."""
    raw = _read(data_dir)
    if raw is None:
        return None
    try:
        snapshot = decode(raw, database)
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return snapshot if snapshot.period == period else None


def forget(data_dir: Path, integration_id: int) -> None:
    """Drop one integration (removed) from the snapshot, and the all-integrations summary it counted
    in (the summary shows as loading until the store's replaces it). A snapshot that cannot be read
    or rewritten is removed instead: it is only a head start."""
    from grafient_tui.config import write_private_file

    raw = _read(data_dir)
    if raw is None:
        return
    try:
        document = json.loads(raw)
        cards = document["integrations"]
        kept = [card for card in cards if card.get("id") != integration_id]
        if len(kept) == len(cards):
            return
        document["integrations"], document["summary"] = kept, None
        write_private_file(
            snapshot_path(data_dir), json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        snapshot_path(data_dir).unlink(missing_ok=True)


assert tuple(f.name for f in fields(SnapshotSummary)) == SUMMARY_FIELDS
