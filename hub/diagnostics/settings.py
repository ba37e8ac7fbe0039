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
    blurred_ratio: float = 0.5  # of the baseline's sharpness
    covered_cells: int = 10  # of 16
    covered_peak_share: float = 0.9  # of the pixels in the 2 fullest of 64 luma bins
    cast_factor: float = 1.5  # and at least twice the baseline's
    cast_shift: float = 12.0  # mean chroma moved this far (Cb, Cr levels) from the baseline's
    ir_chroma: float = 0.1  # below this the picture is grey (a sensor in night mode sends no colour at all)
    noisy_ratio: float = 2.2  # of the baseline's noise sigma (at least 1 grey level); a codec removes much added grain
    striped_ratio: float = 2.5  # of the baseline's stripe strength
    mosaic_ratio: float = 1.2  # of the baseline's blockiness (at least 1)
    moved_shift: float = 0.04  # share of the picture's width the scene shifted


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
