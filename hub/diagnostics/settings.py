"""What picture diagnostics can be told: the checks, their thresholds, the vote, how often to sample.

Plain frozen data with no imports beyond the standard library, so that the config can name them without
loading OpenCV. Read anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

PICTURE_CHECKS = ("exposure", "covered", "low_contrast", "blurred", "color_cast", "ir_cut", "noisy", "striped", "mosaic", "moved")


@dataclass(frozen=True)
class Thresholds:
    """The triggers (`[health]`, with per-stream overrides)."""

    dark_luma: float = 25.0
    overexposed_share: float = 0.4
    low_contrast_ratio: float = 0.4  # of the baseline's luma std
    blurred_ratio: float = 0.75  # of the baseline's sharpness (fine detail over coarse: a clean scene holds within 10 %)
    covered_cells: int = 10  # of 16
    covered_peak_share: float = 0.9  # of the pixels in the 2 fullest of 64 luma bins
    cast_factor: float = 1.5  # and at least twice the baseline's
    cast_shift: float = 12.0  # mean chroma moved this far (Cb, Cr levels) from the baseline's
    ir_chroma: float = 0.1  # below this the picture is grey (a sensor in night mode sends no colour at all)
    noisy_ratio: float = 2.2  # of the baseline's noise sigma (at least 1 grey level); a codec removes much added grain
    striped_ratio: float = 2.5  # of the baseline's stripe strength
    mosaic_ratio: float = 1.2  # of the baseline's blockiness (at least 1)
    moved_shift: float = 0.04  # share of the picture's width the scene shifted
    # Absolute triggers: what no camera's clean picture shows, judged while the camera has no baseline of
    # its own yet (a camera added while faulty); far from any clean natural or simulated scene measured.
    low_contrast_absolute: float = 6.0  # luma spread (std, grey levels) below this, or ...
    veiled_absolute: float = 0.36  # ... a veil (darkest over brightest) above this plus 0.01 per level of contrast
    blurred_absolute: float = 0.018  # sharpness below this (clean scenes measure 0.03-0.24)
    cast_absolute: float = 2.5  # colour-cast factor above this (clean scenes reach 2.0: a warm table top) ...
    blue_cast_absolute: float = 16.0  # ... or the mean chroma this far toward blue (Cb; clean: at most 12, a sky)
    noisy_absolute: float = 5.0  # noise sigma above this (grey levels; clean cameras after their codec: 1-3)
    striped_absolute: float = 60.0  # stripe strength above this (clean: 5-25)
    mosaic_absolute: float = 1.6  # blockiness above this (clean: 0.85-1.25)


DEFAULT_LIMITS = Thresholds()  # frozen: safe as a shared default


@dataclass(frozen=True)
class DiagnosisSettings:
    """A stream's diagnosis settings: `[health]` with the stream's own overrides."""

    limits: Thresholds = DEFAULT_LIMITS
    checks: frozenset[str] = frozenset(PICTURE_CHECKS)
    vote_window: int = 10
    vote_need: int = 8
    clear_ratio: float = 0.7
    ptz: bool = False


DEFAULT_SETTINGS = DiagnosisSettings()


@dataclass(frozen=True)
class SamplingSettings:
    """How often the costly measures are taken; `enabled` False takes none at all."""

    enabled: bool = True
    full_every_s: float = 10.0  # noise and stripes (blockiness: every measured picture)
    features_every_s: float = 60.0
    every_s: float = 4.0  # the thumbnail measures at most this often: every other picture at the default picture interval
