"""`[incidents]`: how reports from the ground are triaged and which cameras come to them. Every key has a
default: no table is a hub that takes reports with the defaults below.

Pure parsing, like `hub.config`, which calls it; every problem is collected by the shared `Checker`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.config.checks import Checker, check_keys

DEFAULT_ESCALATION = {1: 3600.0, 2: 1800.0, 3: 600.0, 4: 180.0}  # seconds an incident may wait unacknowledged
KEYS = {
    "camera_radius_m", "cameras", "duplicate_radius_m", "duplicate_window_s", "escalate_after_s", "wall_severity",
    "photo_max_bytes", "position_stale_s",
}  # fmt: skip


@dataclass(frozen=True)
class IncidentSettings:
    camera_radius_m: float = 300.0  # cameras within this distance come to an incident
    cameras: int = 8  # at most this many, those that look at the spot first, then the nearest
    duplicate_radius_m: float = 150.0  # a report of the same kind this near ...
    duplicate_window_s: float = 1800.0  # ... and this soon after an open one is offered as its duplicate
    escalate_after_s: tuple[float, ...] = tuple(DEFAULT_ESCALATION.values())  # severity 1 to 4
    wall_severity: int = 3  # from this severity, an operator's wall switches to the incident's cameras
    photo_max_bytes: int = 8_000_000  # each photo as sent; it is re-encoded smaller
    position_stale_s: float = 300.0  # a staff position older than this is shown grey

    @property
    def deadlines(self) -> dict[int, float]:
        """Seconds an incident of each severity may wait unacknowledged before it escalates."""
        return dict(zip((1, 2, 3, 4), self.escalate_after_s, strict=True))


def incidents(table: dict, check: Checker) -> IncidentSettings:
    check_keys(check, "", table, KEYS)
    d = IncidentSettings()
    escalation = dict(DEFAULT_ESCALATION)
    raw = table.get("escalate_after_s", {})
    if not isinstance(raw, dict) or not all(k in ("1", "2", "3", "4") for k in raw):
        check.add("escalate_after_s", "expected a table of severities to seconds, e.g. { 4 = 180, 3 = 600 }")
    else:
        for key in raw:
            escalation[int(key)] = check.number(raw, key, escalation[int(key)], above=0.0, at_most=7 * 86400.0)
    return IncidentSettings(
        camera_radius_m=check.number(table, "camera_radius_m", d.camera_radius_m, above=0.0, at_most=20_000.0),
        cameras=check.number(table, "cameras", d.cameras, above=0, at_most=36, integer=True),
        duplicate_radius_m=check.number(table, "duplicate_radius_m", d.duplicate_radius_m, above=0.0, at_most=20_000.0),
        duplicate_window_s=check.number(table, "duplicate_window_s", d.duplicate_window_s, above=0.0, at_most=7 * 86400.0),
        escalate_after_s=tuple(escalation[s] for s in (1, 2, 3, 4)),
        wall_severity=check.number(table, "wall_severity", d.wall_severity, above=0, at_most=5, integer=True),
        photo_max_bytes=check.number(table, "photo_max_bytes", d.photo_max_bytes, above=1000, at_most=50_000_000, integer=True),
        position_stale_s=check.number(table, "position_stale_s", d.position_stale_s, above=0.0, at_most=86400.0),
    )
