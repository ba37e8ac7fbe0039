"""Picture faults the simulator renders into its clips: what video-quality diagnosis must find.

Pure (numpy and OpenCV on one BGR picture); runs in the clip encoders' worker processes. Each fault has
a strength with a default and a range (`blur:3` is a Gaussian blur of sigma 3 pixels); the picture of
frame `index` is transformed the same way every time, so a clip is reproducible.

| fault | strength (default, range) | what the picture gets |
|---|---|---|
| `blur` | sigma in pixels (3, 0.5-20) | Gaussian blur: a defocused lens |
| `dark` | darkening factor (10, 1.5-50) | every value divided by it |
| `overexposed` | gain (5, 1.2-20) | every value multiplied, white clips |
| `lowcontrast` | contrast left (0.25, 0.02-0.9) | values pulled toward the mean: fog, a dirty dome |
| `cover` | share covered (1.0, 0.1-1.0) | the top part flat grey with a little sensor noise: a bag, paint |
| `moved` | shift, % of the width (15, 2-50) | the scene panned sideways: the camera was turned |
| `colorcast` | added to blue (60, 10-200) | one channel lifted: a failing sensor or white balance |
| `ircut` | (1, ignored) | colour removed in daylight: the infrared-cut filter stuck in night mode |
| `noise` | sigma in grey levels (12, 1-60) | Gaussian noise, new in every frame |
| `stripes` | amplitude in grey levels (25, 2-120) | horizontal sine stripes every 6 rows, drifting: interference |
| `mosaic` | block size in pixels (16, 4-64) | blocks of one colour on the picture's block grid: a broken decoder, lost packets |
"""

from __future__ import annotations

import cv2
import numpy as np

from hub.config.sim_source import PICTURE_FAULT_STRENGTHS as DEFAULTS  # (default, lowest, highest) of each, as the config checks
from hub.config.sim_source import PICTURE_FAULTS

# The hub's picture check that should find each fault (`hub.diagnostics`): what tests and benchmarks expect.
FOUND_BY = {
    "blur": "blurred",
    "dark": "exposure",
    "overexposed": "exposure",
    "lowcontrast": "low_contrast",
    "cover": "covered",
    "colorcast": "color_cast",
    "ircut": "ir_cut",
    "noise": "noisy",
    "stripes": "striped",
    "mosaic": "mosaic",
    "moved": "moved",
}
# Faults of the lens and the sensor change the picture under the camera's text overlay (its clock and name
# stay readable on a covered lens); interference and broken blocks hit the whole signal, text included.
OPTICAL = frozenset(PICTURE_FAULTS) - {"stripes", "mosaic"}


def variant(kind: str, strength: float) -> str:
    """The clip variant that shows this fault at this strength (`blur-3`)."""
    return f"{kind}-{strength:g}"


def parse_variant(name: str) -> tuple[str, float] | None:
    """`blur-3` -> ("blur", 3.0); None for the other variants (normal, still, black, lowfps)."""
    kind, sep, strength = name.partition("-")
    return (kind, float(strength)) if sep and kind in DEFAULTS else None


def render(kind: str, strength: float, bgr: np.ndarray, index: int) -> np.ndarray:
    """The picture of frame `index` with the fault applied (a new array)."""
    picture = bgr.astype(np.float32)
    height, width = picture.shape[:2]
    if kind == "blur":
        return cv2.GaussianBlur(bgr, (0, 0), strength)
    if kind == "dark":
        picture /= strength
    elif kind == "overexposed":
        picture *= strength
    elif kind == "lowcontrast":
        picture = picture.mean() + (picture - picture.mean()) * strength
    elif kind == "cover":
        rows = max(1, round(height * strength))
        noise = np.random.default_rng(index).normal(0, 1.0, (rows, width, 1))
        picture[:rows] = 70.0 + noise
    elif kind == "moved":
        matrix = np.array([[1, 0, width * strength / 100.0], [0, 1, 0]], np.float32)
        return cv2.warpAffine(bgr, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    elif kind == "colorcast":
        picture[..., 0] += strength
    elif kind == "ircut":
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    elif kind == "noise":
        picture += np.random.default_rng(index).normal(0, strength, picture.shape[:2])[..., None]
    elif kind == "stripes":
        rows = np.arange(height, dtype=np.float32)[:, None, None]
        picture += strength * np.sin((rows + index) * 2 * np.pi / 6)
    elif kind == "mosaic":
        block = int(strength)  # on the picture's own block grid, from its top left corner, as a codec's blocks are
        small = cv2.resize(bgr, (-(-width // block), -(-height // block)), interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(small.repeat(block, axis=0).repeat(block, axis=1)[:height, :width])
    else:
        raise ValueError(f"no picture fault {kind!r}")
    return np.clip(picture, 0, 255).astype(np.uint8)
