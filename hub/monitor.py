"""The monitor: one supervisor and one health record per stream, evaluated into the index.

Runs on the event loop. Observations arrive from supervisors and are folded
into each stream's `StreamHealth`; every `TICK_S` every stream is evaluated,
its record in the index refreshed, and a `state` event published when its
state or reasons change. `apply` performs a hot reload: unchanged streams keep
their connection, changed ones restart, removed ones stop, new ones start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub import health as h
from hub.config import Config
from hub.index import Index, StreamRecord
from hub.ingest.live_tap import LiveTap
from hub.ingest.observations import Closed, Observation, Opened, PacketBatch, Picture
from hub.ingest.sources import reader_settings
from hub.ingest.supervisor import StreamSupervisor

log = logging.getLogger("hub.monitor")
TICK_S = 0.5
TICK_SLICE = 100


@dataclass
class Watched:
    supervisor: StreamSupervisor
    health: h.StreamHealth
    record: StreamRecord
    up_s: float = 0.0
    seen_s: float = 0.0


@dataclass(frozen=True)
class ReloadResult:
    started: tuple[str, ...]
    stopped: tuple[str, ...]
    restarted: tuple[str, ...]
    unchanged: tuple[str, ...]

    def to_json(self) -> dict:
        return {k: list(getattr(self, k)) for k in ("started", "stopped", "restarted", "unchanged")}


def _wall(monotonic: float, now_mono: float, now_wall: float) -> float:
    return now_wall - (now_mono - monotonic)


class Monitor:
    def __init__(self, config: Config, index: Index, tap_for: Callable[[str], LiveTap] | None = None):
        self.config = config
        self.index = index
        self._tap_for = tap_for
        self.watched: dict[str, Watched] = {}
        self._tick_task: asyncio.Task | None = None
        self._last_tick: float | None = None
        self._stopping = False  # set by `stop`: connections closed by the hub itself are not state changes

    def set_tap_factory(self, tap_for: Callable[[str], LiveTap]) -> None:
        """Live-video taps come from the app once its loop runs; set before `start`."""
        self._tap_for = tap_for

    async def start(self) -> None:
        for stream in self.config.streams:
            self._watch(stream)
        self._tick_task = asyncio.get_running_loop().create_task(self._ticker(), name="health-tick")

    def _watch(self, stream) -> None:
        settings = reader_settings(stream, self.config.sim, self.config.health)
        tap = self._tap_for(stream.id) if self._tap_for else None
        supervisor = StreamSupervisor(stream.id, settings, lambda items, sid=stream.id: self._deliver(sid, items), tap)
        record = self.index.records.get(stream.id) or StreamRecord.from_stream(stream)
        record.describe(stream)
        self.index.records[stream.id] = record
        self.watched[stream.id] = Watched(supervisor, h.StreamHealth(self.config.health, stream.fps), record)
        supervisor.start()

    async def stop(self) -> None:
        self._stopping = True
        if self._tick_task is not None:
            self._tick_task.cancel()
            await asyncio.gather(self._tick_task, return_exceptions=True)
        await asyncio.gather(*(w.supervisor.stop() for w in self.watched.values()))

    def _deliver(self, stream_id: str, items: list[Observation]) -> None:
        watched = self.watched.get(stream_id)
        if watched is None or self._stopping:
            return
        now = asyncio.get_running_loop().time()
        urgent = False
        for item in items:
            h.observe(watched.health, item, now)
            urgent = urgent or isinstance(item, (Picture, Closed, Opened))
            if isinstance(item, Picture) and item.jpeg:
                record = watched.record
                record.snapshot, record.snapshot_at = item.jpeg, _wall(item.at, now, time.time())
                record.snapshot_seq += 1
            if isinstance(item, PacketBatch) and item.packets:
                watched.record.last_frame_at = _wall(item.packets[-1].arrival, now, time.time())
        if urgent:  # a new picture or a connection change can flip the state: judge now, not at the next tick
            self._evaluate(stream_id, watched, now, time.time(), 0.0)

    async def _ticker(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.evaluate_all()
            except Exception:  # noqa: BLE001 - one bad record must not stop health for all
                log.exception("health evaluation failed")
            await asyncio.sleep(max(0.05, TICK_S - (loop.time() - started)))

    async def evaluate_all(self) -> None:
        """Judge every stream, in slices so that 1,555 streams never hold the loop for long."""
        now, wall = asyncio.get_running_loop().time(), time.time()
        elapsed = 0.0 if self._last_tick is None else now - self._last_tick
        self._last_tick = now
        items = list(self.watched.items())
        for start in range(0, len(items), TICK_SLICE):
            for stream_id, watched in items[start : start + TICK_SLICE]:
                if self.watched.get(stream_id) is watched:  # a reload may have replaced it meanwhile
                    self._evaluate(stream_id, watched, now, wall, elapsed)
            await asyncio.sleep(0)
        self.index.touch()

    def _evaluate(self, stream_id: str, watched: Watched, now: float, wall: float, elapsed: float) -> None:
        health, record = watched.health, watched.record
        if record.state in h.UP_STATES:
            watched.up_s += elapsed
        if record.state != h.CONNECTING:  # time before the first verdict is not downtime
            watched.seen_s += elapsed
        verdict = h.evaluate(health, now)
        opened = health.opened
        record.codec = opened.codec if opened else record.codec
        if health.size:
            record.width, record.height = health.size
        record.fps = h.measured_fps(health, now)
        record.bitrate_bps = h.measured_bitrate(health, now)
        record.keyframe_interval_s = h.keyframe_interval(health)
        record.frames_total, record.bytes_total = health.flow.frames_total, health.flow.bytes_total
        record.reconnects = health.reconnects
        record.nominal_fps = h.expected_fps(health)
        unchanged_since = h.picture_unchanged_since(health)
        record.picture_changed_at = None if unchanged_since is None else _wall(unchanged_since, now, wall)
        record.failing_checks = tuple(r for r in verdict.reasons if r in h.CHECKS)  # the verdict already ran them
        record.uptime_ratio = watched.up_s / watched.seen_s if watched.seen_s else 0.0
        record.dropped_observations = watched.supervisor.dropped
        retry_at = watched.supervisor.retry_at
        record.retry_at = None if retry_at is None else _wall(retry_at, now, wall)
        if (verdict.state, verdict.reasons) != (record.state, record.reasons):
            previous = record.state
            record.state, record.reasons, record.since = verdict.state, verdict.reasons, wall
            log.info("stream %s: %s -> %s %s", stream_id, previous, verdict.state, ",".join(verdict.reasons))
            self.index.publish("state", {"id": stream_id, "state": verdict.state, "reasons": list(verdict.reasons), "previous": previous, "at": round(wall, 3)})

    async def apply(self, config: Config) -> ReloadResult:
        """Hot reload: diff the streams of `config` against the running ones."""
        self.config = config
        new_ids = {s.id for s in config.streams}
        stopped = [sid for sid in self.watched if sid not in new_ids]
        started, restarted, unchanged = [], [], []
        for sid in stopped:
            await self.watched.pop(sid).supervisor.stop()
            self.index.records.pop(sid, None)
            self.index.publish("removed", {"id": sid})
        for stream in config.streams:
            watched = self.watched.get(stream.id)
            if watched is None:
                self._watch(stream)
                started.append(stream.id)
            elif watched.supervisor.settings != reader_settings(stream, config.sim, config.health):
                await watched.supervisor.stop()
                self._watch(stream)
                restarted.append(stream.id)
            else:
                watched.record.describe(stream)
                watched.health.settings, watched.health.nominal_fps = config.health, stream.fps
                unchanged.append(stream.id)
        self.index.touch()
        return ReloadResult(tuple(started), tuple(stopped), tuple(restarted), tuple(unchanged))
