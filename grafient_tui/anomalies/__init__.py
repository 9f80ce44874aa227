"""Anomalies: days whose billed cost left their same-weekday baseline, and the members and models
that moved them. Pure: no store, no clock, no Textual (the store reads the series, the service
hands them here; figures.Anomaly is what comes out)."""

from grafient_tui.anomalies.rules import (
    DEFAULT_MIN_AMOUNT_MICRO,
    DEFAULT_RATIO,
    LOOKBACK_DAYS,
    MAX_BASELINE_DAYS,
    MIN_BASELINE_DAYS,
    Baseline,
    Series,
    SeriesDay,
    Thresholds,
    baseline,
    drivers,
    find,
    judge,
    median,
    together,
)
from grafient_tui.figures import Anomaly, AnomalyDriver

__all__ = [
    "DEFAULT_MIN_AMOUNT_MICRO",
    "DEFAULT_RATIO",
    "LOOKBACK_DAYS",
    "MAX_BASELINE_DAYS",
    "MIN_BASELINE_DAYS",
    "Anomaly",
    "AnomalyDriver",
    "Baseline",
    "Series",
    "SeriesDay",
    "Thresholds",
    "baseline",
    "drivers",
    "find",
    "judge",
    "median",
    "together",
]
