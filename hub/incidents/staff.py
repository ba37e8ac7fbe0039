"""Grid workers on duty: the last fix each one's phone sent, and who is told of it.

Who runs where: the event loop (the API's handlers write, the map's answers and the event stream read).
Positions are kept in memory only: a worker on duty sends one about every 30 s, so a restarted hub knows
everybody again within a minute, and a fix is personal data nobody needs kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StaffPosition:
    """A grid worker's last fix, as their phone sent it while on duty."""

    who: str
    lat: float
    lon: float
    accuracy_m: float | None
    at: float  # wall time of the fix

    def to_json(self, now: float, stale_s: float) -> dict:
        age = max(0.0, now - self.at)
        return {"who": self.who, "position": [self.lat, self.lon], "accuracy_m": self.accuracy_m, "at": round(self.at, 3),
                "age_s": round(age, 1), "stale": age > stale_s}  # fmt: skip


class StaffBoard:
    """`publish(kind, data)`: an event for the event stream; `stale_s`: a fix older than this is shown stale."""

    def __init__(self, publish: Callable[[str, dict], None], stale_s: float):
        self._publish, self.stale_s = publish, stale_s
        self.positions: dict[str, StaffPosition] = {}
        self.went_off: dict[str, float] = {}  # who went off duty when: an older fix from elsewhere is not news
        self.on_change: Callable[[str], None] = lambda who: None  # a cluster node shares it

    def report_position(self, who: str, lat: float, lon: float, accuracy_m: float | None, now: float) -> StaffPosition:
        position = StaffPosition(who, lat, lon, accuracy_m, now)
        self.positions[who] = position
        self.went_off.pop(who, None)
        self._publish("staff", position.to_json(now, self.stale_s))
        self.on_change(who)
        return position

    def off_duty(self, who: str, now: float) -> None:
        self.went_off[who] = now
        if self.positions.pop(who, None) is not None:
            self._publish("staff", {"who": who, "off_duty": True})
        self.on_change(who)

    def shared(self, who: str) -> dict | None:
        """What another node needs to know of `who`: the last fix, or when they went off duty."""
        if who in self.positions:
            p = self.positions[who]
            return {"who": who, "lat": p.lat, "lon": p.lon, "accuracy_m": p.accuracy_m, "at": p.at}
        return {"who": who, "off_duty": True, "at": self.went_off[who]} if who in self.went_off else None

    def merge_remote(self, data: dict) -> None:
        """A fix (or the end of a duty) another node heard of; only what is newer than this node knows."""
        who, at = data["who"], float(data["at"])
        known = self.positions.get(who)
        if at <= max(known.at if known else 0.0, self.went_off.get(who, 0.0)):
            return
        if data.get("off_duty"):
            self.went_off[who] = at
            if self.positions.pop(who, None) is not None:
                self._publish("staff", {"who": who, "off_duty": True})
            return
        position = StaffPosition(who, float(data["lat"]), float(data["lon"]), data.get("accuracy_m"), at)
        self.positions[who] = position
        self._publish("staff", position.to_json(time.time(), self.stale_s))

    def listed(self, now: float) -> list[dict]:
        """Everybody on duty, by name, each with the age of the fix."""
        return sorted((p.to_json(now, self.stale_s) for p in self.positions.values()), key=lambda p: p["who"])
