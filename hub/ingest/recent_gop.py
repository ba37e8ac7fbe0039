"""The packets since a live stream's last keyframe, so a new viewer's video starts at once.

Who runs where: each reader thread keeps one `RecentGop` while nobody watches its stream's video; when
a viewer arrives, the reader hands what it holds to a new `FragmentWriter` (the keyframe first) instead
of waiting up to a keyframe interval for the next one. The player in the page jumps to the live edge,
so the viewer sees the present, not the past: the backlog only gives the decoder its keyframe.

It holds references to packets FFmpeg already made (no copy). Muxing consumes a packet, so what is
taken is never kept: the cache starts again at the next keyframe after the viewers leave. A keyframe
interval larger than `MAX_BYTES` or `MAX_PACKETS` is not kept (such a viewer waits for the next
keyframe, as before): at 640x360 a 2 s interval is about 100 KiB.
"""

from __future__ import annotations

MAX_BYTES = 512 * 1024
MAX_PACKETS = 300  # 12 s at 25 fps


class RecentGop:
    def __init__(self) -> None:
        self._packets: list = []
        self._bytes = 0
        self._keeping = False  # False until a keyframe starts a run, and after a run grew too big

    def add(self, packet, keyframe: bool, size: int) -> None:
        """Reader thread, per packet nobody watches."""
        if keyframe:
            self._packets, self._bytes, self._keeping = [packet], size, True
            return
        if not self._keeping:
            return
        self._packets.append(packet)
        self._bytes += size
        if self._bytes > MAX_BYTES or len(self._packets) > MAX_PACKETS:
            self.clear()

    def take(self) -> list:
        """Everything since the last keyframe (the keyframe first), or nothing; the cache is emptied."""
        packets = self._packets
        self.clear()
        return packets

    def clear(self) -> None:
        self._packets, self._bytes, self._keeping = [], 0, False
