"""The anomaly thresholds as a user gives them (config.toml's [anomalies] table, `--ratio`,
`--min-amount`), checked into Thresholds: anything else is one sentence (ConfigError)."""

from __future__ import annotations

import re
from decimal import Decimal

from grafient_tui.anomalies.rules import Thresholds
from grafient_tui.errors import ConfigError
from grafient_tui.money import MICRO_PER_USD
from grafient_tui.untrusted import cap, visible

MAX_RATIO = 1000.0
MAX_AMOUNT_USD = 1_000_000_000
_NUMBER = re.compile(r"\$?[0-9]+(\.[0-9]{1,2})?")


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(cap(visible(value), 32))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"a {type(value).__name__}"
    return repr(value)


def ratio_of(value: object, where: str) -> float:
    """A ratio above 1 (1.5: half as much again as the baseline) and at most 1000."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)?", value.strip()):
        number = float(value.strip())
    if number is None or not 1 < number <= MAX_RATIO:
        raise ConfigError(f"{where} must be a number above 1 and at most {MAX_RATIO:g}, like 1.5, not {_shown(value)}.")
    return number


def amount_of(value: object, where: str) -> int:
    """Dollars and cents, $0 or more (20, 20.5, "$20.50"), in micro-cents."""
    text: str | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, float) and value == value and abs(value) < 1e15:
        text = repr(value)
    elif isinstance(value, str):
        text = value.strip()
    if text is None or not _NUMBER.fullmatch(text):
        raise ConfigError(
            f"{where} must be an amount in US dollars (at most two decimals), like 20 or 12.50, not {_shown(value)}."
        )
    amount = Decimal(text.lstrip("$"))
    if amount > MAX_AMOUNT_USD:
        raise ConfigError(f"{where} can be at most ${MAX_AMOUNT_USD:,}.")
    return int(amount * MICRO_PER_USD)


def thresholds_of(table: object, where: str, *, ratio: object = None, min_amount: object = None) -> Thresholds:
    """config.toml's [anomalies] table (`where` names it), with a command's own values over it."""
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise ConfigError(f"[anomalies] in {where} must be a table, like ratio = 1.5 and min_amount = 20.")
    unknown = sorted(set(table) - {"ratio", "min_amount"})
    if unknown:
        raise ConfigError(f"[anomalies] in {where} has ratio and min_amount, not {_shown(str(unknown[0]))}.")
    chosen_ratio = (
        ratio_of(ratio, "--ratio")
        if ratio is not None
        else ratio_of(table["ratio"], f"ratio in [anomalies] of {where}")
        if "ratio" in table
        else Thresholds().ratio
    )
    chosen_amount = (
        amount_of(min_amount, "--min-amount")
        if min_amount is not None
        else amount_of(table["min_amount"], f"min_amount in [anomalies] of {where}")
        if "min_amount" in table
        else Thresholds().min_amount_micro
    )
    return Thresholds(ratio=chosen_ratio, min_amount_micro=chosen_amount)
