"""From one picture's measures to a score per check, against thresholds and the camera's own baseline.

Pure and clock-free (the caller says whether the clock says day). `Sample` is made where the picture is
decoded (the reader thread: `hub.diagnostics.sampling`); `scores` runs on the event loop for each sample,
against the stream's `Baseline`, and each score goes to that check's vote (`hub.diagnostics.confirm`). A
score of 1.0 is exactly at the trigger. Checks that depend on what is normal for this camera (contrast,
sharpness, colour, noise, stripes) are judged against its baseline, learned from its own clean pictures,
kept apart for day and night; until a baseline is ready those checks are scored against conservative
absolute triggers (what no clean camera shows), and a picture that fails any check is never learnt, so
a camera faulty from its first picture is reported and never takes its fault for normal. Noise and
stripes are scored only on samples that carry the full frame's costlier measures (`Fine`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from hub.diagnostics import measures
from hub.diagnostics.confirm import excess, falling, rising, shortfall
from hub.diagnostics.settings import DEFAULT_LIMITS, Thresholds

MEASURES_VERSION = 5  # bumped whenever a measure changes: baselines kept from before are learnt again
MIN_SAMPLES = 20  # thumbnails before the thumbnail checks trust a baseline
MIN_FINE_SAMPLES = 6  # full-frame samples before noise and stripes do
# Until a baseline is ready it is the plain mean of its pictures; then each clean picture moves it this
# share of the way, so that it follows dusk and the seasons but not a fault that creeps in over minutes.
LEARN_RATE, FINE_LEARN_RATE = 0.01, 0.05  # at a picture every 2 s and a full frame every 10 s: ~3 and ~3 min
COARSE = ("luma", "contrast", "sharpness", "cast", "chroma", "flat", "peak", "tint_b", "tint_r", "blocks")
FINE = ("noise", "stripes")
THUMB_SIZE = (160, 90)  # defocus needs this much: at 64x36 a blur of sigma 3 hardly shows
BRIGHT_DAY_LUMA = 60.0  # a grey picture this bright by day is not night mode ...
DAY_SHARE = 0.7  # ... nor one at 0.7x its camera's day brightness and contrast, for a dim scene
DARK_NIGHT_LUMA = 50.0  # a picture this dark by night is night, whatever its colour
COLOURFUL = 6.0  # times ir_chroma: a camera whose day pictures have less colour (grey rain) cannot show an IR-cut fault


@dataclass(frozen=True)
class Fine:
    """The costlier measures of the full frame, taken every `full_sample_s` (a thumbnail averages noise away)."""

    noise: float
    stripes: float

    @classmethod
    def of(cls, gray: np.ndarray, noise: float | None = None) -> Fine:
        """Stripes from the whole frame's row and column means; noise (unless given) from a window of it."""
        return cls(noise_of(gray) if noise is None else noise, measures.stripe_strength(gray))


def noise_of(gray: np.ndarray) -> float:
    """The sensor's noise sigma, from a window of the full frame: the noise is the same all over, and the
    cost stays flat at any size."""
    return measures.noise_sigma(_window(gray))


def _window(gray: np.ndarray, width: int = 384, height: int = 216) -> np.ndarray:
    """The middle of a picture at full resolution, its left edge on the 8-pixel block grid."""
    h, w = gray.shape[:2]
    if w <= width and h <= height:
        return gray
    left, top = ((w - min(w, width)) // 2) // 8 * 8, (h - min(h, height)) // 2
    return np.ascontiguousarray(gray[top : top + min(h, height), left : left + min(w, width)])


@dataclass(frozen=True)
class Sample:
    """The measures of one sampled picture: its 160x90 thumbnail, the full frame's sharpness, detail and
    blockiness, plus `fine` when the full frame was sampled for noise and stripes."""

    luma: float
    bright: float
    contrast: float
    sharpness: float  # `measures.sharpness` of the full frame: fine detail over coarse, noise removed
    flat: int
    peak: float
    cast: float
    chroma: float
    tint_b: float = 0.0
    tint_r: float = 0.0
    blocks: float = 1.0  # blockiness of the full frame (cheap: every picture)
    detail: float = 0.0  # the full frame's edge energy beyond its noise: enough to judge sharpness?
    veil: float = 0.0  # `measures.veil`: how far a haze lifts the darkest toward the brightest (0 to 1)
    fine: Fine | None = None

    @classmethod
    def of(cls, gray: np.ndarray, cb: np.ndarray, cr: np.ndarray, luma: np.ndarray, fine: bool = True) -> Sample:
        """From a luma thumbnail and its chroma planes (any size), and the full frame's luma (`fine`: with
        its costlier measures too)."""
        noise = noise_of(luma)
        sharpness, detail = measures.sharpness(luma, noise)
        return cls(
            measures.mean_luma(gray),
            measures.clipped_share(gray, cb, cr),
            measures.luma_std(gray),
            sharpness,
            measures.flat_cells(gray),
            measures.histogram_peak_share(gray),
            measures.color_cast(cb, cr),
            measures.chroma(cb, cr),
            *measures.tint(cb, cr),
            measures.blockiness(luma),
            detail,
            measures.veil(gray, cb, cr),
            Fine.of(luma, noise) if fine else None,
        )

    @classmethod
    def from_bgr(cls, bgr: np.ndarray, full: bool = True) -> Sample:
        """From a full BGR picture, as the reader would sample it (tests and benchmarks)."""
        small = cv2.resize(bgr, THUMB_SIZE, interpolation=cv2.INTER_AREA)
        cb, cr = measures.chroma_planes(small)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        return cls.of(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), cb, cr, gray, full)


