"""The home screen's last figures, kept in a small file so the next start paints numbers at once.

After each read of the store for the home screen, its figures (figures.HomeFigures: the period, the
summary, each card's label, provider, key hint, figures, sync state and chart days, how its dollars
were made (an estimate is marked ≈ at first paint too), the budgets) are written to
`<data dir>/home-snapshot.json`, 0600, through `config.write_private_file`. At start the App reads it
with plain json (no SQLModel, SQLAlchemy or httpx: that is the point) and the home screen paints it
before the store has opened, then replaces it with the store's figures.

The file holds the read model's own classes, field by field (but those marked
`metadata={"snapshot": False}`, which no screen shows and which read back as their defaults): one
generic encoder writes any of them, and one generic decoder reads them back, checking every value
against its field's type (an integer is an integer, never a float or a boolean; a date is an ISO
date; a field missing or one too many is an error) and the few facts the screens divide by or look
up. Money is integer micro-cents, dates ISO strings. Text in it (labels, model names, errors) came
from users or APIs and is still shown through `untrusted.visible`, like the store's. A file that is
missing, unreadable, too big, of another format, malformed or for another period is ignored.

It is keyed to its database (`database_key`: a hash of the URL without its password), so an app
opened on another database never paints these figures; `remove` drops the integration from it
(`forget`), so a removed team's card is not painted at the next start.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from grafient_tui.figures import BudgetStatus, HomeFigures, PeriodBounds, SyncStatus

# 3: the read model's classes (figures.py), budgets included. 4: how the dollars were made (Basis), the
# estimated models, credits and characters (an app of issue 24 wrote another shape of 3). 5: keyed to
# its database (issue 18's branch wrote its own shape of 4).
# 6: billed and usage value, coverage per integration, calendar months, the plan's note (issue 21).
# 7: a summary with no synced day has unknown amounts (total_micro null) and names its unsynced integrations.
FORMAT = "grafient-home-snapshot/7"
FILE_NAME = "home-snapshot.json"
MAX_BYTES = 4 * 1024 * 1024  # a sane file is a few hundred kB at most; a huge one is not ours

T = TypeVar("T")
Decoder = Callable[[Any], Any]


def snapshot_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def database_key(database_url: str) -> str:
    """Which database a snapshot is of: the SHA-256 of its URL without the password (which never
    goes into a file), so two databases, or the same server under another database name, differ."""
    from grafient_tui.config import without_password

    return hashlib.sha256(without_password(database_url).encode("utf-8", "surrogatepass")).hexdigest()


# --------------------------------------------------------------------------- writing (in a thread)


def _kept(cls: type) -> list[dataclasses.Field[Any]]:
    """The fields of a read-model class the snapshot holds (all but those marked snapshot=False)."""
    return [field for field in dataclasses.fields(cls) if field.metadata.get("snapshot", True)]


def plain(value: object) -> object:
    """A read-model value as JSON data: a dataclass as an object of its fields, a date or a time in
    ISO form, a tuple as a list, a set as a sorted list (the same set, the same bytes); numbers, text,
    booleans and None as they are."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in _kept(type(value))}
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    if isinstance(value, frozenset):
        return [plain(item) for item in sorted(value, key=str)]  # the same set, the same bytes
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"a snapshot cannot hold a {type(value).__name__}")


def encode(figures: HomeFigures, database: str = "") -> bytes:
    """The file's bytes for the home screen's figures, read from the database of key `database`."""
    document = plain(figures)
    assert isinstance(document, dict)
    return json.dumps(
        {"format": FORMAT, "database": database, **document}, ensure_ascii=True, separators=(",", ":")
    ).encode("ascii")


def remember(data_dir: Path, figures: HomeFigures, previous: bytes | None = None, *, database: str = "") -> bytes:
    """Write the snapshot of `figures` (read from the database of key `database`) unless it is
    `previous`; return its bytes."""
    from grafient_tui.config import write_private_file

    encoded = encode(figures, database)
    if encoded != previous:
        write_private_file(snapshot_path(data_dir), encoded)
    return encoded


# --------------------------------------------------------------------------- reading (at start)


def _integer(value: Any) -> int:
    if type(value) is not int:  # not a bool, not a float
        raise ValueError("not an integer")
    return value


