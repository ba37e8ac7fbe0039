"""The bridge from a stream's reader thread to the live-video hub on the event loop.

Who runs where: the loop sets `wanted` (somebody watches); the reader thread
reads it per packet and calls `publish` with fMP4 chunks, which hops to the
loop with `call_soon_threadsafe`. One tap per stream outlives reader
generations, so viewers survive a reconnect (they get a fresh init segment).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hub.ingest.remux import Chunk


class LiveTap:
    def __init__(self, loop: asyncio.AbstractEventLoop, stream_id: str, on_chunk: Callable[[str, Chunk], None]):
        self._loop = loop
        self.stream_id = stream_id
        self._on_chunk = on_chunk
        self.wanted = False  # written on the loop, read by the reader thread (a plain bool is atomic)

    def publish(self, chunk: Chunk) -> None:
        """Reader thread: hand one chunk to the loop."""
        try:
            self._loop.call_soon_threadsafe(self._on_chunk, self.stream_id, chunk)
        except RuntimeError:  # loop closed: shutting down
            pass
