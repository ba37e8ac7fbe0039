"""When each patrolled camera is next visited and probed. Pure: no I/O, no clock of its own.

The patroller (on the event loop) asks `due_visits` and `due_probes` with the current time and
reports back with `visit_started`, `visited` and `probed`. Everything takes `now`, so tests drive a
whole estate's rotation with made-up times.

Spreading: cameras added together get their first visits and probes staggered evenly, so the load
is flat from the start instead of a burst every period. The first round of visits is paced no
faster than the visits can run (`concurrency / VISIT_ESTIMATE_S` a second) and no slower than one
that fits in `FIRST_ROUND_SHARE` of the period; later visits follow `REVISIT_SHARE` of a period
after each visit started, which keeps that spacing. Urgent visits (a failed probe, a probe that
recovered) go before everything else.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

VISIT_ESTIMATE_S = 5.0  # a typical visit: open, a keyframe, a few seconds of flow
FIRST_ROUND_SHARE = 0.8
REVISIT_SHARE = 0.9  # revisit a little before the period ends: queueing never makes a verdict overdue


@dataclass
class Slot:
    next_visit: float
    next_probe: float
    urgent: bool = False
    visiting: bool = False
    probing: bool = False


@dataclass(frozen=True)
class PatrolTiming:
    period_s: float
    probe_interval_s: float
    concurrency: int

    @classmethod
    def of(cls, monitor) -> PatrolTiming:
        """From the config's [monitor] table (`hub.config.MonitorSettings`)."""
        return cls(monitor.patrol_period_s, monitor.probe_interval_s, monitor.patrol_concurrency)


class PatrolPlan:
    def __init__(self, timing: PatrolTiming):
        self.timing = timing
        self.slots: dict[str, Slot] = {}

    def add(self, stream_ids: list[str], now: float, checked: bool = False) -> None:
        """Schedule cameras. New ones: first visits staggered at the pace the visits can keep, probes over
        one interval. `checked` ones (back from live, their verdict fresh): next visit a revisit interval
        from now, probes within one interval. Cameras added one at a time (a live stream shed, a look
        ended) get their place within the interval from their id, so many of them never probe together."""
        fresh = [sid for sid in stream_ids if sid not in self.slots]
        if not fresh:
            return
        visit_gap = min(FIRST_ROUND_SHARE * self.timing.period_s / len(fresh), VISIT_ESTIMATE_S / self.timing.concurrency)
        for i, stream_id in enumerate(fresh):
            # Probes start at once, spread over one interval: reachability of the whole estate is known
            # within `probe_interval_s` of a start, long before the first round of visits ends.
            place = i / len(fresh) if len(fresh) > 1 else _place(stream_id)
            first_visit = now + REVISIT_SHARE * self.timing.period_s * (1 - 0.2 * place) if checked else now + i * visit_gap
            self.slots[stream_id] = Slot(first_visit, now + place * self.timing.probe_interval_s)

    def remove(self, stream_id: str) -> None:
        self.slots.pop(stream_id, None)

    def retime(self, timing: PatrolTiming) -> None:
        self.timing = timing

    def due_visits(self, now: float, free: int) -> list[str]:
        """Up to `free` cameras to visit now: urgent ones first, then the most overdue."""
        if free <= 0:
            return []
        due = [
            (not slot.urgent, slot.next_visit, sid)
            for sid, slot in self.slots.items()
            if not slot.visiting and (slot.urgent or slot.next_visit <= now)
        ]
        return [sid for _, _, sid in sorted(due)[:free]]

    def due_probes(self, now: float) -> list[str]:
        """Cameras whose probe is due and not under way, the most overdue first (a visit under way may
        still fail to answer in time, so it does not hold a probe back)."""
        due = [(slot.next_probe, sid) for sid, slot in self.slots.items() if slot.next_probe <= now and not slot.probing]
        return [sid for _, sid in sorted(due)]

    def visit_started(self, stream_id: str, now: float) -> None:
        slot = self.slots.get(stream_id)
        if slot is not None:
            slot.visiting, slot.urgent = True, False
            # On time or late: keep the camera's place in the rotation. Early (an urgent visit): count from now,
            # never from a slot still ahead, or the next regular visit would land beyond the period.
            anchor = min(slot.next_visit, now)
            slot.next_visit = max(anchor, now - self.timing.period_s) + REVISIT_SHARE * self.timing.period_s
            slot.next_visit = max(slot.next_visit, now + 1.0)

    def visited(self, stream_id: str, now: float) -> None:
        slot = self.slots.get(stream_id)
        if slot is not None:
            slot.visiting = False
            slot.next_probe = max(slot.next_probe, now + self.timing.probe_interval_s)  # a visit answers what a probe asks

    def probe_started(self, stream_id: str) -> None:
        slot = self.slots.get(stream_id)
        if slot is not None:
            slot.probing = True

    def probed(self, stream_id: str, now: float, needs_visit: bool) -> None:
        """A probe finished; `needs_visit` (it failed, or it recovered) moves the camera to the front."""
        slot = self.slots.get(stream_id)
        if slot is None:
            return
        slot.probing = False
        # A visit that ended while this probe ran has already put the next probe an interval after it:
        # count from the earlier of the two, never add a second interval on top.
        base = min(slot.next_probe, now)
        late = now - base
        slot.next_probe = (
            now + self.timing.probe_interval_s if late > self.timing.probe_interval_s else base + self.timing.probe_interval_s
        )
        slot.next_probe = max(slot.next_probe, now + 0.5)
        if needs_visit:
            slot.urgent = True

    def urge(self, stream_id: str) -> None:
        slot = self.slots.get(stream_id)
        if slot is not None:
            slot.urgent = True


def _place(stream_id: str) -> float:
    """A stable spot in [0, 1) for one camera, from its id (the same on every run)."""
    return zlib.crc32(stream_id.encode()) / 2**32
