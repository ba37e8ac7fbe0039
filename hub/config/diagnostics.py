"""Picture-diagnostics settings: the `[health]` keys for the checks, and each stream's own overrides.

Runs wherever the config is loaded. Every threshold of `hub.diagnostics.checks.Thresholds` is a
`[health]` key of the same name, and so are `picture_checks` (which checks run; `[]` turns picture
diagnostics off), `vote` ([need, window]: trip on 8 of 10), `clear_ratio`, `check_sample_s`, `full_sample_s`,
`daylight_hours` and the grouped-outage keys `group_min` and `group_window_s`. A stream may override
the thresholds, `picture_checks`, `vote` and `clear_ratio` in its own `health` table, and say `ptz = true`
(the moved check then keeps one reference per preset).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from hub.config.checks import Checker, check_keys
from hub.diagnostics.settings import DEFAULT_SETTINGS, PICTURE_CHECKS, DiagnosisSettings, SamplingSettings, Thresholds

THRESHOLD_RANGES = {  # (integer, above, at most)
    "dark_luma": (False, 0, 255),
    "overexposed_share": (False, 0, 1),
    "low_contrast_ratio": (False, 0, 1),
    "blurred_ratio": (False, 0, 1),
    "covered_cells": (True, 0, 16),
    "covered_peak_share": (False, 0, 1),
    "cast_factor": (False, 0, 100),
    "cast_shift": (False, 0, 128),
    "ir_chroma": (False, 0, 50),
    "noisy_ratio": (False, 1, 100),
    "striped_ratio": (False, 1, 100),
    "mosaic_ratio": (False, 1, 100),
    "moved_shift": (False, 0, 1),
    "low_contrast_absolute": (False, 0, 255),
    "veiled_absolute": (False, 0, 1),
    "blurred_absolute": (False, 0, 10),
    "cast_absolute": (False, 0, 100),
    "blue_cast_absolute": (False, 0, 128),
    "noisy_absolute": (False, 0, 255),
    "striped_absolute": (False, 0, 10000),
    "mosaic_absolute": (False, 1, 100),
}
STREAM_KEYS = set(THRESHOLD_RANGES) | {"picture_checks", "vote", "clear_ratio"}
HEALTH_KEYS = STREAM_KEYS | {"check_sample_s", "full_sample_s", "daylight_hours", "group_min", "group_window_s"}


@dataclass(frozen=True)
class DiagnosticsSettings:
    """`[health]`'s picture-diagnostics part."""

    defaults: DiagnosisSettings = DEFAULT_SETTINGS
    full_sample_s: float = 10.0
    # the thumbnail measures, at most this often (the default: every other picture; 2: every one, at about 1.7x the cost)
    check_sample_s: float = 4.0
    daylight_hours: tuple[float, float] = (7.0, 19.0)  # local time; outside it is night
    group_min: int = 5  # cameras of one site or tag going offline together make one grouped outage
    group_window_s: float = 60.0  # "together": failed the same way within this many seconds

    def sampling(self, picture_interval_s: float) -> SamplingSettings:
        return SamplingSettings(
            bool(self.defaults.checks), max(self.full_sample_s, picture_interval_s), every_s=self.check_sample_s
        )

    def is_day(self, hour: float) -> bool:
        start, end = self.daylight_hours
        return start <= hour < end


def parse(table: dict, check: Checker) -> DiagnosticsSettings:
    """The diagnostics keys of `[health]` (the caller has checked that no unknown key is there)."""
    defaults = _diagnosis(table, check, DEFAULT_SETTINGS)
    full = check.number(table, "full_sample_s", 10.0, above=0.0, at_most=3600.0)
    every = check.number(table, "check_sample_s", 4.0, above=0.0, at_most=3600.0)
    hours = _hours(table, check)
    group_min = check.number(table, "group_min", 5, above=1, at_most=100_000, integer=True)
    window = check.number(table, "group_window_s", 60.0, above=0.0, at_most=3600.0)
    return DiagnosticsSettings(defaults, full, every, hours, group_min, window)


def stream_overrides(item: dict, check: Checker) -> tuple[tuple[str, object], ...]:
    """A stream's `health` table, checked, as frozen (key, value) pairs."""
    table = item.get("health", {})
    if not isinstance(table, dict):
        check.add("health", "expected a table of picture-check overrides")
        return ()
    check_keys(check, "health.", table, STREAM_KEYS)
    _diagnosis(table, check.at(f"{check.where}: health" if check.where else "health"), DEFAULT_SETTINGS)
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in table.items() if k in STREAM_KEYS))


def for_stream(settings: DiagnosticsSettings, overrides: tuple[tuple[str, object], ...], ptz: bool) -> DiagnosisSettings:
    """One stream's diagnosis settings: `[health]`'s, with its own overrides on top."""
    base = settings.defaults
    if overrides:
        base = _diagnosis({k: list(v) if isinstance(v, tuple) else v for k, v in overrides}, Checker("<stream>"), base)
    return replace(base, ptz=ptz)


def _diagnosis(table: dict, check: Checker, base: DiagnosisSettings) -> DiagnosisSettings:
    limits = {}
    for item in fields(Thresholds):
        integer, above, at_most = THRESHOLD_RANGES[item.name]
        limits[item.name] = check.number(
            table, item.name, getattr(base.limits, item.name), above=above, at_most=at_most, integer=integer
        )
    checks = base.checks
    if "picture_checks" in table:
        names = check.string_list(table, "picture_checks")
        unknown = [n for n in names if n not in PICTURE_CHECKS]
        if unknown:
            check.add("picture_checks", f"unknown check {unknown[0]!r}: expected some of {', '.join(PICTURE_CHECKS)}")
        checks = frozenset(n for n in names if n in PICTURE_CHECKS)
    need, window = _vote(table, check, (base.vote_need, base.vote_window))
    clear = check.number(table, "clear_ratio", base.clear_ratio, above=0.0, at_most=1.0)
    return replace(base, limits=Thresholds(**limits), checks=checks, vote_need=need, vote_window=window, clear_ratio=clear)


def _vote(table: dict, check: Checker, default: tuple[int, int]) -> tuple[int, int]:
    value = table.get("vote", list(default))
    ok = isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if not ok or not 1 <= value[0] <= value[1] <= 100:
        check.add("vote", f"expected [need, window] with 1 <= need <= window <= 100 (8 of 10: [8, 10]), got {value!r}")
        return default
    return value[0], value[1]


def _hours(table: dict, check: Checker) -> tuple[float, float]:
    value = table.get("daylight_hours", [7, 19])
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )
    if not ok or not 0 <= value[0] < value[1] <= 24:
        check.add("daylight_hours", f"expected [start, end] hours of local time with 0 <= start < end <= 24, got {value!r}")
        return 7.0, 19.0
    return float(value[0]), float(value[1])
