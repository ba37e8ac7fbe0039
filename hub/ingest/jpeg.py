"""JPEG encoding shared by the readers (snapshots) and the web side (scaled copies)."""

from __future__ import annotations

import cv2
import numpy as np

JPEG_QUALITY = 80


def encode_jpeg(image: np.ndarray) -> bytes:
    """A BGR image as JPEG bytes (empty if OpenCV cannot encode it)."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return data.tobytes() if ok else b""
