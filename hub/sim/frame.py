"""What one simulated picture depends on, shared by every scene (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Picture = np.ndarray  # height x width x 3, uint8, BGR


@dataclass(frozen=True)
class FrameSpec:
    """What one picture of a scene depends on."""

    index: int
    width: int
    height: int
    fps: int
    label: str


def scaled(spec: FrameSpec, value: float) -> int:
    """A length given for a 640-pixel-wide picture, at this picture's width."""
    return round(value * spec.width / 640)
