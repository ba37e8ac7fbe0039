"""Health folding: what readers and visits observe, turned into each stream's verdict and record.

Runs on the event loop, no I/O; the monitor calls it for every batch of observations (`deliver`), every
visit and probe, and every stream at every tick (`evaluate`). A verdict that differs from the record's
state and reasons replaces them and publishes one `state` event: the judge is where the index's states
are written.

The hub's own lateness is no camera's fault: while the event loop was late (`late_until`), a fault the
hub itself could have caused (`OUR_DOING`) is not shown until a connection made after the hub caught
up confirms it. A stream whose own reader hands its packets over late (`Watched.behind_until`: it fell
behind its camera, starved of a CPU or of the interpreter lock) has such faults held until the hub has
had `stall_after_s` + 1.5 s to catch up. A camera that really stops sending ends that hold at once: its
reader waits on a silent socket until FFmpeg gives up, and the connection's end (`Closed`) is the
reader's own evidence of the silence. Before it gives up, FFmpeg flushes the packets it still held when
a read timed out: one late batch, then silence. So a stream's faults are held from its reader's second
late batch in a row, and the hub's share of readers behind (`ReadersBehind`) counts a lone late batch
only while the hub is busy: on a small site one flushed batch was a large share of a second's batches
and held every camera's faults for 6 s. A reader whose worker process died (`ReaderLost`) has its faults
held until the restarted worker's reader opens (its silence then counts from that open) or for
`READER_LOST_HOLD_S`, whichever comes first: a killed worker is the hub's trouble, not its cameras'.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from hub import health as h
from hub.config import Config, HealthSettings
from hub.diagnostics.service import Diagnostics
from hub.index import Index
from hub.ingest.observations import (
    ENDED,
    STALLED,
    UNREACHABLE,
    Closed,
    Observation,
    Opened,
    PacketBatch,
    Picture,
    PictureMeasured,
    ReaderLost,
)
from hub.load.readers_behind import BEHIND_S, ReadersBehind
from hub.monitor.watched import Watched, wall_time
from hub.patrol.verdict import ProbeOutcome, patrol_verdict
from hub.patrol.visit import Visit

log = logging.getLogger("hub.monitor")
READER_LOST_HOLD_S = 30.0  # longest a dead worker's streams' faults are held while it restarts

# What a starved hub can cause by itself: readers time out, fall behind real time, miss frames.
OUR_DOING = frozenset({STALLED, UNREACHABLE, ENDED, "frozen", "low_fps", "decode_errors"})


class Judge:
    def __init__(self, config: Config, index: Index, diagnostics: Diagnostics, promise: Callable[[str], float] | None = None):
        self.config = config  # replaced on reload
        # How old a patrolled camera's verdict may be (`hub.patrol.schedule.PatrolPlan.promise`); None: the period
        self.promise = promise
        self.index = index
        self.diagnostics = diagnostics
        self.late_until = 0.0  # loop time until which the hub's own lateness may explain a fault
        self.behind = ReadersBehind()  # how late the readers' batches come (the load meter takes it)

    def deliver(self, watched: Watched, items: list[Observation], now: float) -> None:
        """A reader's observations: folded into health; a new picture or a connection change is judged at once."""
        urgent = False
        for item in items:
            h.observe(watched.health, item, now)
            urgent = urgent or isinstance(item, (Picture, Closed, Opened))
            if isinstance(item, (Picture, PictureMeasured)):  # a picture measured by the reader, or later by the measurer
                self.diagnostics.picture(watched.stream.id, item, wall_time(item.at, now, time.time()))
            if isinstance(item, Picture) and item.jpeg:
                record = watched.record
                record.snapshot, record.snapshot_at = item.jpeg, wall_time(item.at, now, time.time())
                record.snapshot_seq += 1
            if isinstance(item, PacketBatch) and item.packets:
                watched.record.last_frame_at = wall_time(item.packets[-1].arrival, now, time.time())
                late = now - item.packets[-1].arrival > BEHIND_S
                # One late batch is FFmpeg flushing what it held when a read timed out on a silent camera; a
                # reader that fell behind hands over late batch after batch.
                watched.late_batches = watched.late_batches + 1 if late else 0
                behind = watched.late_batches >= 2
                self.behind.note(late, behind)
                if behind:
                    watched.behind_until = now + self.config.health.stall_after_s + BEHIND_S
            elif isinstance(item, Closed):  # the reader heard its camera's silence itself; a new connection starts afresh
                watched.behind_until, watched.late_batches = 0.0, 0
                if item.message != "stopped":  # stopped by the hub (a change of mode, a reload): no failure
                    watched.record.last_error = item.message
            elif isinstance(item, Opened):  # a new connection starts afresh (after a dead worker's, too)
                watched.record.last_error = None
                watched.behind_until, watched.late_batches = 0.0, 0
            elif isinstance(item, ReaderLost):
                watched.behind_until = now + READER_LOST_HOLD_S
        if urgent:
            self.evaluate(watched, now, time.time(), 0.0)

    def visited(self, watched: Watched, visit: Visit, now: float, wall: float) -> bool:
        """A patrol visit ended: folded in and judged. True when it is not believed (judged while the hub
        was late): the patroller visits again at once."""
        if self.maybe_ours(visit.outcome.verdict, now):
            return True
        watched.fold_visit(visit, now, wall)
        for picture in visit.pictures:
            self.diagnostics.picture(watched.stream.id, picture, wall_time(picture.at, now, wall))
        self.evaluate(watched, now, wall, 0.0)
        return False

    def probed(self, watched: Watched, outcome: ProbeOutcome, now: float, wall: float) -> bool:
        """A probe ended: folded in and judged. True when a visit should follow at once."""
        needs_visit = watched.fold_probe(outcome, now, wall)
        self.evaluate(watched, now, wall, 0.0)
        return needs_visit

    def maybe_ours(self, verdict: h.Verdict, now: float, watched: Watched | None = None) -> bool:
        """A fault the hub's own lateness may have caused, seen while (or just after) the loop was late, or
        while `watched`'s own reader was behind its camera."""
        until = self.late_until if watched is None else max(self.late_until, watched.behind_until)
        return now < until and bool(verdict.reasons) and OUR_DOING.issuperset(verdict.reasons)

    def evaluate(self, watched: Watched, now: float, wall: float, elapsed: float) -> None:
        """Judge one stream now; `elapsed` (since the last tick) counts toward its uptime."""
        stream_id, health, record = watched.stream.id, watched.health, watched.record
        if record.state in h.UP_STATES:
            watched.up_s += elapsed
        if record.state != h.CONNECTING:  # time before the first verdict is not downtime
            watched.seen_s += elapsed
        verdict, at = self._verdict(watched, now)
        if self.maybe_ours(verdict, now, watched) and (record.state in h.UP_STATES or record.state == h.CONNECTING):
            verdict = h.Verdict(record.state, record.reasons)  # the hub's own lateness is no camera fault (nor a first verdict)
        else:
            verdict = self.diagnostics.judge(stream_id, verdict, wall)
        record.muted = self.diagnostics.muted(stream_id, wall)
        if watched.live_now or watched.measured_for is not watched.visit:  # a patrolled stream's change with its visits only
            measure(watched, at, now, wall)
            watched.measured_for = watched.visit
        record.failing_checks = tuple(r for r in verdict.reasons if r in h.CHECKS)  # the verdict already ran them
        record.uptime_ratio = round(watched.up_s / watched.seen_s, 4) if watched.seen_s else 0.0
        supervisor = watched.supervisor
        watched.show_totals()
        if supervisor is not None:
            record.reconnects = health.reconnects
            record.dropped_observations = supervisor.dropped
        retry_at = supervisor.retry_at if supervisor is not None else None
        record.retry_at = None if retry_at is None else wall_time(retry_at, now, wall)
        if verdict.state not in (h.ONLINE, h.CONNECTING):
            watched.faulted_at = now  # an auto camera with a recent fault comes before healthy ones
        if (verdict.state, verdict.reasons) != (record.state, record.reasons):
            previous = record.state
            record.state, record.reasons, record.since = verdict.state, verdict.reasons, wall
            log.info("stream %s: %s -> %s %s", stream_id, previous, verdict.state, ",".join(verdict.reasons))
            self.index.publish(
                "state",
                {
                    "id": stream_id,
                    "state": verdict.state,
                    "reasons": list(verdict.reasons),
                    "previous": previous,
                    "at": round(wall, 3),
                },
            )

    def _verdict(self, watched: Watched, now: float) -> tuple[h.Verdict, float]:
        """The stream's verdict and the time its measurements are taken at (a visit's end, on patrol)."""
        if not watched.live_now:
            promise = self.promise(watched.stream.id) if self.promise else self.config.monitor.patrol_period_s
            patrolled = patrol_verdict(watched.visit, watched.probe, now, promise)
            return patrolled, watched.visit.ended if watched.visit else now
        live = h.evaluate(watched.health, now)
        # Back from patrol, no frame yet on the live connection: the patrol verdict stands, never "overdue"
        # meanwhile, since the live connection is renewing it (until it fails or sends video: seconds).
        known = patrol_verdict(watched.visit, watched.probe, now, math.inf)
        if live.state == h.CONNECTING and known.state != h.CONNECTING:
            return known, now
        if watched.carried is not None:
            live, watched.carried = carry_over(live, watched.carried, watched.health, now)
        if watched.health.latest is not None:
            watched.record.checked_at = wall_time(watched.health.latest.at, now, time.time())
        return live, now