def is_night(sample: Sample, clock_day: bool, limits: Thresholds = DEFAULT_LIMITS, baseline: Baseline | None = None) -> bool:
    """Which baseline a picture belongs to. Night: a dark picture while the clock says night, or a grey one
    (IR, night mode) while the clock says night or from a camera that shows colour by day (it switched
    early, at dusk). A grey picture by day from a camera with little colour anyway (rain) is day, and so
    is a grey one that is also faint against the day's contrast: fog fades colour and contrast together,
    an IR picture keeps its contrast."""
    grey = sample.chroma < limits.ir_chroma
    if not clock_day:
        return grey or sample.luma < DARK_NIGHT_LUMA
    day = baseline.values[False] if baseline is not None and baseline.ready(False) else None
    if day is None or not grey or day["chroma"] <= COLOURFUL * limits.ir_chroma:
        return False
    return sample.contrast >= limits.low_contrast_ratio * day["contrast"]


@dataclass
class Baseline:
    """What is normal for one camera, kept apart for day (False) and night (True)."""

    values: dict[bool, dict[str, float]] = field(default_factory=lambda: {False: {}, True: {}})
    counts: dict[bool, int] = field(default_factory=lambda: {False: 0, True: 0})
    fine_counts: dict[bool, int] = field(default_factory=lambda: {False: 0, True: 0})

    def learn(self, sample: Sample, night: bool) -> None:
        """Take a picture no check failed on into the baseline of its part of the day."""
        self.counts[night] += 1
        self._move(night, {name: getattr(sample, name) for name in COARSE}, max(LEARN_RATE, 1 / self.counts[night]))
        if sample.fine is not None:
            self.fine_counts[night] += 1
            self._move(
                night, {name: getattr(sample.fine, name) for name in FINE}, max(FINE_LEARN_RATE, 1 / self.fine_counts[night])
            )

    def _move(self, night: bool, new: dict[str, float], rate: float) -> None:
        values = self.values[night]
        for name, value in new.items():
            values[name] = value if name not in values else values[name] + rate * (value - values[name])

    def ready(self, night: bool) -> bool:
        return self.counts[night] >= MIN_SAMPLES

    def fine_ready(self, night: bool) -> bool:
        return self.fine_counts[night] >= MIN_FINE_SAMPLES

    def to_json(self) -> dict:
        return {
            "version": MEASURES_VERSION,
            "day": self.values[False],
            "night": self.values[True],
            "counts": [self.counts[False], self.counts[True]],
            "fine_counts": [self.fine_counts[False], self.fine_counts[True]],
        }

    @classmethod
    def from_json(cls, data: dict) -> Baseline:
        """A kept baseline, or a fresh one when it was learnt with other measures (it would mislead)."""
        if data.get("version") != MEASURES_VERSION:
            return cls()

        def pair(values):  # (day, night) -> {False: day, True: night}
            return {False: values[0], True: values[1]}

        return cls(pair([dict(data["day"]), dict(data["night"])]), pair(data["counts"]), pair(data["fine_counts"]))


