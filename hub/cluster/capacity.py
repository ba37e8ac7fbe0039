"""What a node offers the cluster: the lowest capacity it measured of itself over the last minutes.

Pure (a clock is passed in). A cluster node calls it at every heartbeat (`hub.cluster.node`) with what it
measures now: its live budget plus what its patrol can visit once a period. Those measures wobble with
the machine's load (the live budget ramps up and sheds in a sawtooth of a minute or two, visits slow
while the machine is busy), and an assignment capped by a wobbling capacity moves cameras back and
forth for nothing, most of all when the estate just fits the nodes together. Offering the lowest value of
a window makes the offer steady: a real fall counts at once (the node gives cameras away before it
drowns), a rise only once it has held for the whole window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 300.0


class CapacityFloor:
    """`__call__(measured)` -> the lowest capacity measured in the last `window_s` seconds, this one included."""

    def __init__(self, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic):
        self.window_s, self._clock = window_s, clock
        self._rising: deque[tuple[float, int]] = deque()  # (when, measured), values rising: the front is the floor

    def __call__(self, measured: int) -> int:
        now = self._clock()
        while self._rising and self._rising[-1][1] >= measured:
            self._rising.pop()  # never the floor again while `measured` is in the window
        self._rising.append((now, measured))
        while self._rising[0][0] < now - self.window_s:
            self._rising.popleft()
        return self._rising[0][1]
