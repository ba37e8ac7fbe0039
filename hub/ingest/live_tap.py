"""The bridge from a stream's reader thread to the live-video hub on the event loop.

Who runs where: the loop sets `wanted` (somebody watches the video) and
`pictures_wanted` (somebody looks at its snapshots); the reader thread reads
them per packet and per picture and calls `publish` with fMP4 chunks, which
hops to the loop with `call_soon_threadsafe`. One tap per stream outlives reader
generations, so viewers survive a reconnect (they get a fresh init segment). With
ingest worker processes the reader runs elsewhere: `on_wanted` forwards the flags
and `deliver` takes the chunks that come back.
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
        self._wanted = False  # written on the loop, read by the reader thread (a plain bool is atomic)
        self._pictures_wanted = False
        self.on_wanted: Callable[[bool, bool], object] | None = None  # (wanted, pictures): a worker's reader is told so

    @property
    def wanted(self) -> bool:
        return self._wanted

    @wanted.setter
    def wanted(self, value: bool) -> None:
        self._set(value, self._pictures_wanted)

    @property
    def pictures_wanted(self) -> bool:
        """Somebody looks at this stream's snapshots (a map popup): every sampled picture becomes a JPEG."""
        return self._pictures_wanted

    @pictures_wanted.setter
    def pictures_wanted(self, value: bool) -> None:
        self._set(self._wanted, value)

    def _set(self, wanted: bool, pictures: bool) -> None:
        changed = (wanted, pictures) != (self._wanted, self._pictures_wanted)
        self._wanted, self._pictures_wanted = wanted, pictures
        if changed and self.on_wanted is not None:
            self.on_wanted(wanted, pictures)

    def publish(self, chunk: Chunk) -> None:
        """Reader thread: hand one chunk to the loop."""
        try:
            self._loop.call_soon_threadsafe(self._on_chunk, self.stream_id, chunk)
        except RuntimeError:  # loop closed: shutting down
            pass

    def deliver(self, chunk: Chunk) -> None:
        """Event loop: hand on a chunk that a worker process's reader sent."""
        self._on_chunk(self.stream_id, chunk)
