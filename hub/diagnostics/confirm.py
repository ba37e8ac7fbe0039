"""When a picture check trips and when it clears: a vote over the last samples, with hysteresis.

Pure and clock-free; the hub will keep one `Vote` per stream and check, on the event loop. Each sample
is a *score*: the measure over its threshold, arranged so that 1.0 is exactly at the trigger and more is
worse (for a falling measure such as sharpness, threshold over measure). A check trips when `need` of
the last `window` scores reach 1.0 (8 of 10 by default), and clears only when `need` of the last `window`
are below `clear_below` (0.7: 70 % of the trigger), so a picture hovering at the threshold (dusk, rain,
a quiet scene) cannot make the check flap.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Vote:
    window: int = 10
    need: int = 8
    clear_below: float = 0.7
    failing: bool = False
    scores: deque = field(default_factory=deque)

    def add(self, score: float) -> bool:
        """Take one sample's score; returns whether the check is failing now."""
        self.scores.append(score)
        while len(self.scores) > self.window:
            self.scores.popleft()
        if not self.failing and sum(s >= 1.0 for s in self.scores) >= self.need:
            self.failing = True
        elif self.failing and sum(s < self.clear_below for s in self.scores) >= self.need:
            self.failing = False
        return self.failing

    def suspend(self) -> None:
        """Forget the samples (no signal, a black picture, a muted check): a vote starts over afterwards."""
        self.scores.clear()
        self.failing = False


def rising(measure: float, threshold: float) -> float:
    """The score of a measure that is bad when high (noise, blockiness): 1.0 at the threshold."""
    return measure / threshold if threshold > 0 else 0.0


def falling(measure: float, threshold: float) -> float:
    """The score of a measure that is bad when low (sharpness, contrast): 1.0 at the threshold."""
    return threshold / measure if measure > 0 else float("inf")


def excess(measure: float, normal: float, threshold: float) -> float:
    """The score of a measure that sits near a floor when all is well (blockiness about 1, a histogram's
    peak share high in a plain scene): how far it rose from `normal` towards `threshold`, so that a clean
    picture scores about 0 and can fall below 70 % of the trigger."""
    return max(0.0, measure - normal) / (threshold - normal) if threshold > normal else 0.0


def shortfall(measure: float, normal: float, threshold: float) -> float:
    """The score of a measure that is bad when low, judged by how far it fell from `normal` towards
    `threshold` (sharpness against the camera's own): a clean picture scores about 0 however close the
    trigger sits to normal, so that a tripped check can clear below 70 % of it."""
    return max(0.0, normal - measure) / (normal - threshold) if normal > threshold else 0.0