def _number(value: Any) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise ValueError("not a finite number")
    return float(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("not a boolean")
    return value


def _day(value: Any) -> date:
    return date.fromisoformat(_text(value))


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(_text(value))


def _items(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError("not a list")
    return value


_SCALARS: dict[object, Decoder] = {
    int: _integer,
    float: _number,
    str: _text,
    bool: _flag,
    date: _day,
    datetime: _moment,
}

# What a screen divides by or looks up, beyond each value's type: a file that breaks one is not ours.
_FACTS: dict[type, Callable[[Any], bool]] = {
    HomeFigures: lambda home: home.period > 0,
    BudgetStatus: lambda budget: (
        budget.budget_micro > 0
        and budget.status in ("ok", "forecast_over", "over")
        and date.fromisoformat(budget.today) is not None
    ),
    PeriodBounds: lambda bounds: bounds.start <= bounds.end,
}

_DECODERS: dict[object, Decoder] = {}


def _decoder(hint: object) -> Decoder:
    """How to read a value of type `hint` back, worked out once per type."""
    known = _DECODERS.get(hint)
    if known is not None:
        return known
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    decoder: Decoder
    if hint in _SCALARS:
        decoder = _SCALARS[hint]
    elif origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        inner = _decoder(next(a for a in args if a is not type(None)))
        decoder = lambda value: None if value is None else inner(value)  # noqa: E731
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        each = _decoder(args[0])
        decoder = lambda value: tuple(each(item) for item in _items(value))  # noqa: E731
    elif origin is frozenset and len(args) == 1:
        member = _decoder(args[0])
        decoder = lambda value: frozenset(member(item) for item in _items(value))  # noqa: E731
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        decoder = _dataclass_decoder(hint)
    else:
        raise TypeError(f"a snapshot cannot hold a {hint!r}")
    _DECODERS[hint] = decoder
    return decoder


def _dataclass_decoder(cls: type[T]) -> Callable[[Any], T]:
    hints = typing.get_type_hints(cls)
    names = [field.name for field in _kept(cls)]
    expected = set(names)
    fields = [(name, _decoder(hints[name])) for name in names]
    fact = _FACTS.get(cls)

    def decode_as(value: Any) -> T:
        if not isinstance(value, dict) or value.keys() != expected:
            raise ValueError(f"not a {cls.__name__}")
        made = cls(**{name: read(value[name]) for name, read in fields})
        if fact is not None and not fact(made):
            raise ValueError(f"an impossible {cls.__name__}")
        return made

    return decode_as


def decode(raw: bytes, database: str | None = None) -> HomeFigures:
    """Raises ValueError (or TypeError, KeyError) on anything that is not a well-formed snapshot (of the
    database of key `database`, when given)."""
    document = json.loads(raw)
    if not isinstance(document, dict) or document.pop("format", None) != FORMAT:
        raise ValueError("not a home snapshot of this format")
    kept_for = document.pop("database", None)
    if database is not None and kept_for != database:
        raise ValueError("a snapshot of another database")
    figures: HomeFigures = _decoder(HomeFigures)(document)
    return figures


def _read(data_dir: Path) -> bytes | None:
    try:
        with snapshot_path(data_dir).open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    return None if len(raw) > MAX_BYTES else raw


def load(data_dir: Path, period: int, database: str = "", month: str | None = None) -> HomeFigures | None:
    """The last snapshot of the database of key `database` for `period` (of calendar `month`, when
    given), or None (missing, unreadable, corrupt, another format, database or period)."""
    raw = _read(data_dir)
    if raw is None:
        return None
    try:
        figures = decode(raw, database)
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        return None
    if figures.period != period or figures.month != month:
        return None
    return _no_sync_claimed(figures)


def _no_sync_claimed(figures: HomeFigures) -> HomeFigures:
    """The cards without a sync said to be running: a card read while a sync ran (this app's own, which
    its quit has ended since, or another process's, which may have ended too) cannot know at the next
    start whether one runs. It is painted with its last good sync (or as never synced) until the
    store's read, which asks the sync lock, says whether another process holds it now."""
    cards = tuple(
        dataclasses.replace(
            card,
            status=SyncStatus(
                status="ok" if card.status.last_sync else "never synced",
                last_sync=card.status.last_sync,
                error=None,
            ),
        )
        if card.status.status == "syncing"
        else card
        for card in figures.integrations
    )
    return dataclasses.replace(figures, integrations=cards)


def forget(data_dir: Path, integration_id: int) -> None:
    """Drop one integration (removed) from the snapshot, with its budgets and the all-integrations
    summary it counted in (the summary shows as loading until the store's replaces it). A snapshot that
    cannot be read or rewritten is removed instead: it is only a head start."""
    from grafient_tui.config import write_private_file

    raw = _read(data_dir)
    if raw is None:
        return
    try:
        document = json.loads(raw)
        cards = document["integrations"]
        kept = [card for card in cards if card.get("integration_id") != integration_id]
        if len(kept) == len(cards):
            return
        document["integrations"], document["summary"] = kept, None
        document["budgets"] = [b for b in document.get("budgets", []) if b.get("target_id") != integration_id]
        write_private_file(
            snapshot_path(data_dir), json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        snapshot_path(data_dir).unlink(missing_ok=True)
