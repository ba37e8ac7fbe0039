"""A real camera's optics and sensor, applied to a still photograph: what turns a picture into footage.

Pure (numpy and OpenCV on one BGR picture, every call a function of its arguments); runs wherever
footage is made from photographs (the benchmark's natural set, tests). The order is the camera's:
light on the scene (slow drift, a passing shadow), the lens (vignetting; a fault: defocus, a dirty lens,
fog in front of it), then the sensor (noise, new in every frame; night mode: grey), and last the text
the camera burns in. The simulator's drawn scenes keep their own model (`hub.sim.scenes`).

| fault | strength | what the lens gets |
|---|---|---|
| `defocus` | radius of the blur disc in pixels | a lens out of focus: each point spread over a disc (a pillbox), not a Gaussian |
| `dirty` | share of veiling glare, 0-1 | a smeared, dusty window: a soft blur of the whole picture plus scattered light over it |
| `fog` | share of light from the haze, 0-1 | fog or smoke before the lens: the picture fades toward a bright grey, and softens |
"""

from __future__ import annotations

import math

import cv2
import numpy as np

Picture = np.ndarray  # height x width x 3, uint8, BGR

LENS_FAULTS = ("defocus", "dirty", "fog")


def defocus(picture: Picture, radius: float) -> Picture:
    """The picture through a lens out of focus: a normalised disc kernel of `radius` pixels."""
    if radius <= 0.5:
        return picture
    size = 2 * math.ceil(radius) + 1
    centre = size // 2
    yy, xx = np.mgrid[:size, :size] - centre
    kernel = np.clip(radius + 0.5 - np.hypot(xx, yy), 0.0, 1.0).astype(np.float32)  # anti-aliased rim
    return cv2.filter2D(picture, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def dirty(picture: Picture, share: float) -> Picture:
    """A dirty or smeared window: scattered light (`share` of the picture replaced by a wide blur of
    itself, lifted toward grey) over a lens softened as by a film of grease (a disc of 2 pixels)."""
    soft = defocus(picture, 2.0).astype(np.float32)
    glare = cv2.GaussianBlur(picture, (0, 0), picture.shape[1] / 20).astype(np.float32) * 0.6 + 0.4 * 160.0
    return np.clip(soft * (1 - share) + glare * share, 0, 255).astype(np.uint8)


def fog(picture: Picture, share: float) -> Picture:
    """Fog: the scene's light is attenuated and the haze's own bright grey (airlight) added, by `share`;
    the scattering softens what is left a little (a disc of 1.5 pixels)."""
    attenuated = defocus(picture, 1.5).astype(np.float32) * (1 - share)
    return np.clip(attenuated + 200.0 * share, 0, 255).astype(np.uint8)


def lens_fault(kind: str, strength: float, picture: Picture) -> Picture:
    """One of `LENS_FAULTS` at `strength`."""
    if kind == "defocus":
        return defocus(picture, strength)
    if kind == "dirty":
        return dirty(picture, strength)
    if kind == "fog":
        return fog(picture, strength)
    raise ValueError(f"no lens fault {kind!r}")


def vignetting(picture: Picture, falloff: float = 0.25) -> Picture:
    """Corners darker than the middle by `falloff` (cos^4-like), as through any wide lens."""
    height, width = picture.shape[:2]
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    r2 = ((xx - width / 2) / (width / 2)) ** 2 + ((yy - height / 2) / (height / 2)) ** 2
    gain = (1.0 - falloff * r2 / 2.0)[..., None]
    return np.clip(picture.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def lighting(picture: Picture, seconds: float, period_s: float = 240.0, depth: float = 0.15) -> Picture:
    """Slow natural change: the light rises and falls by `depth` over `period_s`, and a soft shadow
    (a cloud, a building's) crosses the picture once a period."""
    height, width = picture.shape[:2]
    gain = 1.0 + depth * math.sin(2 * math.pi * seconds / period_s)
    centre = (seconds / period_s % 1.0) * 1.6 - 0.3  # from off the left edge to off the right
    xx = np.arange(width, dtype=np.float32) / width
    shadow = 1.0 - 0.35 * np.exp(-(((xx - centre) / 0.15) ** 2))
    return np.clip(picture.astype(np.float32) * gain * shadow[None, :, None], 0, 255).astype(np.uint8)


def night(picture: Picture) -> Picture:
    """The camera in night mode: infrared light, no colour, a dim picture."""
    grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).astype(np.float32) * 0.55 + 8.0
    return cv2.cvtColor(np.clip(grey, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def noise_field(seed: int, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """The sensor's noise for one frame (int16, three channels, seeded: reproducible), to add after the lens:
    `sigma` grey levels on luma, a third of it on each colour (a night picture's gain makes more)."""
    rng = np.random.default_rng(seed)
    height, width = shape
    noise = rng.normal(0.0, sigma, (height, width, 1)) + rng.normal(0.0, sigma / 3, (height, width, 3))
    return np.round(noise).astype(np.int16)
