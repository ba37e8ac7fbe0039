"""The load meter: samples the hub's own load every second and applies the governor's shedding.

Runs on the event loop as one task. Loop lateness is measured with a short timer (how late it fires);
CPU and resident memory are read from /proc for the hub process and its ingest workers, and the
machine's busy time from /proc/stat (what every other program took: a burst of theirs is not the hub's).
On every level change the meter calls `apply(shed)` (the monitor turns it into a picture-sampling
factor and a patrol concurrency) and logs it. The same samples teach the live budget
(`hub.load.budget`): how many auto cameras may be live. After every sample it calls
`report(status, changed)`: the monitor shows the status in /healthz, the page's banner and /metrics,
and publishes a `hub` event when the level changed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from hub.load.budget import LiveBudget
from hub.load.governor import LAG_HIGH_S, READERS_BEHIND_LOW, SHED_LEVELS, Governor, LiveCeiling, LoadSample, Shed
from hub.load.readers_behind import BUSY_CORES, BUSY_PRESSURE

log = logging.getLogger("hub.load")

SAMPLE_S = 1.0
RECENT = 3  # samples: new live streams start only after this many on time in a row
TIMER_S = 0.05
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process, from /proc (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def process_rss_bytes(pid: int) -> int:
    """Resident memory of one process, from /proc (0 if it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


PRESSURE_FILE = Path("/proc/pressure/cpu")
STAT_FILE = Path("/proc/stat")


def machine_cpu_seconds(path: Path = STAT_FILE) -> float:
    """CPU time every core of this machine spent busy (not idle, not waiting for I/O) since boot, from
    /proc/stat (0 where it cannot be read)."""
    try:
        first = path.read_text().split("\n", 1)[0].split()  # "cpu user nice system idle iowait irq softirq steal ..."
        ticks = [int(value) for value in first[1:9]]
    except (OSError, IndexError, ValueError):
        return 0.0
    return (sum(ticks) - ticks[3] - ticks[4]) / TICKS_PER_SECOND


def cpu_pressure(path: Path = PRESSURE_FILE) -> float:
    """The share of the last 10 s some task on this machine waited for a CPU (0 where Linux has no PSI)."""
    try:
        first = path.read_text().split("\n", 1)[0]  # "some avg10=12.34 avg60=... avg300=... total=..."
        return float(first.split()[1].split("=")[1]) / 100
    except (OSError, IndexError, ValueError):
        return 0.0


class LoadMeter:
    def __init__(
        self,
        pids: Callable[[], list[int]],
        apply: Callable[[Shed], None],
        report: Callable[[dict, bool], None],
        live: Callable[[], int] = lambda: 0,
        behind: Callable[[bool], float] = lambda busy: 0.0,
    ):
        self._pids = pids
        self._apply = apply
        self._report = report
        self._live = live  # how many streams are live now (for the live ceiling)
        self._behind = behind  # the share of packet batches late since the last call, given busy (hub.load.readers_behind)
        self.governor = Governor()
        self.ceiling = LiveCeiling()
        self.budget = LiveBudget()  # how many auto cameras may be live (hub.load.budget)
        self.sample = LoadSample(0.0, 0.0)
        self.rss_bytes = 0  # resident memory of the hub and its ingest workers, at the last sample
        self._recent: deque[LoadSample] = deque(maxlen=RECENT)  # the last RECENT samples
        self.cores = os.cpu_count() or 1

    @property
    def recent_lag_s(self) -> float:
        """The worst loop lateness of the last RECENT samples."""
        return max((s.loop_lag_s for s in self._recent), default=0.0)

    @property
    def on_time(self) -> bool:
        """The loop and the readers kept up in each of the last RECENT samples: room to start live streams."""
        return self.recent_lag_s < LAG_HIGH_S and all(s.readers_behind < READERS_BEHIND_LOW for s in self._recent)

    def status(self) -> dict:
        shed = self.governor.shed
        return {
            "overloaded": self.governor.overloaded,
            "level": self.governor.level,
            "max_level": len(SHED_LEVELS) - 1,
            "loop_lag_ms": round(self.sample.loop_lag_s * 1000, 1),
            "cpu_share": round(self.sample.cpu_share, 3),
            "cpu_pressure": round(self.sample.pressure, 3),
            "others_cpu_share": round(self.sample.others_share, 3),
            "readers_behind": round(self.sample.readers_behind, 3),
            "rss_bytes": self.rss_bytes,
            "picture_interval_factor": shed.picture_factor,
            "patrol_concurrency_share": shed.patrol_share,
            "live_share": shed.live_share,
            "live_ceiling": self.ceiling.value,
            "live_budget": self.budget.value,
            "live_streams": self._live(),
        }

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        cpu_before, machine_before, wall_before = self._cpu(), machine_cpu_seconds(), time.monotonic()
        while True:
            worst = 0.0
            until = loop.time() + SAMPLE_S
            while loop.time() < until:
                expected = loop.time() + TIMER_S
                await asyncio.sleep(TIMER_S)
                worst = max(worst, loop.time() - expected)
            cpu_now, machine_now, wall_now = self._cpu(), machine_cpu_seconds(), time.monotonic()
            capacity = max(1e-6, (wall_now - wall_before) * self.cores)
            share = (cpu_now - cpu_before) / capacity
            others = max(0.0, (machine_now - machine_before) / capacity - share)  # every other program's
            cpu_before, machine_before, wall_before = cpu_now, machine_now, wall_now
            pids = self._pids()
            pressure = cpu_pressure()
            # readers may starve: on their processes' interpreter locks, or for a CPU on a crowded machine
            busy = share * self.cores / max(1, len(pids)) >= BUSY_CORES or pressure >= BUSY_PRESSURE
            self.sample = LoadSample(worst, max(0.0, share), pressure, self._behind(busy), min(1.0, others))
            self.rss_bytes = sum(process_rss_bytes(pid) for pid in pids)
            self._recent.append(self.sample)
            level = self.governor.level
            changed = self.governor.judge(self.sample)
            if changed and self.governor.level < level:
                self.ceiling.relax(loop.time())
            live = self._live()
            if self.ceiling.observe(self.sample, live, loop.time()):
                changed = True
                log.warning(
                    "the event loop was %.0f ms late with %d live streams: at most %d stay live for now",
                    1000 * self.sample.loop_lag_s,
                    live,
                    self.ceiling.value,
                )
            budget = self.budget.value
            self.budget.observe(self.sample, live, self.governor.overloaded, self.ceiling.value, loop.time())
            if self.budget.value != budget:
                log.info("live budget %d -> %d (%d live, %.0f %% of %d cores)", budget, self.budget.value, live,
                         100 * self.sample.cpu_share, self.cores)  # fmt: skip
            if changed:
                self._changed()
            self._report(self.status(), changed)

    def _cpu(self) -> float:
        return sum(process_cpu_seconds(pid) for pid in self._pids())

    def _changed(self) -> None:
        status = self.status()
        self._apply(self.governor.shed)
        if status["overloaded"]:
            log.warning(
                "the hub is overloaded (loop %.0f ms late, %.0f %% of %d cores): shedding level %d of %d",
                status["loop_lag_ms"],
                100 * status["cpu_share"],
                self.cores,
                status["level"],
                status["max_level"],
            )
        else:
            log.info("the hub's load is back to normal: nothing shed")