def scores(sample: Sample, baseline: Baseline, clock_day: bool, limits: Thresholds = DEFAULT_LIMITS) -> dict[str, float]:
    """A score per check for this picture (1.0 = at the trigger); checks with nothing to judge are absent.
    Until the camera's baseline for this part of the day is ready, the checks that need one are judged
    against absolute triggers instead (`absolute_scores`): a camera faulty from its first picture is
    reported, and its faulty pictures never teach the baseline."""
    night = is_night(sample, clock_day, limits, baseline)
    out = {"exposure": max(falling(sample.luma, limits.dark_luma), rising(sample.bright, limits.overexposed_share))}
    normal = baseline.values[night] if baseline.ready(night) else None
    # A plain wall is flat too: a camera whose normal picture has flat cells or a peaked histogram needs more.
    if normal is None:
        out["covered"] = max(rising(sample.flat, limits.covered_cells), rising(sample.peak, limits.covered_peak_share))
        out |= absolute_scores(sample, limits)
    else:
        cells = max(limits.covered_cells, min(16.0, normal["flat"] + 4))
        peak = max(limits.covered_peak_share, min(0.98, normal["peak"] + 0.1))
        out["covered"] = max(rising(sample.flat, cells), excess(sample.peak, normal["peak"], peak))
        blocks = max(normal["blocks"], 1.0)
        out["mosaic"] = excess(sample.blocks, blocks, limits.mosaic_ratio * blocks)
        out["low_contrast"] = falling(sample.contrast, limits.low_contrast_ratio * normal["contrast"])
        sharp = normal["sharpness"]
        out["blurred"] = shortfall(sample.sharpness, sharp, limits.blurred_ratio * sharp) if _judgeable(sample) else 0.0
        drift = math.hypot(sample.tint_b - normal["tint_b"], sample.tint_r - normal["tint_r"])
        out["color_cast"] = max(
            rising(sample.cast, max(limits.cast_factor, 2.0 * normal["cast"])), rising(drift, limits.cast_shift)
        )
    if sample.fine is not None and baseline.fine_ready(night):
        fine = baseline.values[night]
        out["noisy"] = rising(sample.fine.noise, limits.noisy_ratio * max(fine["noise"], 1.0))
        out["striped"] = rising(sample.fine.stripes, limits.striped_ratio * fine["stripes"])
    elif sample.fine is not None:
        out["noisy"] = rising(sample.fine.noise, limits.noisy_absolute)
        out["striped"] = rising(sample.fine.stripes, limits.striped_absolute)
    out["ir_cut"] = _ir_cut(sample, baseline, clock_day, limits)
    return out


MIN_DETAIL = 20.0  # edge energy beyond the noise below which sharpness is not judged (nothing left to be sharp)


def _judgeable(sample: Sample) -> bool:
    return sample.detail >= MIN_DETAIL


# The veil a picture may carry rises with its contrast: a bright plain wall lifts the floor too, but keeps
# its contrast; fog and a faded signal take both. Clean scenes measured: at most 0.50 (a brick wall, at a
# contrast of 21) and 0.39 (rain, 24); fog and a faded picture from 0.52 (at 12) and 0.59 (at 17).
VEIL_PER_CONTRAST = 0.01  # per grey level of contrast, added to `veiled_absolute`


def absolute_scores(sample: Sample, limits: Thresholds = DEFAULT_LIMITS) -> dict[str, float]:
    """Scores against what no clean camera shows, for a camera with no baseline yet: a faded or fogged
    picture (little contrast, or its darkest parts lifted toward its brightest), one with no fine detail
    at all, one hue over everything, heavy noise, stripes or blocks. Conservative: a camera only a little
    off from its first picture waits for the relative checks (and is learnt as it is)."""
    blurred = falling(sample.sharpness, limits.blurred_absolute) if _judgeable(sample) else 0.0
    # Blur takes a fine texture's contrast too (a brick wall out of focus): the veil counts only while the
    # picture keeps some sharpness, which fog's haze and a faded signal leave (the ratio divides contrast out).
    veiled = rising(sample.veil, limits.veiled_absolute + VEIL_PER_CONTRAST * sample.contrast) if blurred < 1.0 else 0.0
    return {
        "low_contrast": max(falling(sample.contrast, limits.low_contrast_absolute), veiled),
        "blurred": blurred,
        # Daylight and lamps run from blue sky to orange sodium; a warm picture is normal (a table top, a
        # lamp-lit room), a picture this blue is not.
        "color_cast": max(rising(sample.cast, limits.cast_absolute), rising(sample.tint_b, limits.blue_cast_absolute)),
        "mosaic": excess(sample.blocks, 1.0, limits.mosaic_absolute),
    }


def _ir_cut(sample: Sample, baseline: Baseline, clock_day: bool, limits: Thresholds) -> float:
    """Grey in bright daylight (the IR-cut filter stuck in night mode), only for a camera that shows colour
    by day; or colour in the dark (stuck in day mode), only for one whose nights are grey."""
    day_normal = baseline.values[False] if baseline.ready(False) else None
    night_normal = baseline.values[True] if baseline.ready(True) else None
    if clock_day and day_normal and day_normal["chroma"] > COLOURFUL * limits.ir_chroma and _daylight(sample, day_normal):
        return falling(sample.chroma, limits.ir_chroma)
    if not clock_day and sample.luma < DARK_NIGHT_LUMA and night_normal and night_normal["chroma"] < limits.ir_chroma:
        return rising(sample.chroma, 3 * limits.ir_chroma)
    return 0.0


def _daylight(sample: Sample, day_normal: dict[str, float]) -> bool:
    """Whether a grey picture by day is daylight through a stuck filter rather than night mode switched
    on early at dusk: as bright as `BRIGHT_DAY_LUMA`; or, from a camera whose days are dim (a dark
    scene), the day's own picture less its colour: most of its day's brightness and contrast (night mode
    at dusk is dimmer and flatter)."""
    if sample.luma >= BRIGHT_DAY_LUMA:
        return True
    return sample.luma >= DAY_SHARE * day_normal["luma"] and sample.contrast >= DAY_SHARE * day_normal["contrast"]
