"""The live budget: how many cameras may be watched live, learnt from the hub's own load on this machine.

Pure, no I/O; the load meter folds in one sample a second. Cameras in mode `auto` are live while the
budget allows and patrolled beyond it (`hub.monitor.modes` chooses which), so a small site has every
camera live and a big one as many as the machine carries, with headroom.

- The budget starts at `START` (a small site is all live at once), and grows while the hub is calm and
  its live streams use most of it, by at most `GROWTH` a sample, toward what the measured cost of a
  live stream says fits in `TARGET_CPU` of every core.
- The cost of a live stream is measured, not configured: the CPU share of the hub's processes over the
  live streams, smoothed, once enough are live to tell.
- When the hub is late or busy (the governor raised its level), the budget shrinks at once to `SHRINK`
  of what is live, and does not grow again for `SETTLE_S`: shedding is itself work. A hub late while
  nearly idle (under `BUSY_SHARE` of the machine) was held up by something else, and keeps its budget.
- It never exceeds the live ceiling the meter learnt from a severely late loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.load.governor import BUSY_SHARE, LAG_HIGH_S, LoadSample

START = 48  # live cameras before anything is measured: the demo's 40, and a small site, at once
MIN = 8
GROWTH = 1.25  # at most this factor a sample (and at least MIN_STEP more)
MIN_STEP = 4
TARGET_CPU = 0.6  # of every core: the headroom is for the API, pictures looked at, patrol and bursts
SHRINK = 0.85
OVER = 1.15  # a hub this far over its target CPU gives back what the measured cost says does not fit
SETTLE_S = 20.0
MEASURE_FROM = 8  # live streams before their cost is believed
SMOOTHING = 0.2


@dataclass
class LiveBudget:
    value: int = START
    cost: float | None = None  # CPU share of every core per live stream, smoothed
    shrunk_at: float | None = None

    def observe(self, sample: LoadSample, live: int, overloaded: bool, ceiling: int | None, now: float) -> bool:
        """Fold in one sample taken at `now` with `live` live streams; True when the budget changed."""
        before = self.value
        if live >= MEASURE_FROM and sample.cpu_share > 0:
            cost = sample.cpu_share / live
            self.cost = cost if self.cost is None else (1 - SMOOTHING) * self.cost + SMOOTHING * cost
        if (overloaded or sample.loop_lag_s > LAG_HIGH_S) and sample.cpu_share >= BUSY_SHARE:
            if live and int(live * SHRINK) < self.value:
                self.value, self.shrunk_at = max(MIN, int(live * SHRINK)), now
        elif self.cost and sample.cpu_share > TARGET_CPU * OVER and live > int(TARGET_CPU / self.cost):
            self.value, self.shrunk_at = max(MIN, int(TARGET_CPU / self.cost), int(live * SHRINK)), now  # busier than planned
        elif self._may_grow(sample, live, now):
            fits = int(TARGET_CPU / self.cost) if self.cost else self.value + MIN_STEP
            self.value = max(self.value, min(fits, max(int(self.value * GROWTH), self.value + MIN_STEP)))
        if ceiling is not None:
            self.value = min(self.value, ceiling)
        self.value = max(MIN, self.value)
        return self.value != before

    def _may_grow(self, sample: LoadSample, live: int, now: float) -> bool:
        settled = self.shrunk_at is None or now - self.shrunk_at >= SETTLE_S
        used = live >= self.value * 0.9  # a budget nobody uses has nothing to learn from
        return settled and used and sample.cpu_share < TARGET_CPU
