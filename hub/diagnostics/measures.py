"""Pure measures of one picture (or a picture against a reference): numbers, never verdicts.

Who runs where: anywhere (no I/O, no clock, no state); the hub will run them on the small thumbnail a
reader already makes of each sampled keyframe (160x90 for the cheap ones), and on a full-frame sample
about once a minute for the costly ones. Each takes a uint8 image: `gray` is one channel (luma), `bgr`
three (OpenCV's order). What counts as a fault is decided elsewhere (`hub.diagnostics.confirm`), against
thresholds and the camera's own baseline.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


def mean_luma(gray: np.ndarray) -> float:
    """0 (black) to 255 (white): below 25 is too dark."""
    return float(gray.mean())


def bright_share(gray: np.ndarray, level: int = 250) -> float:
    """Share of pixels at or above `level`: above 0.4 is overexposed."""
    return float(np.count_nonzero(gray >= level)) / gray.size


def luma_std(gray: np.ndarray) -> float:
    """Global contrast; low contrast (fog, a dirty dome) is judged against the camera's own baseline."""
    return float(gray.std())


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian: falls when the picture is defocused or blurred (at 160x90 or more)."""
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def flat_cells(gray: np.ndarray, grid: int = 4, below_std: float = 4.0) -> int:
    """How many of the grid x grid cells are flat (std below `below_std`): a covered lens flattens most."""
    height, width = gray.shape[:2]
    count = 0
    for row in range(grid):
        for col in range(grid):
            cell = gray[row * height // grid:(row + 1) * height // grid, col * width // grid:(col + 1) * width // grid]
            count += cell.std() < below_std
    return int(count)


def histogram_peak_share(gray: np.ndarray, bins: int = 32, peaks: int = 3) -> float:
    """Share of pixels in the `peaks` fullest of `bins` luma bins: near 1 for a covered or painted lens."""
    counts = np.bincount((gray.ravel() >> int(math.log2(256 // bins))).astype(np.int64), minlength=bins)
    return float(np.sort(counts)[-peaks:].sum()) / gray.size


def color_cast(bgr: np.ndarray) -> float:
    """The colour-cast factor: the Lab chroma's mean offset over its spread (above ~1.5, one hue dominates)."""
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    a, b = lab[..., 1] - 128.0, lab[..., 2] - 128.0
    offset = math.hypot(float(a.mean()), float(b.mean()))
    spread = math.hypot(float(a.std()), float(b.std()))
    return offset / max(spread, 1.0)


def chroma(bgr: np.ndarray) -> float:
    """Mean Lab chroma: near 0 for a grey (infrared, night mode) picture."""
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    return float(np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0).mean())


def noise_sigma(gray: np.ndarray) -> float:
    """Immerkær's fast estimate of the noise's standard deviation (grey levels)."""
    height, width = gray.shape[:2]
    response = cv2.filter2D(gray.astype(np.float32), -1, IMMERKAER, borderType=cv2.BORDER_REFLECT)[1:-1, 1:-1]
    return float(np.abs(response).sum()) * math.sqrt(math.pi / 2) / (6.0 * (width - 2) * (height - 2))


def stripe_strength(gray: np.ndarray) -> float:
    """How far the strongest periodic pattern stands out of the spectrum (interference stripes are one peak).

    The picture's own low frequencies (its scene) are left out; the answer is the strongest remaining
    peak over the median magnitude of the same band."""
    values = gray.astype(np.float32)
    values -= values.mean()
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(values * _hann(values.shape))))
    height, width = spectrum.shape
    cy, cx = height // 2, width // 2
    yy, xx = np.ogrid[:height, :width]
    radius = np.hypot((yy - cy) / height, (xx - cx) / width)
    band = spectrum[radius > 0.06]
    return float(band.max() / max(float(np.median(band)), 1e-6))


def blockiness(gray: np.ndarray, block: int = 8) -> float:
    """Steps at block edges over steps inside blocks: about 1 for a clean picture, large for mosaic."""
    values = gray.astype(np.float32)
    steps = np.abs(np.diff(values, axis=1))
    edges = steps[:, block - 1::block]
    inside = np.delete(steps, np.s_[block - 1::block], axis=1)
    return float(edges.mean() / max(float(inside.mean()), 0.5))


def shift(reference: np.ndarray, current: np.ndarray) -> tuple[float, float, float]:
    """(dx, dy, response) of `current` against `reference` by phase correlation; a response near 1 is a
    sure match, near 0 no match (the scene changed)."""
    window = _hann(reference.shape)
    (dx, dy), response = cv2.phaseCorrelate(reference.astype(np.float32), current.astype(np.float32), window)
    return float(dx), float(dy), float(response)


def dhash(gray: np.ndarray) -> int:
    """A 64-bit difference hash: neighbouring pictures of one scene differ in few bits."""
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).ravel()
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _hann(shape: tuple[int, ...]) -> np.ndarray:
    return cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)