def measure(watched: Watched, at: float, now: float, wall: float) -> None:
    """Rates, sizes and "frozen since" from the stream's health as of `at`, into its record."""
    health, record = watched.health, watched.record
    opened = health.opened
    record.codec = opened.codec if opened else record.codec
    record.transport = opened.transport if opened and opened.transport else record.transport
    if health.size:
        record.width, record.height = health.size
    # A connection just opened (a camera gone live, a visit) has no rates yet: the last ones stand meanwhile,
    # so that a change of mode makes no gap in the record or the metrics.
    fresh = health.connected
    record.fps = _or_kept(h.measured_fps(health, at), record.fps, fresh)
    record.bitrate_bps = _or_kept(h.measured_bitrate(health, at), record.bitrate_bps, fresh)
    record.keyframe_interval_s = _or_kept(h.keyframe_interval(health), record.keyframe_interval_s, fresh)
    record.nominal_fps = h.expected_fps(health)
    unchanged_since = h.picture_unchanged_since(health)
    # Rounded: converting clocks jitters by microseconds, which would make every record look changed every tick.
    record.picture_changed_at = None if unchanged_since is None else round(wall_time(unchanged_since, now, wall), 2)


def from_patrol(watched: Watched, known: h.Verdict, settings: HealthSettings) -> None:
    """A patrolled stream going live: what its patrol found (`known`: its last visit and probe) stands until
    the live connection has its own verdict (`carry_over`). The last visit's frames are counted already; its
    pictures are remembered (frozen stays frozen since the same moment), and why it was down (a hung camera
    whose open times out is stalled still, not newly unreachable)."""
    if known.state not in (h.ONLINE, h.CONNECTING):
        watched.carried = known
    down = known.reasons[0] if known.state == h.OFFLINE and known.reasons else None
    watched.health = h.seeded(settings, watched.stream.fps, watched.health, down)


def carry_over(live: h.Verdict, carried: h.Verdict, health: h.StreamHealth, now: float) -> tuple[h.Verdict, h.Verdict | None]:
    """A patrolled camera gone live keeps the faults its patrol found until the live connection can judge
    them by the same rules: the picture rules can at its first picture (its health remembers the visit's
    pictures), the low_fps rule once its rate window is full. Returns the verdict and what is still carried."""
    still = tuple(r for r in carried.reasons if r == "low_fps" and not h.rate_window_full(health, now))
    if not still or live.state in (h.OFFLINE, h.UNAUTHORIZED):
        return live, None
    reasons = live.reasons + tuple(r for r in still if r not in live.reasons)
    return h.Verdict(h.DEGRADED, reasons), h.Verdict(carried.state, still)


def _or_kept(value: float | None, kept: float | None, keep: bool) -> float | None:
    return kept if value is None and keep else value
