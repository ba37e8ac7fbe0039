"""Scaled snapshots, cached: a hundred viewers of one picture at one width cost one encode.

Runs on the event loop; the resize itself runs in the default thread pool.
Concurrent requests for the same (stream, picture, width) share one future.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import cv2
import numpy as np

from hub.ingest.jpeg import encode_jpeg

CACHE_ENTRIES = 512


def scale_jpeg(data: bytes, width: int) -> bytes:
    """Resize a JPEG to `width` pixels wide (aspect kept); never upscales."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or width >= image.shape[1]:
        return data
    height = max(2, round(image.shape[0] * width / image.shape[1]))
    small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return encode_jpeg(small) or data


class SnapshotCache:
    def __init__(self, entries: int = CACHE_ENTRIES):
        self._entries = entries
        self._cache: OrderedDict[tuple, asyncio.Future] = OrderedDict()
        self.encodes = 0

    async def scaled(self, stream_id: str, seq: int, data: bytes, width: int) -> bytes:
        key = (stream_id, seq, width)
        future = self._cache.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._cache[key] = future
            while len(self._cache) > self._entries:
                self._cache.popitem(last=False)
            self.encodes += 1
            try:
                future.set_result(await asyncio.to_thread(scale_jpeg, data, width))
            except Exception as exc:  # noqa: BLE001 - waiters get the error too
                self._cache.pop(key, None)
                future.set_exception(exc)
                raise
        else:
            self._cache.move_to_end(key)
        return await asyncio.shield(future)
