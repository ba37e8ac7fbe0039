"""The live budget: how many cameras may be watched live, learnt from the hub's own load on this machine.

Pure, no I/O; the load meter folds in one sample a second. Cameras in mode `auto` are live while the
budget allows and patrolled beyond it (`hub.monitor.modes` chooses which), so a small site has every
camera live and a big one as many as the machine carries, with headroom.

- The budget starts at `START` (a small site is all live at once), and grows while the hub is calm and
  its live streams use most of it, by at most `GROWTH` and at most every `GROW_EVERY_S` (so the CPU of
  the streams just started shows before the next step), toward what the measured cost of a live stream
  says fits in `TARGET_CPU` of every core.
- The cost of a live stream is measured, not configured: the CPU share of the hub's processes over the
  live streams, smoothed, once enough are live to tell. It charges the hub's other work (patrol, API)
  to the live streams too, so it errs on the small side; the budget settles where the whole hub uses
  its target. (A fitted slope of CPU against live streams was tried: while readers start, the CPU lags
  the count, the slope came out ten times too small and the budget overshot to 800 live streams.)
- When the hub is late or busy (the governor raised its level after seconds of lateness, or the loop
  was severely late), or uses more than `OVER` times its target, the budget shrinks at once to
  `SHRINK` of what is live, and does not grow again for `SETTLE_S`: shedding is itself work, so the
  next cut waits `SHRINK_EVERY_S` too (cutting at every sample while the last cut's work showed took
  209 live streams down to 13 within ten seconds in the estate benchmark). One late second is not
  enough: a list built or a metrics render can make the loop a tenth of a second late now and then,
  and cutting 15 % of the live streams at each would wear the budget down to nothing. A hub late while
  nearly idle (under `BUSY_SHARE` of the machine) was held up by something else, and keeps its budget.
- The readers count too, not only the loop and the CPU: while any of their packet batches reach the loop
  late (more than `READERS_BEHIND_LOW` of them, `hub.load.readers_behind`) the budget does not grow, and
  above `READERS_BEHIND_HIGH` it is cut as when late. Another program (or the cameras' simulator on the
  same machine) can starve the reader threads, which run below everything else, and so can their own
  number, taking turns on one interpreter lock, until cameras look stalled. The machine's CPU pressure
  (Linux PSI) was the signal before: it counts every program's waiting, so on the benchmark machine,
  where the cameras' simulator keeps it at 20-30 %, the budget never grew past 60 of 1,555 cameras
  while the readers kept up.
- It never exceeds the live ceiling the meter learnt from a severely late loop or from readers behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.load.governor import BUSY_SHARE, READERS_BEHIND_HIGH, READERS_BEHIND_LOW, SEVERE_LAG_S, LoadSample

START = 48  # live cameras before anything is measured: the demo's 40, and a small site, at once
MIN = 8
GROWTH = 1.25  # at most this factor a sample (and at least MIN_STEP more)
MIN_STEP = 4
TARGET_CPU = 0.6  # of every core: the headroom is for the API, pictures looked at, patrol and bursts
SHRINK = 0.85
OVER = 1.15  # a hub this far over its target CPU gives back what the measured cost says does not fit
SETTLE_S = 20.0
SHRINK_EVERY_S = 5.0  # cut again only once the last cut's own work (readers stopping, visits) has shown
MEASURE_FROM = 8  # live streams before their cost is believed
SMOOTHING = 0.2
GROW_EVERY_S = 5.0


@dataclass
class LiveBudget:
    value: int = START
    cost: float | None = None  # CPU share of every core per live stream, smoothed
    shrunk_at: float | None = None
    grown_at: float | None = None

    def observe(self, sample: LoadSample, live: int, overloaded: bool, ceiling: int | None, now: float) -> bool:
        """Fold in one sample taken at `now` with `live` live streams; True when the budget changed."""
        before = self.value
        if live >= MEASURE_FROM and sample.cpu_share > 0:
            cost = sample.cpu_share / live
            self.cost = cost if self.cost is None else (1 - SMOOTHING) * self.cost + SMOOTHING * cost
        late = overloaded or sample.loop_lag_s > SEVERE_LAG_S or sample.readers_behind > READERS_BEHIND_HIGH
        paced = self.shrunk_at is None or now - self.shrunk_at >= SHRINK_EVERY_S
        if late and sample.cpu_share >= BUSY_SHARE:
            if paced and live and int(live * SHRINK) < self.value:
                self.value, self.shrunk_at = max(MIN, int(live * SHRINK)), now
        elif self.cost and sample.cpu_share > TARGET_CPU * OVER and live > int(TARGET_CPU / self.cost):
            if paced:  # busier than planned: give back what the measured cost says does not fit
                self.value, self.shrunk_at = max(MIN, int(TARGET_CPU / self.cost), int(live * SHRINK)), now
        elif self._may_grow(sample, live, now):
            fits = int(TARGET_CPU / self.cost) if self.cost else self.value + MIN_STEP
            grown = max(self.value, min(fits, max(int(self.value * GROWTH), self.value + MIN_STEP)))
            if grown > self.value:
                self.value, self.grown_at = grown, now
        if ceiling is not None:
            self.value = min(self.value, ceiling)
        self.value = max(MIN, self.value)
        return self.value != before

    def _may_grow(self, sample: LoadSample, live: int, now: float) -> bool:
        settled = self.shrunk_at is None or now - self.shrunk_at >= SETTLE_S
        paced = self.grown_at is None or now - self.grown_at >= GROW_EVERY_S
        used = live >= self.value * 0.9  # a budget nobody uses has nothing to learn from
        roomy = sample.cpu_share < TARGET_CPU and sample.readers_behind < READERS_BEHIND_LOW  # the readers keep up
        return settled and paced and used and roomy
