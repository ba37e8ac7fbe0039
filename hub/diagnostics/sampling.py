"""Picture diagnostics' measures of a sampled keyframe: which pictures are measured, and the measuring.

Who runs where: a `Sampler` belongs to one reader and runs in its thread (`ingest-<id>-<gen>` or
`visit-<id>`, in the hub process or an ingest worker process): it decides which pictures are measured
(`due`). `measure` is pure and runs in the process's `Measurer` thread (or, for a visit, in the reader);
never on the event loop. What leaves is a `PictureSample` of a few numbers (plus, about once a minute,
ORB features). A sampled keyframe at most every `every_s` (`check_sample_s`; by default every other
picture the reader decodes) gives the thumbnail measures (160x90 luma and its chroma) and the full
frame's noise, sharpness and blockiness; every `full_every_s` the full frame's luma adds stripes; every
`features_every_s` (and on the first picture) ORB features of the full frame, for the moved check.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hub.diagnostics import measures
from hub.diagnostics.checks import THUMB_SIZE, Sample
from hub.diagnostics.moved import Features
from hub.diagnostics.settings import SamplingSettings


@dataclass(frozen=True)
class PictureSample:
    """What diagnostics learn from one sampled picture."""

    sample: Sample
    features: Features | None = None


@dataclass(frozen=True)
class Due:
    """Which measures one sampled picture gets: always the thumbnail ones, sometimes the costly full-frame ones."""

    full: bool  # noise and stripes
    features: bool  # ORB features


class Sampler:
    """Decides which pictures of one reader are measured, and how much (its reader's thread only)."""

    def __init__(self, settings: SamplingSettings):
        self.settings = settings
        self._taken_at = -1e18  # monotonic: the last measured picture
        self._full_at = -1e18  # the last full-frame sample
        self._features_at = -1e18

    def due(self, now: float) -> Due | None:
        """Whether the picture decoded at `now` is measured (None: not), and with which costly measures."""
        settings = self.settings
        if not settings.enabled or now - self._taken_at < 0.95 * settings.every_s:
            return None
        self._taken_at = now
        full = now - self._full_at >= 0.95 * settings.full_every_s
        if full:
            self._full_at = now
        features = now - self._features_at >= 0.95 * settings.features_every_s
        if features:
            self._features_at = now
        return Due(full, features)

    def take(
        self, small: np.ndarray, cb: np.ndarray, cr: np.ndarray, luma: np.ndarray, now: float, full_range: bool = False
    ) -> PictureSample | None:
        """`due` and `measure` in one go, in the caller's thread."""
        due = self.due(now)
        return None if due is None else measure(due, small, cb, cr, luma, full_range)


def measure(
    due: Due, small: np.ndarray, cb: np.ndarray, cr: np.ndarray, luma: np.ndarray, full_range: bool = False
) -> PictureSample:
    """Measure one picture: `small` its luma at 160x90 (the reader makes it anyway), `cb` and `cr` its
    chroma planes (any size), `luma` the full frame. Video is mostly "TV range" (luma 16-235, chroma
    16-240); the thumbnails are brought to full range, so that thresholds such as "dark below 25" mean
    the same for every camera. Pure: runs in whichever thread measures (a reader or the `Measurer`)."""
    chroma_size = (THUMB_SIZE[0] // 2, THUMB_SIZE[1] // 2)
    cb, cr = measures.shrink(cb, chroma_size), measures.shrink(cr, chroma_size)
    gray = small
    if not full_range:
        gray = cv2.convertScaleAbs(small, alpha=255 / 219, beta=-16 * 255 / 219)
        cb, cr = (cv2.convertScaleAbs(p, alpha=255 / 224, beta=128 - 128 * 255 / 224) for p in (cb, cr))
    features = Features.of(luma) if due.features else None
    return PictureSample(Sample.of(gray, cb, cr, luma, due.full), features)
