"""How much picture sampling the hub can afford right now: one shared factor on `picture_interval_s`.

Who runs where: the load governor (event loop) writes `factor`; every reader thread reads it at each
keyframe. A plain float attribute: writes and reads are atomic, and a reader that sees the old value
for one keyframe does no harm.
"""

from __future__ import annotations


class Throttle:
    def __init__(self) -> None:
        self.factor = 1.0  # 2.0 = sample pictures half as often
