"""Remux a camera's own packets into fragmented MP4 for Media Source Extensions: no transcoding.

Who runs where: a `FragmentWriter` lives in one reader thread and is only
created while somebody watches the stream (a stream nobody watches costs no
remuxing). PyAV's mp4 muxer writes into memory with `empty_moov` (the init
segment comes first) and `frag_every_frame` (one moof+mdat per frame, so a
tile stays within a frame or two of live). The muxer emits a frame's fragment
when the next frame arrives, so `write` returns the previous frame's bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof+frag_every_frame"
INIT, FRAGMENT = "init", "fragment"


@dataclass(frozen=True)
class Chunk:
    kind: str  # INIT or FRAGMENT
    data: bytes
    keyframe: bool = False  # a fragment that starts with a keyframe: where a new viewer may join
    mime: str = ""  # for INIT: the MSE type, e.g. video/mp4; codecs="avc1.64001e"


def mime_type(codec: str, extradata: bytes | None) -> str:
    """The MSE/`isTypeSupported` type for a stream, from its codec and parameter sets."""
    if codec == "h264":
        sps = _h264_sps(extradata or b"")
        profile = sps[1:4].hex() if len(sps) >= 4 else "42e01e"
        return f'video/mp4; codecs="avc1.{profile}"'
    if codec == "hevc":
        return 'video/mp4; codecs="hvc1.1.6.L93.B0"'
    return f'video/mp4; codecs="{codec}"'


def _h264_sps(extradata: bytes) -> bytes:
    if extradata[:1] == b"\x01" and len(extradata) > 8:  # avcC: SPS follows a 2-byte length at offset 6
        size = int.from_bytes(extradata[6:8], "big")
        return extradata[8 : 8 + size]
    for unit in extradata.replace(b"\x00\x00\x00\x01", b"\x00\x00\x01").split(b"\x00\x00\x01"):
        if unit and unit[0] & 0x1F == 7:
            return unit
    return b""


class FragmentWriter:
    def __init__(self, template):
        self._buffer = io.BytesIO()
        self._output = av.open(self._buffer, "w", format="mp4", options={"movflags": MOVFLAGS})
        self._stream = self._output.add_stream_from_template(template)
        self._mime = mime_type(template.codec_context.name, template.codec_context.extradata)
        self._frame_ticks = _frame_ticks(template)
        self._started = False
        self._pending_keyframe = False
        self._held = None  # a first keyframe that came without timestamps, until the next packet dates it

    def write(self, packet) -> list[Chunk]:
        """Mux one packet (it is consumed); returns whatever complete boxes that produced.

        FFmpeg's RTSP demuxer gives the first packet of a connection no timestamps: when that is the
        keyframe a new viewer starts from, it is held and stamped one frame before the packet that
        follows, so the video starts at once instead of at the next keyframe (a GOP later). Any other
        packet without a decoding time is dropped."""
        if packet.dts is None:
            if packet.is_keyframe and not self._started and self._held is None:
                self._held = packet
            return []
        chunks = []
        held, self._held = self._held, None
        if held is not None:
            held.dts = packet.dts - (packet.duration or self._frame_ticks)
            held.pts = held.dts if packet.pts is None else min(held.dts, packet.pts)
            chunks += self._mux(held)
        return chunks + self._mux(packet)

    def _mux(self, packet) -> list[Chunk]:
        keyframe = bool(packet.is_keyframe)
        packet.stream = self._stream
        self._output.mux(packet)
        data = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        chunks = []
        if data and not self._started:
            self._started = True
            init_end = _init_length(data)
            chunks.append(Chunk(INIT, data[:init_end], mime=self._mime))
            data = data[init_end:]
        if data:
            chunks.append(Chunk(FRAGMENT, data, keyframe=self._pending_keyframe))
        self._pending_keyframe = keyframe
        return chunks

    def close(self) -> None:
        try:
            self._output.close()
        except (av.error.FFmpegError, ValueError):
            pass


def _frame_ticks(template) -> int:
    """One frame's duration in the stream's time base (1 tick when the rate is unknown)."""
    rate, time_base = template.average_rate, template.time_base
    if not rate or not time_base:
        return 1
    return max(1, round(1 / (float(rate) * float(time_base))))


def _init_length(data: bytes) -> int:
    """Length of the leading ftyp+moov boxes."""
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if data[offset + 4 : offset + 8] not in (b"ftyp", b"moov") or size < 8:
            break
        offset += size
    return offset
