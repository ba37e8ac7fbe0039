"""When each patrolled camera is next visited and probed. Pure: no I/O, no clock of its own.

The patroller (on the event loop) asks `due_visits` and `due_probes` with the current time and
reports back with `visit_started`, `visited` and `probed`. Everything takes `now`, so tests drive a
whole estate's rotation with made-up times.

First round: cameras added together get their first visits and probes staggered evenly. The first
visits are paced no faster than the visits can run (`concurrency / VISIT_ESTIMATE_S` a second) and
no slower than a round that fits in `FIRST_ROUND_SHARE` of the period.

Rotation: after its first visit, each camera is revisited once a turn of the rotation, a turn lasting
`REVISIT_SHARE` of the period kept; the turn is counted in turns, not seconds, so when the period
stretches or shrinks every camera's next visit moves with it and the spacing of the visits is kept. A
late visit keeps the camera's place in the turn (queueing never shifts the rotation); an early one (an
urgent visit) starts its place anew.

Order: urgent visits (a failed probe, a probe that recovered) go first; then the visit whose deadline
comes first: a revisit must come before its camera's verdict passes the period, a first visit (a
camera with no verdict yet, shown as connecting) may wait a period past its place. So a node that
takes over many cameras keeps the verdicts it already has fresh and fits the newcomers' first visits
into what is left.

The period kept (`period_s`): the configured one while one round of visits fits in it, or longer while
the patrol holds more cameras than it can visit once a period at the measured visit length and
concurrency (`pace`). It stretches at once and shrinks back gradually as the load falls; the turn
follows it. Each verdict is owed its next visit within its `promise`: the period kept when it was
taken, lengthened by any stretch since and never shortened, so neither a stretch nor a shrink makes a
camera overdue that the rotation visits on time. The hub shows the period kept in `/healthz`, in
`hub_patrol_period_seconds` and, per camera, its promise as `hub_stream_check_period_seconds`.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

VISIT_ESTIMATE_S = 5.0  # a typical visit: open, a keyframe, a few seconds of flow
FIRST_ROUND_SHARE = 0.8
REVISIT_SHARE = 0.9  # a turn of the rotation: queueing never makes a verdict overdue
FIRST_VISIT_SLACK = 1.0  # periods a first visit may wait past its place before it goes ahead of revisits
HEADROOM = 1.25  # the stretched period leaves this much spare visiting to catch up with
SHRINK_RATE = 1.0  # a stretched period comes back by at most this many seconds a second
MIN_TURN_GAP = 0.02  # of a turn: a visit just before a camera's place does not bring another at once


@dataclass
class Slot:
    next_visit: float  # first visit: when it is planned; after: when the rotation will come (an estimate)
    next_probe: float
    urgent: bool = False
    visiting: bool = False
    probing: bool = False
    judged: bool = False  # visited once, or back from live with a fresh verdict: in the rotation
    turn: float = 0.0  # the rotation's position at which its next revisit is due
    promise: float = 0.0  # seconds its verdict may age before its next visit is late


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
        self.period_s = timing.period_s  # the period kept now (`pace`)
        self.rotation = 0.0  # turns since the plan began
        self._clock_at: float | None = None
        self._paced_at: float | None = None

    def add(self, stream_ids: list[str], now: float, checked: bool = False) -> None:
        """Schedule cameras. New ones: first visits staggered at the pace the visits can keep, probes over
        one interval. `checked` ones (back from live, their verdict fresh): in the rotation at once, at
        their place in the turn. Cameras added one at a time (a live stream shed, a look ended) get their
        probe's place within the interval from their id, so many of them never probe together."""
        fresh = [sid for sid in stream_ids if sid not in self.slots]
        if not fresh:
            return
        rotation = self._advance(now)
        visit_gap = min(FIRST_ROUND_SHARE * self.period_s / len(fresh), VISIT_ESTIMATE_S / self.timing.concurrency)
        for i, stream_id in enumerate(fresh):
            # Probes start at once, spread over one interval: reachability of the whole estate is known
            # within `probe_interval_s` of a start, long before the first round of visits ends.
            spread = i / len(fresh) if len(fresh) > 1 else _place(stream_id)
            slot = Slot(now + i * visit_gap, now + spread * self.timing.probe_interval_s)
            if checked:  # the next visit most of a turn on, spread a little so they do not come back together
                slot.judged, slot.promise, slot.turn = True, self.period_s, rotation + 1 - 0.2 * _place(stream_id)
                slot.next_visit = now + (slot.turn - rotation) * REVISIT_SHARE * self.period_s
            self.slots[stream_id] = slot

    def remove(self, stream_id: str) -> None:
        self.slots.pop(stream_id, None)

    def retime(self, timing: PatrolTiming) -> None:
        self.timing = timing
        self.period_s = max(self.period_s, timing.period_s) if self._paced_at is not None else timing.period_s

    def pace(self, now: float, mean_visit_s: float | None, concurrency: int) -> float:
        """The period kept from now: the configured one, or what one round of visits of every patrolled
        camera needs at `concurrency` visits of `mean_visit_s` at once, with `HEADROOM`. Rises at once
        (every verdict's promise with it), falls by `SHRINK_RATE` a second at most."""
        self._advance(now)
        needed = self.timing.period_s
        if mean_visit_s and self.slots:
            one_round = len(self.slots) * mean_visit_s / max(1, concurrency)
            needed = max(needed, HEADROOM * one_round / REVISIT_SHARE)
        elapsed = 0.0 if self._paced_at is None else max(0.0, now - self._paced_at)
        self._paced_at = now
        if needed > self.period_s:
            for slot in self.slots.values():
                slot.promise = max(slot.promise, needed)
        self.period_s = needed if needed >= self.period_s else max(needed, self.period_s - SHRINK_RATE * elapsed)
        return self.period_s

    def promise(self, stream_id: str) -> float:
        """How old the camera's verdict may be before its visit is late (the period kept when it had none)."""
        slot = self.slots.get(stream_id)
        return slot.promise if slot is not None and slot.judged else self.period_s

    def due_visits(self, now: float, free: int) -> list[str]:
        """Up to `free` cameras to visit now: urgent ones first, then the earliest deadline (a revisit
        before its verdict would pass the period, a first visit a period after its place)."""
        if free <= 0:
            return []
        rotation, turn_s = self._advance(now), REVISIT_SHARE * self.period_s
        revisit_slack = (1 - REVISIT_SHARE) * self.period_s
        first_slack = FIRST_VISIT_SLACK * self.period_s
        due = []
        for sid, slot in self.slots.items():
            if slot.visiting:
                continue
            if slot.judged:
                at, slack = now - (rotation - slot.turn) * turn_s, revisit_slack
            else:
                at, slack = slot.next_visit, first_slack
            if slot.urgent or at <= now:
                due.append((not slot.urgent, at + slack, sid))
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
            self._next_turn(slot, self._advance(now), now)

    def _next_turn(self, slot: Slot, rotation: float, now: float) -> None:
        """The next visit a turn on: from the camera's place when this visit is on time or late (queueing
        never shifts the rotation), from now when it is early (an urgent visit) or the first."""
        if not slot.judged:
            slot.judged, slot.promise, slot.turn = True, self.period_s, rotation + 1
        elif slot.turn <= rotation:
            slot.turn += max(1, math.floor(rotation + MIN_TURN_GAP - slot.turn) + 1)
        else:
            slot.turn = rotation + 1
        slot.next_visit = now + (slot.turn - rotation) * REVISIT_SHARE * self.period_s

    def _advance(self, now: float) -> float:
        """The rotation's position at `now`: turns of `REVISIT_SHARE` of the period kept."""
        if self._clock_at is not None and now > self._clock_at:
            self.rotation += (now - self._clock_at) / (REVISIT_SHARE * self.period_s)
        if self._clock_at is None or now > self._clock_at:
            self._clock_at = now
        return self.rotation

    def visited(self, stream_id: str, now: float) -> None:
        """A visit ended: its verdict is owed the next within the period kept now."""
        slot = self.slots.get(stream_id)
        if slot is not None:
            slot.visiting, slot.promise = False, self.period_s
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
