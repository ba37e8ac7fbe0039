"""A reporter's photo made safe to keep and show: decoded, turned upright, shrunk, re-encoded as a plain JPEG.

Pure CPU work: the service runs it in a worker thread. Re-encoding drops everything but the pixels: EXIF
(with the phone's GPS and serial number), comments, thumbnails, and whatever a crafted file hides after
its image data. Only JPEG and PNG are taken, judged by their first bytes, not by what the upload says.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_SIDE = 1920  # pixels: enough to read a plate at the scene, small enough for a phone's upload
QUALITY = 85
MAX_PIXELS = 40_000_000  # a decompression bomb (a tiny PNG of a huge canvas) is refused before it is decoded


class BadPhoto(ValueError):
    """Why a photo was refused, in words for the reporter."""


def kind_of(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def clean_photo(data: bytes, max_bytes: int) -> bytes:
    """The photo as a clean JPEG of at most MAX_SIDE pixels a side; `BadPhoto` if it is not one we take."""
    if len(data) > max_bytes:
        raise BadPhoto(f"a photo may be at most {max_bytes // 1_000_000} MB, this one is {len(data) / 1e6:.1f} MB")
    kind = kind_of(data)
    if kind is None:
        raise BadPhoto("a photo must be a JPEG or PNG image")
    if kind == "png" and len(data) >= 24:
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if width * height > MAX_PIXELS:
            raise BadPhoto(f"the image is {width}x{height} pixels: too large")
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)  # EXIF orientation applied
    if picture is None or picture.size == 0:
        raise BadPhoto(f"the {kind.upper()} file could not be read as an image")
    height, width = picture.shape[:2]
    if width * height > MAX_PIXELS:
        raise BadPhoto(f"the image is {width}x{height} pixels: too large")
    scale = MAX_SIDE / max(width, height)
    if scale < 1.0:
        picture = cv2.resize(picture, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    if not ok:
        raise BadPhoto("the image could not be re-encoded")
    return encoded.tobytes()
