"""From one picture's measures to a score per check, against thresholds and the camera's own baseline.

Pure and clock-free (the caller says whether it is day); the hub will call it on the event loop for
each sampled thumbnail, keep one `Baseline` per camera, and feed each score to that check's vote
(`hub.diagnostics.confirm`). A score of 1.0 is exactly at the trigger. Checks that depend on what is
normal for this camera (contrast, sharpness, colour, noise, stripes) are judged against its baseline,
learned from its own clean pictures, separately for day and night; until a baseline has
`MIN_SAMPLES`, those checks score 0 (they stay quiet rather than guess).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from hub.diagnostics import measures
from hub.diagnostics.confirm import falling, rising

MIN_SAMPLES = 20
LEARN_RATE = 0.05  # each clean picture moves the baseline 5 % of the way: about the last 20 pictures count
RELATIVE = ("contrast", "sharpness", "cast", "chroma", "noise", "stripes")


@dataclass(frozen=True)
class Thresholds:
    """The triggers; `[health]` will set them, with per-stream overrides."""

    dark_luma: float = 25.0
    overexposed_share: float = 0.4
    low_contrast_ratio: float = 0.4  # of the baseline's luma std
    blurred_ratio: float = 0.5  # of the baseline's sharpness
    covered_cells: int = 10  # of 16
    cast_factor: float = 1.5  # and at least twice the baseline's
    ir_chroma: float = 1.0  # below this in daylight: grey
    noisy_ratio: float = 3.0
    striped_ratio: float = 3.0
    mosaic_blockiness: float = 2.0


@dataclass(frozen=True)
class Sample:
    """The measures of one picture: a 160x90 BGR thumbnail, and for noise, stripes and mosaic the
    full-frame luma when there is one (a thumbnail averages noise away: 4x4 pixels make one)."""

    luma: float
    bright: float
    contrast: float
    sharpness: float
    flat: int
    cast: float
    chroma: float
    noise: float
    stripes: float
    blocks: float

    @classmethod
    def of(cls, bgr: np.ndarray, full_gray: np.ndarray | None = None) -> Sample:
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        fine = gray if full_gray is None else full_gray
        return cls(measures.mean_luma(gray), measures.bright_share(gray), measures.luma_std(gray), measures.sharpness(gray),
                   measures.flat_cells(gray), measures.color_cast(bgr), measures.chroma(bgr), measures.noise_sigma(fine),
                   measures.stripe_strength(fine), measures.blockiness(fine))


@dataclass
class Baseline:
    """What is normal for one camera, kept apart for day and night."""

    values: dict[bool, dict[str, float]] = field(default_factory=lambda: {True: {}, False: {}})
    counts: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})

    def learn(self, sample: Sample, day: bool) -> None:
        """Take a picture no check failed on into the baseline of its part of the day."""
        values = self.values[day]
        for name in RELATIVE:
            value = getattr(sample, name)
            values[name] = value if name not in values else values[name] + LEARN_RATE * (value - values[name])
        self.counts[day] += 1

    def ready(self, day: bool) -> bool:
        return self.counts[day] >= MIN_SAMPLES


def scores(sample: Sample, baseline: Baseline, day: bool, limits: Thresholds = Thresholds()) -> dict[str, float]:
    """A score per check for this picture (1.0 = at the trigger)."""
    out = {
        "exposure": max(falling(sample.luma, limits.dark_luma), rising(sample.bright, limits.overexposed_share)),
        "covered": rising(sample.flat, limits.covered_cells),
        "mosaic": rising(sample.blocks, limits.mosaic_blockiness),
    }
    normal = baseline.values[day] if baseline.ready(day) else None
    if normal is None:
        return out | {name: 0.0 for name in ("low_contrast", "blurred", "color_cast", "noisy", "striped", "ir_cut")}
    out["low_contrast"] = falling(sample.contrast, limits.low_contrast_ratio * normal["contrast"])
    out["blurred"] = falling(sample.sharpness, limits.blurred_ratio * normal["sharpness"])
    out["color_cast"] = rising(sample.cast, max(limits.cast_factor, 2.0 * normal["cast"]))
    out["noisy"] = rising(sample.noise, limits.noisy_ratio * max(normal["noise"], 1.0))
    out["striped"] = rising(sample.stripes, limits.striped_ratio * normal["stripes"])
    # Grey by day is the IR-cut filter stuck in night mode; only where the camera normally shows colour.
    colourful = normal["chroma"] > 3 * limits.ir_chroma
    out["ir_cut"] = falling(sample.chroma, limits.ir_chroma) if day and colourful else 0.0
    return out
