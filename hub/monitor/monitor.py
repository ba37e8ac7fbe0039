"""The monitor: one health record per stream, watched live or on patrol, evaluated into the index.

Runs on the event loop. A live stream has a supervisor whose observations are folded into its
`StreamHealth`; a patrolled one is visited and probed by the patroller. A patrolled stream somebody
looks at (`interest`) goes live while watched plus a grace, then back to patrol with what the live
connection saw as its last visit. Every `TICK_S` every stream is judged and its record refreshed.
`apply` performs a hot reload: unchanged streams keep their connection, changed ones restart.

The pieces, each testable without a running hub: `judge.py` folds observations into verdicts and
records; `modes.py` says which streams are live now; `reload.py` plans a reload; `watched.py` is one
stream as the monitor keeps it. This module runs them: readers, patrol, the tick, the load meter.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from functools import partial

from hub import health as h
from hub import logs
from hub.config import Config, Stream
from hub.diagnostics.measurer import Measurer
from hub.diagnostics.service import Diagnostics
from hub.index import Index, StreamRecord
from hub.ingest.live_tap import LiveTap
from hub.ingest.observations import Observation
from hub.ingest.shared import ReaderShared
from hub.ingest.sources import main_feed_settings, reader_settings
from hub.ingest.supervisor import StreamSupervisor
from hub.load.governor import READERS_BEHIND_LOW, SEVERE_LAG_S, Shed
from hub.load.meter import LoadMeter
from hub.monitor.capacity import capacity_report
from hub.monitor.judge import Judge, from_patrol
from hub.monitor.modes import WATCHED, plan
from hub.monitor.outages import publish_outages
from hub.monitor.reload import ReloadResult, plan_reload
from hub.monitor.snapshots import fresh_snapshot
from hub.monitor.watched import Watched, wall_time
from hub.patrol.interest import Interest
from hub.patrol.patroller import Patroller, PatrolTarget
from hub.patrol.schedule import PatrolTiming
from hub.patrol.verdict import ProbeOutcome, VisitOutcome, patrol_verdict
from hub.patrol.visit import Visit, run_visit
from hub.workers.pool import RemoteSupervisor, WorkerPool

log = logging.getLogger("hub.monitor")
Supervisor = StreamSupervisor | RemoteSupervisor  # a reader here, or in a worker process
TICK_S = 0.5
TICK_SLICE = 25  # streams judged between two turns of the loop: a slice costs about a millisecond
LOOP_LATE_S = 1.0
LIVE_STARTS_PER_TICK = 10  # per ingest process: a big estate connects at 20 a second, paced for the load governor
OUTAGES_EVERY_S = 1.0


class Monitor:
    def __init__(
        self,
        config: Config,
        index: Index,
        tap_for: Callable[[str], LiveTap] | None = None,
        diagnostics: Diagnostics | None = None,
    ):
        self.config = config
        self.index = index
        self.diagnostics = diagnostics or Diagnostics(config.diagnostics)
        self._outages_at = 0.0
        self._tap_for = tap_for
        self.watched: dict[str, Watched] = {}
        self._tick_task: asyncio.Task | None = None
        self._last_tick: float | None = None
        self._stopping = False  # set by `stop`: connections closed by the hub itself are not state changes
        self.keep_records = False  # a cluster node's: the records of streams it stops pulling stay in the index
        self.interest = Interest(config.monitor.live_grace_s, self._looked_at)
        processes = config.hub.ingest_processes
        self.pool = WorkerPool(processes, logging.getLogger().level, logs.current_format()) if processes > 1 else None
        self.measurer = Measurer()
        self.shared = ReaderShared(measurer=self.measurer)  # this process's readers': throttle, lease, decoders
        self.throttle = self.shared.throttle
        visit = self.pool.visit if self.pool is not None else partial(run_visit, shared=self.shared)
        self.patroller = Patroller(PatrolTiming.of(config.monitor), self._patrol_target, self._on_visit, self._on_probe, visit)
        self.judge = Judge(config, index, self.diagnostics, self.patroller.plan.promise)
        self._patrol_task: asyncio.Task | None = None
        self._demotions: set[asyncio.Future] = set()
        self._main_feeds: dict[str, Supervisor] = {}
        self.meter = LoadMeter(self._pids, self._shed, self._announce_load, self._live_count, self.judge.behind.take)
        self._meter_task: asyncio.Task | None = None
        self._diagnostics_task: asyncio.Task | None = None
        self._live_share = 1.0  # of the sheddable live streams, the share the load governor lets stay live
        self._starts_per_tick = LIVE_STARTS_PER_TICK * max(1, processes)
        self._starts_left = self._starts_per_tick  # live connections this tick may still open (refilled every tick)

    def set_tap_factory(self, tap_for: Callable[[str], LiveTap]) -> None:
        self._tap_for = tap_for  # live-video taps come from the app once its loop runs; set before `start`

    async def start(self) -> None:
        if self.pool is not None:
            await self.pool.start()
            log.info("ingest: %d worker processes", self.pool.count)
        self.patroller.add([sid for sid in map(self._watch, self.config.streams) if sid])  # staggered together
        loop = asyncio.get_running_loop()
        self._tick_task = loop.create_task(self._ticker(), name="health-tick")
        self._patrol_task = loop.create_task(self.patroller.run(), name="patrol")
        self._meter_task = loop.create_task(self.meter.run(), name="load-meter")
        self._diagnostics_task = loop.create_task(self.diagnostics.run(), name="diagnostics-writer")
        self.index.hub = self.meter.status()

    def _watch(self, stream: Stream) -> str | None:
        """Watch a stream as configured; returns its id when it is to be patrolled (the caller adds those
        to the patrol together, so that their first visits and probes are spread, not bunched)."""
        record = self.index.records.get(stream.id) or StreamRecord.from_stream(stream)
        record.describe(stream)
        record.mode = mode = self.config.mode_of(stream)
        record.node = self.config.cluster.node if self.config.cluster.enabled else ""  # who pulls it, in a cluster
        self.index.records[stream.id] = record
        watched = self.watched[stream.id] = Watched(stream, mode, None, h.StreamHealth(self.config.health, stream.fps), record)
        self.diagnostics.watch(stream, self.config.diagnostics)
        if mode == "live":
            if self._may_start():
                self._go_live(watched)  # else the next ticks start it, or patrol it if the governor sheds it
            return None
        return stream.id

    def _may_start(self) -> bool:
        """Whether one more live connection may open this tick (paced start of a big estate)."""
        self._starts_left -= 1
        return self._starts_left >= 0

    def _go_live(self, watched: Watched) -> None:
        stream = watched.stream
        settings = reader_settings(stream, self.config, quick=watched.why == WATCHED)  # somebody waits for it
        tap = self._tap_for(stream.id) if self._tap_for else None
        supervisor: Supervisor = self._supervisor(
            stream.id, settings, lambda items: self._deliver(watched, supervisor, items), tap
        )
        if stream.id in self.patroller.plan.slots:  # from patrol: its verdict stands until the live connection has its own
            now, period = asyncio.get_running_loop().time(), self.patroller.plan.promise(stream.id)
            self.patroller.remove(stream.id)
            from_patrol(watched, patrol_verdict(watched.visit, watched.probe, now, period), self.config.health)
        watched.supervisor = supervisor
        supervisor.start()

    def _supervisor(self, key: str, settings, deliver, tap: LiveTap | None) -> StreamSupervisor | RemoteSupervisor:
        """A reader for one feed: a thread here, or (with ingest_processes > 1) in a worker process."""
        if self.pool is not None:
            return RemoteSupervisor(self.pool, key, settings, deliver, tap)
        return StreamSupervisor(key, settings, deliver, tap, self.shared)

    def capacity(self) -> dict:
        """What this hub carries and, from what it measures, could carry (for /healthz)."""
        why: dict[str, dict[str, int]] = {"live": {}, "patrol": {}}
        for w in self.watched.values():
            counts = why[w.record.watching]
            counts[w.record.watching_reason] = counts.get(w.record.watching_reason, 0) + 1
        processes = self.pool.count if self.pool is not None else 1
        return capacity_report(
            self._live_count(), len(self.watched), self.meter, self.patroller, self.config.monitor, processes, why
        )

    def _live_count(self) -> int:
        return sum(1 for w in self.watched.values() if w.live_now)

    def _pids(self) -> list[int]:
        return [os.getpid()] + (self.pool.pids() if self.pool is not None else [])

    def set_pull_until(self, until: float | None) -> None:
        """A cluster node's pull deadline, for every reader here and in the workers (`hub.ingest.pull_lease`)."""
        self.shared.lease.until = until
        if self.pool is not None:
            self.pool.set_lease(until)

    def _shed(self, shed: Shed) -> None:
        """The load governor's level: picture sampling first, then patrol concurrency, then live streams
        nobody needs live (applied at the next tick by `_choose_shed`)."""
        self.throttle.factor = shed.picture_factor
        if self.pool is not None:
            self.pool.set_throttle(shed.picture_factor)
        self.patroller.concurrency_share = shed.patrol_share
        self._live_share = shed.live_share

    def _plan_modes(self, now: float) -> None:
        """Which streams are live now, and why (`hub.monitor.modes.plan`)."""
        looked_at = self.interest.looked_at(now)
        m = self.config.monitor
        plan(self.watched, looked_at, self.meter.budget.value, self._live_share, self.meter.ceiling.value, m.priority,
             m.recent_fault_s, now)  # fmt: skip

    def _announce_load(self, status: dict, changed: bool) -> None:
        sample = self.meter.sample  # readers behind, or starved by a loop this late: what they saw may be the hub's doing
        if sample.loop_lag_s > SEVERE_LAG_S or sample.readers_behind > READERS_BEHIND_LOW:
            self.judge.late_until = asyncio.get_running_loop().time() + self.config.health.stall_after_s + LOOP_LATE_S
        self.index.hub = status = status | {"patrol_period_s": round(self.patroller.plan.period_s, 1)}
        if changed:
            self.index.publish("hub", status)

    def _back_to_patrol(self, watched: Watched, now: float) -> None:
        """Nobody looks any more: what the live connection saw becomes the last visit."""
        watched.count_flow()
        supervisor, watched.supervisor = watched.supervisor, None
        if watched.health.had_frame:
            watched.visit = VisitOutcome(h.evaluate(watched.health, now), now)
            watched.record.checked_at = wall_time(now, now, time.time())
        if supervisor is not None:
            self._stop_later(supervisor)
        self.patroller.add([watched.stream.id], checked=watched.health.had_frame)  # no frame: its old visit, visit soon

    def _stop_later(self, supervisor: Supervisor) -> None:
        task = asyncio.ensure_future(supervisor.stop())  # a coroutine here, an awaitable from a worker's feed
        self._demotions.add(task)
        task.add_done_callback(self._demotions.discard)

    async def stop(self) -> None:
        self._stopping = True
        for task in (self._tick_task, self._patrol_task, self._meter_task, self._diagnostics_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.diagnostics.flush(baselines=True)
        supervisors = [w.supervisor for w in self.watched.values() if w.supervisor is not None]
        supervisors += self._main_feeds.values()
        await asyncio.gather(*(s.stop() for s in supervisors), *self._demotions)
        await asyncio.to_thread(self.measurer.close)
        if self.pool is not None:
            await self.pool.close()

    async def look(self, stream_id: str, wait: bool = True) -> None:
        """Somebody looks at this stream's picture (a snapshot request): a patrolled stream goes live a while
        (its latest picture is shown at once); a live one makes a JPEG of every picture meanwhile, and if
        `wait`, its snapshot gets a moment to be replaced when older than two picture intervals."""
        watched = self.watched.get(stream_id)
        was_live = watched is not None and watched.live_now
        self.interest.look(stream_id, asyncio.get_running_loop().time())
        if watched is None or not watched.live_now or self._tap_for is None:
            return
        self._tap_for(stream_id).pictures_wanted = True
        if was_live and wait:
            await fresh_snapshot(watched, self.config.health.picture_interval_s * self.throttle.factor)

    def _looked_at(self, stream_id: str) -> None:
        """Somebody began to look (`interest`): a patrolled stream goes live now, not at the next tick."""
        watched = self.watched.get(stream_id)
        if watched is not None and not watched.live_now and not self._stopping:
            watched.wanted, watched.why = True, WATCHED
            self._promote_or_demote(watched, asyncio.get_running_loop().time())

    def has_substream(self, stream_id: str) -> bool:
        watched = self.watched.get(stream_id)
        return watched is not None and watched.stream.has_substream

    def main_feed(self, stream_id: str, wanted: bool) -> None:
        """Big wall tiles play the main stream of a stream whose health reads its substream: a second
        reader, video only (its observations are not health's business), while anybody watches."""
        running = self._main_feeds.pop(stream_id, None)
        if running is not None:
            self._stop_later(running)
        watched = self.watched.get(stream_id)
        if not wanted or watched is None or self._stopping or self._tap_for is None:
            return
        settings = main_feed_settings(watched.stream, self.config)
        supervisor = self._supervisor(f"{stream_id}/main", settings, lambda items: None, self._tap_for(f"{stream_id}/main"))
        self._main_feeds[stream_id] = supervisor
        supervisor.start()

    def _patrol_target(self, stream_id: str) -> PatrolTarget | None:
        watched = self.watched.get(stream_id)
        if watched is None or watched.live_now or self._stopping:
            return None
        settings = reader_settings(watched.stream, self.config, quick=True)
        return PatrolTarget(settings, h.seeded(self.config.health, watched.stream.fps, watched.health), watched.probe)

    def _on_visit(self, stream_id: str, visit: Visit) -> bool:
        """A visit ended (patroller callback). True asks for another visit at once (this one is not believed)."""
        watched = self.watched.get(stream_id)
        if watched is None or watched.live_now or self._stopping:
            return False
        return self.judge.visited(watched, visit, asyncio.get_running_loop().time(), time.time())

    def _on_probe(self, stream_id: str, outcome: ProbeOutcome) -> bool:
        """A probe ended (patroller callback). Returns True when a visit should follow at once."""
        watched = self.watched.get(stream_id)
        if watched is None or watched.live_now or self._stopping:
            return False
        return self.judge.probed(watched, outcome, asyncio.get_running_loop().time(), time.time())

    def _deliver(self, watched: Watched, supervisor: Supervisor, items: list[Observation]) -> None:
        """A live connection's observations, judged while it is the stream's own (a stopped one's are not)."""
        if watched.supervisor is supervisor and self.watched.get(watched.stream.id) is watched and not self._stopping:
            self.judge.deliver(watched, items, asyncio.get_running_loop().time())

    async def _ticker(self) -> None:
        loop = asyncio.get_running_loop()
        expected = loop.time()
        while True:
            started = loop.time()
            if started - expected > LOOP_LATE_S:  # the hub itself stalled: frames may be waiting behind it
                self.judge.late_until = started + self.config.health.stall_after_s + LOOP_LATE_S
                log.warning(
                    "health tick %.1f s late: silences are not called stalls until the loop catches up", started - expected
                )
            try:
                await self.evaluate_all()
            except Exception:
                log.exception("health evaluation failed")
            pause = max(0.05, TICK_S - (loop.time() - started))
            expected = loop.time() + pause
            await asyncio.sleep(pause)

    async def evaluate_all(self) -> None:
        """Judge every stream, in slices so that 1,555 streams never hold the loop for long."""
        now, wall = asyncio.get_running_loop().time(), time.time()
        elapsed = 0.0 if self._last_tick is None else now - self._last_tick
        self._last_tick = now
        items = list(self.watched.items())
        # The hub or its readers late in any of the last few seconds: open no more live connections until
        # they have been on time for a while (or have shed them to patrol).
        self._starts_left = self._starts_per_tick if self.meter.on_time else 0
        self._plan_modes(now)
        for start in range(0, len(items), TICK_SLICE):
            for stream_id, watched in items[start : start + TICK_SLICE]:
                if self.watched.get(stream_id) is watched:  # a reload may have replaced it meanwhile
                    self._promote_or_demote(watched, now)
                    self.judge.evaluate(watched, now, wall, elapsed)
            await asyncio.sleep(0)
        if now - self._outages_at >= OUTAGES_EVERY_S:
            self._outages_at = now
            self._group_outages()
        self.index.ticks += 1
        self.index.touch()

    def _group_outages(self) -> None:
        publish_outages(self.index, self.diagnostics.outage_view(self.index.records.values(), self.config.diagnostics))

    def report_position(self, stream_id: str, lat: float, lon: float, at: float) -> bool:
        """A vehicle's GPS fix (from the API): applied unless older than the current one."""
        record = self.index.records.get(stream_id)
        if record is None or (record.position_at is not None and at < record.position_at):
            return False
        record.position, record.position_at = (lat, lon), at
        self.index.publish("position", {"id": stream_id, "lat": lat, "lon": lon, "at": round(at, 3)})
        return True

    def _promote_or_demote(self, watched: Watched, now: float) -> None:
        """Connect the streams `plan` wants live, patrol the others; the record says how each is watched and why."""
        if self._stopping:
            return
        sid, looked_at = watched.stream.id, self.interest.wants_live(watched.stream.id, now)
        if watched.wanted and not watched.live_now and (looked_at or self._may_start()):  # a look never waits
            log.info("stream %s: live (%s)", sid, watched.why)
            self._go_live(watched)
        elif not watched.wanted and watched.live_now:
            log.info("stream %s: on patrol (%s)", sid, watched.why)
            self._back_to_patrol(watched, now)
        elif not watched.wanted and sid not in self.patroller.plan.slots:
            self.patroller.add([sid], checked=False)  # wanted live before its paced start: patrolled meanwhile
        if watched.live_now and self._tap_for is not None:
            self._tap_for(sid).pictures_wanted = looked_at  # JPEGs of every picture only while somebody looks
        record = watched.record
        record.watching = "live" if watched.live_now else "patrol"
        record.watching_reason = watched.why if watched.live_now == watched.wanted else f"{watched.why}: starting, paced"
        record.promoted, record.shed = watched.live_now and watched.why == WATCHED, watched.shed and not watched.live_now
        record.check_period_s = self.config.health.picture_interval_s if watched.live_now else self.patroller.plan.promise(sid)

    async def _unwatch(self, watched: Watched) -> None:
        self.patroller.remove(watched.stream.id)
        main = self._main_feeds.pop(watched.stream.id, None)
        if main is not None:
            await main.stop()
        if watched.supervisor is not None:
            await watched.supervisor.stop()

    async def apply(self, config: Config) -> ReloadResult:
        """Hot reload: diff the streams of `config` against the running ones (`hub.monitor.reload`)."""
        plan = plan_reload(self.config, config, self.watched)
        self.config = self.judge.config = config
        for sid in plan.stopped:
            await self._unwatch(self.watched.pop(sid))
            if not self.keep_records:  # a cluster node's camera handed over stays listed (hub.cluster.estate)
                self.index.records.pop(sid, None)
                self.index.publish("removed", {"id": sid})
        self.diagnostics.forget(list(plan.stopped))
        to_patrol = []
        for stream in config.streams:
            watched = self.watched.get(stream.id)
            if watched is not None and stream.id in plan.restarted:
                await self._unwatch(watched)
            if watched is not None and stream.id in plan.unchanged:
                watched.stream = stream
                watched.record.describe(stream)
                watched.health.settings, watched.health.nominal_fps = config.health, stream.fps
                self.diagnostics.watch(stream, config.diagnostics)
            else:
                to_patrol.append(self._watch(stream))
        self.patroller.add([sid for sid in to_patrol if sid])
        self.patroller.plan.retime(PatrolTiming.of(config.monitor))
        self.interest.grace_s = config.monitor.live_grace_s
        self.index.touch()
        return plan
