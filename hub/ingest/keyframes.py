"""Keyframe decoders shared by the readers of one process, instead of one decoder per stream.

Who runs where: the process's owner (the monitor, or an ingest worker) makes one `KeyframeDecoders` and
hands it to every reader and visit (`hub.ingest.shared.ReaderShared`); reader threads call `decode`
for a keyframe every couple of seconds each.

A reader decodes keyframes only, each on its own (the decoder is flushed after every one), so a decoder
carries nothing from one keyframe to the next but its buffers and the parameter sets it last saw. A
stream's keyframe is made self-contained by putting its parameter sets (the SDP's, Annex B) in front,
and any decoder of the same codec and picture size can then decode it. One H.264 decoder holds about
1 MiB of picture buffers at 640x360: with hundreds of live streams and visits that was most of the
hub's memory per stream beyond a bare demux loop. Decoders are kept per (codec, size), so a decoder
never has to re-initialise for another size, at most `per_kind` of each in use at once (a decode is
about a millisecond; more decoders than cores would only hold memory).

Streams whose parameter sets are not Annex B (or whose codec is neither H.264 nor HEVC) keep a decoder
of their own: `shareable` says which.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import av

SHAREABLE_CODECS = ("h264", "hevc")
START_CODES = (b"\x00\x00\x00\x01", b"\x00\x00\x01")
# Decoding options: keyframes are decoded for thumbnails and checks, which need no deblocking (about 20 %
# cheaper); FFmpeg refuses pictures beyond this many pixels itself (8K UHD).
MAX_PIXELS = 7680 * 4320
DECODER_OPTIONS = {"skip_loop_filter": "all", "max_pixels": str(MAX_PIXELS)}

Kind = tuple[str, int, int]  # codec name, width, height


def shareable(codec: str, extradata: bytes | None) -> bool:
    """Whether a stream's keyframes can go to a shared decoder: H.264 or HEVC with Annex B parameter sets
    (what FFmpeg's RTSP demuxer makes of an SDP's sprop parameter sets), or none at all (in-band only)."""
    return codec in SHAREABLE_CODECS and (not extradata or extradata.startswith(START_CODES))


def new_decoder(codec: str) -> Any:  # a VideoCodecContext
    ctx = av.CodecContext.create(codec, "r")
    ctx.thread_count = 1  # frame threads would hold a keyframe back until more packets come
    ctx.options = dict(DECODER_OPTIONS)
    return ctx


class KeyframeDecoders:
    """Decoders lent to reader threads, one keyframe at a time."""

    def __init__(self, per_kind: int | None = None):
        self.per_kind = per_kind or max(1, os.cpu_count() or 1)
        self._free: dict[Kind, list[Any]] = {}
        self._in_use: dict[Kind, int] = {}
        self._changed = threading.Condition()
        self.created = 0  # decoders made so far (for tests and the curious)

    def decode(self, kind: Kind, extradata: bytes | None, packet: av.Packet) -> list[av.VideoFrame]:
        """The frames of one keyframe packet of a stream of `kind`, decoded on its own."""
        data = bytes(packet)
        if extradata:
            data = extradata + data  # its own parameter sets first: the decoder may have seen another stream's
        with self._lent(kind) as ctx:
            try:
                frames = ctx.decode(av.Packet(data)) or ctx.decode(None)
            finally:
                ctx.flush_buffers()
        return list(frames)

    @contextmanager
    def _lent(self, kind: Kind) -> Iterator[Any]:
        with self._changed:
            while not self._free.get(kind) and self._in_use.get(kind, 0) >= self.per_kind:
                self._changed.wait()
            free = self._free.get(kind)
            ctx = free.pop() if free else None
            self._in_use[kind] = self._in_use.get(kind, 0) + 1
        if ctx is None:
            ctx = new_decoder(kind[0])
            self.created += 1
        try:
            yield ctx
        finally:
            with self._changed:
                self._in_use[kind] -= 1
                self._free.setdefault(kind, []).append(ctx)
                self._changed.notify()
