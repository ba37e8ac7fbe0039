"""Camera moved or scene changed: the camera's background against its reference view.

Pure. `Features.of` (ORB on the full frame) runs in the process's measurer thread (a visit's: in its
reader), about once a minute; the rest runs on the event loop, every 10 s (`MOVED_EVERY_S`). A
`Background` is the per-pixel median of the last few 64x36 thumbnails, so that cars, people and rain,
which are somewhere else in each picture, drop out and what stays is what the camera looks at. The
cheap path comes first: a background whose difference hash is close to the reference's is the same view.
Otherwise phase correlation of their gradients says how far the scene shifted, or (a weak response)
that it is another scene. A tripped vote is then checked against ORB features of a full frame taken
after the suspicion began: many features in place clear it (a busy moment, not a move), many moved
together confirm it, and too few to tell leave the decision to the vote.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from hub.diagnostics import measures
from hub.diagnostics.settings import DEFAULT_LIMITS, Thresholds

ORB_FEATURES = 400
# Pyramid levels (scale 1.2 each): a camera that moved pans or tilts at the same scale, so the finest four
# find what eight would, at half the cost (the largest part of the measurer's time at eight).
ORB_LEVELS = 4
BACKGROUND_SAMPLES = 5  # thumbnails whose median is the background
MIN_MATCHES = 12  # features agreeing on one displacement before ORB says anything
NO_MATCH_RESPONSE = 0.3  # phase correlation weaker than this: no common picture (another scene)
SAME_BITS = 4  # of the 64 of the difference hash: the same view, no correlation needed


@dataclass(frozen=True)
class Features:
    """ORB keypoints of one full frame: where they are and what they look like."""

    points: np.ndarray  # N x 2 float32, pixels
    descriptors: np.ndarray  # N x 32 uint8
    width: int

    @classmethod
    def of(cls, gray: np.ndarray) -> Features:
        height = gray.shape[0]
        band = round(height * measures.TEXT_BAND)
        mask = np.zeros(gray.shape[:2], np.uint8)
        mask[band : height - band] = 255  # not the text overlay's bands: it stays in place when the camera turns
        keypoints, descriptors = cv2.ORB.create(ORB_FEATURES, nlevels=ORB_LEVELS).detectAndCompute(gray, mask)
        points = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2)
        return cls(points, descriptors if descriptors is not None else np.zeros((0, 32), np.uint8), gray.shape[1])


@dataclass(frozen=True)
class View:
    """A background as the moved check compares it."""

    thumb: np.ndarray  # median of the last thumbnails, 64x36 luma
    dhash: int
    features: Features | None = None

    @classmethod
    def of(cls, thumbs: list[np.ndarray], features: Features | None) -> View:
        """The median of the thumbnails, less the top and bottom bands where cameras burn in their text
        (a clock and a name stay put when the camera turns, and would pin the comparison to "no shift")."""
        scene = np.ascontiguousarray(measures.median_picture([measures.without_text_bands(t) for t in thumbs]))
        return cls(scene, measures.dhash(scene), features)

    @functools.cached_property
    def edges(self) -> np.ndarray:
        """What phase correlation aligns: worked out once (a reference is compared every 10 s for months)."""
        return _edges(self.thumb)


def moved_score(reference: View, current: View, limits: Thresholds = DEFAULT_LIMITS) -> tuple[float, bool]:
    """(score, another scene): 1.0 at the trigger, the scene shifted by `moved_shift` of the width; or no
    common picture at all (True), which only features can confirm (a blurred or fogged picture has no
    edges to align either)."""
    if measures.hamming(reference.dhash, current.dhash) < SAME_BITS:
        return 0.0, False
    if reference.thumb.shape != current.thumb.shape:
        return float("inf"), True
    dx, dy, response = measures.shift(reference.edges, current.edges)
    if response < NO_MATCH_RESPONSE:
        return NO_MATCH_RESPONSE / max(response, 1e-3), True
    return math.hypot(dx, dy) / (limits.moved_shift * reference.thumb.shape[1]), False


def resemblance(reference: View, thumb: np.ndarray) -> float:
    """How much one 64x36 thumbnail (less its text bands) still shows the reference view: the normalised
    cross-correlation, 1 for the same picture at any contrast (fog keeps the scene's pattern, only
    fainter), near 0 for a covered lens or another scene."""
    scene = measures.without_text_bands(thumb)
    if scene.shape != reference.thumb.shape:
        return 0.0
    return float(cv2.matchTemplate(scene, reference.thumb, cv2.TM_CCOEFF_NORMED)[0, 0])


def _edges(gray: np.ndarray) -> np.ndarray:
    """Gradient magnitude: what phase correlation should align (light changes move it less than luma)."""
    values = gray.astype(np.float32)
    return cv2.magnitude(cv2.Sobel(values, cv2.CV_32F, 1, 0), cv2.Sobel(values, cv2.CV_32F, 0, 1))


def confirm(reference: Features | None, current: Features | None, limits: Thresholds = DEFAULT_LIMITS) -> bool | None:
    """Whether full-frame features say the camera moved: False when many stayed in place, True when many
    moved together by more than the trigger, None when they cannot tell (too few, or ambiguous)."""
    if reference is None or current is None or reference.width != current.width:
        return None
    if len(reference.points) < MIN_MATCHES or len(current.points) < MIN_MATCHES:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(reference.descriptors, current.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < MIN_MATCHES:
        return None
    moves = np.array([current.points[m.trainIdx] - reference.points[m.queryIdx] for m in good], np.float32)
    in_place = int(np.count_nonzero(np.hypot(moves[:, 0], moves[:, 1]) < 2.0))
    bins, counts = np.unique(np.round(moves / 4.0).astype(np.int32), axis=0, return_counts=True)
    best = int(counts.argmax())
    together, offset = int(counts[best]), bins[best] * 4.0
    if in_place >= MIN_MATCHES and 2 * in_place >= together:
        return False
    if together >= MIN_MATCHES and together >= 2 * in_place:
        return math.hypot(float(offset[0]), float(offset[1])) >= limits.moved_shift * reference.width
    return None
