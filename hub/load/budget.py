"""The live budget: how many cameras may be watched live, learnt from the hub's own load on this machine.

Pure, no I/O; the load meter folds in one sample a second. Cameras in mode `auto` are live while the
budget allows and patrolled beyond it (`hub.monitor.modes` chooses which), so a small site has every
camera live and a big one as many as the machine carries, with headroom.

- The budget starts at `START` (a small site is all live at once), and grows while the hub is calm and
  its live streams use most of it, by at most `GROWTH` a sample, toward what fits in `TARGET_CPU` of
  every core: the live streams now plus the headroom left, divided by what one more live stream costs.
- What one more live stream costs is measured, not configured: the slope of the hub's CPU share
  against the number of live streams, fitted over the recent samples (`MarginalCost`); the hub's other
  work (patrol visits, the API, metrics) is the intercept. Until the live count has varied enough to fit
  a slope, the whole CPU over the live streams is used, which errs on the small side.
- When the hub is late or busy (the governor raised its level after seconds of lateness, or the loop
  was severely late), or uses more than `OVER` times its target, the budget shrinks at once to
  `SHRINK` of what is live, and does not grow again for `SETTLE_S`: shedding is itself work, so the
  next cut waits `SHRINK_EVERY_S` too (cutting at every sample while the last cut's work showed took
  209 live streams down to 13 within ten seconds in the estate benchmark). One late second is not
  enough: a list built or a metrics render can make the loop a tenth of a second late now and then,
  and cutting 15 % of the live streams at each would wear the budget down to nothing. A hub late while
  nearly idle (under `BUSY_SHARE` of the machine) was held up by something else, and keeps its budget.
- It never exceeds the live ceiling the meter learnt from a severely late loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.load.governor import BUSY_SHARE, SEVERE_LAG_S, LoadSample

START = 48  # live cameras before anything is measured: the demo's 40, and a small site, at once
MIN = 8
GROWTH = 1.25  # at most this factor a sample (and at least MIN_STEP more)
MIN_STEP = 4
TARGET_CPU = 0.6  # of every core: the headroom is for the API, pictures looked at, patrol and bursts
SHRINK = 0.85
OVER = 1.15  # a hub this far over its target CPU gives back a share of its live streams
SETTLE_S = 20.0
SHRINK_EVERY_S = 5.0  # cut again only once the last cut's own work (readers stopping, visits) has shown
MEASURE_FROM = 8  # live streams before their cost is believed
MEMORY = 0.98  # each sample's weight in the cost fit decays by this a second (half-life about 35 s)
MIN_SPREAD = 4.0  # live counts must vary by about this much (standard deviation) to fit a slope
COST_RANGE = (1e-5, 0.05)  # a believable share of every core per live stream


@dataclass
class MarginalCost:
    """CPU share = base + slope x live streams, least squares over decaying samples."""

    weight: float = 0.0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    sxy: float = 0.0
    slope: float | None = None  # the last slope the samples could tell

    def add(self, live: int, cpu_share: float) -> None:
        m = MEMORY
        self.weight, self.sx, self.sy = m * self.weight + 1, m * self.sx + live, m * self.sy + cpu_share
        self.sxx, self.sxy = m * self.sxx + live * live, m * self.sxy + live * cpu_share
        mean_x, mean_y = self.sx / self.weight, self.sy / self.weight
        spread = self.sxx / self.weight - mean_x * mean_x
        if spread >= MIN_SPREAD * MIN_SPREAD:
            slope = (self.sxy / self.weight - mean_x * mean_y) / spread
            self.slope = min(COST_RANGE[1], max(COST_RANGE[0], slope))


@dataclass
class LiveBudget:
    value: int = START
    cost: float | None = None  # what one more live stream costs, as a share of every core
    shrunk_at: float | None = None
    fit: MarginalCost | None = None

    def observe(self, sample: LoadSample, live: int, overloaded: bool, ceiling: int | None, now: float) -> bool:
        """Fold in one sample taken at `now` with `live` live streams; True when the budget changed."""
        before = self.value
        if live >= MEASURE_FROM and sample.cpu_share > 0:
            self.fit = self.fit or MarginalCost()
            self.fit.add(live, sample.cpu_share)
            self.cost = self.fit.slope if self.fit.slope is not None else sample.cpu_share / live
        late = overloaded or sample.loop_lag_s > SEVERE_LAG_S
        if (late and sample.cpu_share >= BUSY_SHARE) or sample.cpu_share > TARGET_CPU * OVER:
            paced = self.shrunk_at is None or now - self.shrunk_at >= SHRINK_EVERY_S
            if paced and live and int(live * SHRINK) < self.value:
                self.value, self.shrunk_at = max(MIN, int(live * SHRINK)), now
        elif self._may_grow(sample, live, now):
            fits = live + int((TARGET_CPU - sample.cpu_share) / self.cost) if self.cost else self.value + MIN_STEP
            self.value = max(self.value, min(fits, max(int(self.value * GROWTH), self.value + MIN_STEP)))
        if ceiling is not None:
            self.value = min(self.value, ceiling)
        self.value = max(MIN, self.value)
        return self.value != before

    def _may_grow(self, sample: LoadSample, live: int, now: float) -> bool:
        settled = self.shrunk_at is None or now - self.shrunk_at >= SETTLE_S
        used = live >= self.value * 0.9  # a budget nobody uses has nothing to learn from
        return settled and used and sample.cpu_share < TARGET_CPU
