"""One watched stream as the monitor keeps it: config, mode, reader, health, record, and what patrol learnt.

Runs on the event loop, no I/O: the fold methods take a visit's or a probe's result and the current
time and update the stream's health and record (the monitor then judges it).
"""

from __future__ import annotations

from dataclasses import dataclass

from hub import health as h
from hub.config import Stream
from hub.index import StreamRecord
from hub.ingest.supervisor import StreamSupervisor
from hub.patrol.verdict import PROBE_OK, ProbeOutcome, VisitOutcome
from hub.patrol.visit import Visit
from hub.workers.pool import RemoteSupervisor


def wall_time(monotonic: float, now_mono: float, now_wall: float) -> float:
    """A monotonic instant as wall-clock time (epoch seconds), given both clocks' `now`."""
    return now_wall - (now_mono - monotonic)


@dataclass
class Watched:
    stream: Stream
    mode: str  # as configured: live | patrol
    supervisor: StreamSupervisor | RemoteSupervisor | None  # None while on patrol
    health: h.StreamHealth  # live: the connection's; patrol: the last visit's, frozen at `visit.ended`
    record: StreamRecord
    up_s: float = 0.0
    seen_s: float = 0.0
    visit: VisitOutcome | None = None
    probe: ProbeOutcome | None = None
    shed: bool = False  # a stream of mode live the load governor has put on patrol for now
    wanted: bool = False  # live now? (`hub.monitor.modes.plan`, every tick)
    why: str = ""  # why it is live or patrolled now, for its record
    faulted_at: float | None = None  # monotonic: when its state was last neither online nor connecting
    late_batches: int = 0  # packet batches in a row its reader handed over late (`hub.load.readers_behind`)
    behind_until: float = 0.0  # monotonic: its reader fell behind its camera; a fault till then may be the hub's
    carried: h.Verdict | None = None  # what its patrol found that the live connection cannot judge yet
    measured_for: object = None  # the visit the record's rates were last measured from (patrol: measure once per visit)
    frames_before: int = 0  # frames and bytes of earlier visits and live spells: the record's totals never go back
    bytes_before: int = 0

    @property
    def live_now(self) -> bool:
        return self.supervisor is not None

    @property
    def sheddable(self) -> bool:
        """May go on patrol when the hub is overloaded: not sensitive (childcare or tagged so)."""
        return self.stream.category != "childcare" and "sensitive" not in self.stream.tags

    def count_flow(self) -> None:
        """Fold the current health's frames into the totals (before the health is replaced)."""
        self.frames_before += self.health.flow.frames_total
        self.bytes_before += self.health.flow.bytes_total

    def show_totals(self) -> None:
        flow = self.health.flow if self.live_now else None
        self.record.frames_total = self.frames_before + (flow.frames_total if flow else 0)
        self.record.bytes_total = self.bytes_before + (flow.bytes_total if flow else 0)

    def fold_visit(self, visit: Visit, now: float, wall: float) -> None:
        """A visit ended: its health and verdict stand until the next visit or a failed probe."""
        self.visit, self.health = visit.outcome, visit.health
        self.count_flow()
        record = self.record
        record.checked_at = wall_time(visit.outcome.ended, now, wall)
        if visit.pictures and visit.pictures[-1].jpeg:
            picture = visit.pictures[-1]
            record.snapshot, record.snapshot_at = picture.jpeg, wall_time(picture.at, now, wall)
            record.snapshot_seq += 1
        if visit.health.flow.last_at is not None:
            record.last_frame_at = wall_time(visit.health.flow.last_at, now, wall)

    def fold_probe(self, outcome: ProbeOutcome, now: float, wall: float) -> bool:
        """A probe ended. True when a visit should follow at once: the probe failed in a way no visit
        has confirmed yet, or the camera answers again while its last verdict says it is down."""
        previous, self.probe = self.probe, outcome
        self.record.probed_at = wall_time(outcome.at, now, wall)
        # Not yet visited is not down: an answering camera waits for its turn in the first round.
        down = self.visit is not None and self.visit.verdict.state not in h.UP_STATES
        if outcome.outcome == PROBE_OK:
            return down
        confirmed = down and previous is not None and previous.outcome == outcome.outcome
        return not confirmed
