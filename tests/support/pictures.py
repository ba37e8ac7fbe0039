"""Pictures for the picture-diagnostics tests: a simulated clip's keyframes as a decoder hands them to a reader.

Pure (drawing and colour conversion); cached, since several tests read the same scenes.
"""

from __future__ import annotations

from functools import cache

import cv2

from hub.sim import scenes
from hub.sim.clips import faulty_picture


@cache
def keyframes(scene: str, fault: tuple[str, float] | None = None, label: str = "Cam 7") -> tuple:
    """The three keyframes of a simulated clip, as (luma, 160x90 and 64x36 thumbnails, Cb, Cr) of TV-range 4:2:0."""
    out = []
    for index in (0, 50, 100):
        picture = faulty_picture(scene, scenes.FrameSpec(index, 640, 360, 25, label), fault, index)  # as the simulator draws it
        yuv = cv2.cvtColor(picture, cv2.COLOR_BGR2YUV_I420)
        luma = yuv[:360]
        small = cv2.resize(luma, (160, 90), interpolation=cv2.INTER_AREA)
        out.append(
            (
                luma,
                small,
                cv2.resize(small, (64, 36), interpolation=cv2.INTER_AREA),
                yuv[360:450].reshape(180, 320),
                yuv[450:].reshape(180, 320),
            )
        )
    return tuple(out)
