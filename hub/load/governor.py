"""The load governor's judgement: samples of the hub's own load in, a shedding level out. Pure, no I/O.

The hub is overloaded when its event loop answers late or its processes use nearly every core, for
`RAISE_AFTER` samples in a row; it steps up one shedding level at a time, and steps down one level
only after `LOWER_AFTER` calm samples, so it never flaps. Shedding follows a declared order:

| level | picture sampling interval | patrol concurrency | live streams |
|---|---|---|---|
| 0 | as configured | as configured | all |
| 1 | x2 | as configured | all |
| 2 | x4 | as configured | all |
| 3 | x4 | half | all |
| 4 | x4 | a quarter | all |
| 5 | x4 | a quarter | three quarters: a quarter of the sheddable live streams go on patrol |
| 6 | x4 | a quarter | half |
| 7 | x4 | a quarter | three eighths |
| 8 | x4 | a quarter | a quarter |

Live streams come last, and only those nobody needs live: a camera on a wall or opened by somebody,
and sensitive ones (childcare, or tagged `sensitive`), are never shed. A shed stream is watched on
patrol (visits and probes) until the load allows it back. A loop more than `SEVERE_LAG_S` late raises
the level at once: waiting for three samples would leave the API unanswered meanwhile.

Reader threads share one interpreter lock per process, and past some number of them the event loop
waits seconds for its turn, suddenly, not gradually. `LiveCeiling` remembers that number: when the loop
is severely late with N live streams, at most `CEILING_SHARE` of N stay live from then on (the monitor
sheds the rest, in the same order). Shedding is itself work (readers stop, the patrol takes the streams
over), so for `CEILING_SETTLE_S` after a lowering the ceiling does not come down again. Each level the
governor steps down lets the ceiling grow by `CEILING_GROWTH`, so a one-off stall does not cap the hub
for ever. Growing back, it stays under `RETRY_SHARE` of the count that starved for `MEMORY_S`, unless
other programs took much more of the machine then than they have since (a CPU hog that came and
went). A stall while the hub itself is nearly idle (under `BUSY_SHARE` of the machine: a
paused virtual machine, another program's burst) says nothing of what the streams cost, and lowers nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shed:
    picture_factor: float
    patrol_share: float
    live_share: float = 1.0  # of the sheddable live streams, the share kept live


SHED_LEVELS = (
    Shed(1.0, 1.0),
    Shed(2.0, 1.0),
    Shed(4.0, 1.0),
    Shed(4.0, 0.5),
    Shed(4.0, 0.25),
    Shed(4.0, 0.25, 0.75),
    Shed(4.0, 0.25, 0.5),
    Shed(4.0, 0.25, 0.375),
    Shed(4.0, 0.25, 0.25),
)
LAG_HIGH_S, LAG_LOW_S = 0.1, 0.05  # event-loop lateness: a tenth of a second late for three seconds is overloaded
SEVERE_LAG_S = 0.5  # half a second late: requests are queueing now, not in three seconds
CPU_HIGH, CPU_LOW = 0.90, 0.70  # share of every core, the hub's processes together
RAISE_AFTER, LOWER_AFTER = 3, 15
CEILING_SHARE, CEILING_GROWTH, CEILING_MIN, CEILING_SETTLE_S = 0.75, 1.1, 8, 10.0
# Readers falling behind their cameras (hub.load.readers_behind): above HIGH for RAISE_AFTER samples the live
# ceiling comes down as for a severely late loop; under LOW for LOWER_AFTER samples it grows a step. The live
# budget does not grow above LOW and is cut above HIGH (hub.load.budget).
READERS_BEHIND_HIGH, READERS_BEHIND_LOW = 0.05, 0.005
# Growing back, the ceiling stays under RETRY_SHARE of the live count it last starved with, for MEMORY_S: the
# overload benchmark's hub starved at 300, was cut to 225, and grew back to 273 within a minute, and starved again.
RETRY_SHARE, MEMORY_S = 0.85, 600.0
# ... unless other programs took at least FREED_SHARE of the machine more when it starved than they have taken
# since, for LOWER_AFTER samples in a row: a CPU hog that came and went says nothing of what the streams cost.
FREED_SHARE = 0.2
BUSY_SHARE = 0.1  # a stall while the hub used less of the machine than this was not its streams' doing


@dataclass(frozen=True)
class LoadSample:
    loop_lag_s: float  # the worst lateness of the loop's timer since the last sample
    cpu_share: float  # CPU time of the hub's processes / (wall time x cores)
    pressure: float = 0.0  # the machine's: share of the last 10 s some task waited for a CPU (Linux PSI)
    readers_behind: float = 0.0  # share of the packet batches that reached the loop late (hub.load.readers_behind)
    others_share: float = 0.0  # CPU time every other program on the machine took / (wall time x cores)


@dataclass
class Governor:
    level: int = 0
    _high: int = 0
    _calm: int = 0

    @property
    def shed(self) -> Shed:
        return SHED_LEVELS[self.level]

    @property
    def overloaded(self) -> bool:
        return self.level > 0

    def judge(self, sample: LoadSample) -> bool:
        """Fold in one sample; True when the level changed."""
        high = sample.loop_lag_s > LAG_HIGH_S or sample.cpu_share > CPU_HIGH
        calm = sample.loop_lag_s < LAG_LOW_S and sample.cpu_share < CPU_LOW
        self._high = self._high + 1 if high else 0
        self._calm = self._calm + 1 if calm else 0
        severe = sample.loop_lag_s > SEVERE_LAG_S
        if (self._high >= RAISE_AFTER or severe) and self.level < len(SHED_LEVELS) - 1:
            self.level, self._high = self.level + 1, 0
            return True
        if self._calm >= LOWER_AFTER and self.level > 0:
            self.level, self._calm = self.level - 1, 0
            return True
        return False


@dataclass
class LiveCeiling:
    """The most live streams this hub has shown it can carry (None until it has been severely late)."""

    value: int | None = None
    lowered_at: float | None = None
    starved_with: int | None = None  # live streams when it was last cut
    crowded_by: float = 0.0  # the share of the machine other programs took when it was last cut
    _behind: int = 0  # samples in a row with readers falling behind
    _freed: int = 0  # samples in a row since the cut with other programs taking FREED_SHARE less
    _kept_up: int = 0  # samples in a row with the readers and the loop on time

    def observe(self, sample: LoadSample, live: int, now: float) -> bool:
        """Fold in one sample taken at `now` with `live` live streams; True when the ceiling came down."""
        self._behind = self._behind + 1 if sample.readers_behind > READERS_BEHIND_HIGH else 0
        on_time = sample.readers_behind < READERS_BEHIND_LOW and sample.loop_lag_s < LAG_LOW_S
        self._kept_up = self._kept_up + 1 if on_time else 0
        self._forget_a_crowd_gone(sample)
        if self._kept_up >= LOWER_AFTER:
            self._kept_up = 0
            self.relax(now)
        starved = sample.loop_lag_s > SEVERE_LAG_S or self._behind >= RAISE_AFTER
        if not starved or live < CEILING_MIN or sample.cpu_share < BUSY_SHARE:
            return False  # on time, too few streams to be the cause, or the hub idle: something else held it up
        if self.lowered_at is not None and now - self.lowered_at < CEILING_SETTLE_S:
            return False  # the last lowering's own shedding is still settling
        lowered = max(CEILING_MIN, int(live * CEILING_SHARE))
        if self.value is not None and lowered >= self.value:
            return False
        self.value, self.lowered_at, self.starved_with = lowered, now, live
        self.crowded_by, self._freed = sample.others_share, 0
        return True

    def _forget_a_crowd_gone(self, sample: LoadSample) -> None:
        """The starvation remembered came while other programs took more of the machine than they have
        for a while since: it was theirs as much as the streams', and the ceiling may grow back freely."""
        if self.starved_with is None:
            return
        freed = sample.others_share <= self.crowded_by - FREED_SHARE
        self._freed = self._freed + 1 if freed else 0
        if self._freed >= LOWER_AFTER:
            self.starved_with, self.crowded_by, self._freed = None, 0.0, 0

    def relax(self, now: float) -> None:
        """The governor stepped down a level, or the readers kept up for a while: allow a few more live streams
        (for `MEMORY_S` after a cut, not as many as starved the hub then)."""
        if self.value is None:
            return
        grown = int(self.value * CEILING_GROWTH) + 1
        if self.starved_with is not None and self.lowered_at is not None and now - self.lowered_at < MEMORY_S:
            grown = min(grown, max(self.value, int(self.starved_with * RETRY_SHARE)))
        self.value = grown
