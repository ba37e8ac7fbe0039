"""One simulated camera: its clips, its fault, its RTP sequence, and the sessions playing it.

Runs on the simulator's event loop only. The clock calls `tick` when a frame
is due; the camera builds that frame's RTP packets once and hands the same
bytes to every playing session, so a camera costs about the same for one
viewer or ten.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Protocol

from hub.config import Fault, Stream
from hub.sim import clips, picture_faults
from hub.sim.rtsp_messages import rtp_packet

FAULT_VARIANTS = {"freeze": clips.STILL, "black": clips.BLACK, "lowfps": clips.LOW_FPS}


def variant_for(fault: Fault | None) -> str | None:
    """The clip variant a fault plays (a picture fault at its strength: `blur-3`), or None if it plays the normal clip."""
    if fault is None:
        return None
    if fault.strength is not None:
        return picture_faults.variant(fault.kind, fault.strength)
    return FAULT_VARIANTS.get(fault.kind)


CLOSING_FAULTS = ("drop", "auth", "notfound")
RTP_CLOCK = 90_000


class Viewer(Protocol):
    """What a camera needs from a playing session."""

    def send_frame(self, packets: list[bytes], keyframe: bool) -> None: ...

    def close(self) -> None: ...


ClipLoader = Callable[[clips.ClipSpec], Awaitable[clips.Clip]]


class Camera:
    """A stream's main feed; its substream (if the scene asks for one) is a second Camera that follows its faults."""

    def __init__(self, stream: Stream, normal: clips.Clip, load: ClipLoader, label: str | None = None):
        assert stream.sim is not None
        self.stream = stream
        self.sim = stream.sim
        self.label = stream.name if label is None else label
        self.substream: Camera | None = None
        self._clips = {clips.NORMAL: normal}
        self._load = load
        self.fault: Fault | None = None
        self.viewers: list[Viewer] = []
        self.plays = 0  # sessions that ever played this feed (the control API's "played")
        self.ssrc = random.getrandbits(32)
        self.seq = random.getrandbits(16)
        self._timestamp = random.getrandbits(32)
        self._variant = clips.NORMAL
        self._position = 0
        self.next_due = 0.0
        self._on_resume: list[Callable[[], None]] = []

    @property
    def id(self) -> str:
        return self.stream.id

    @property
    def clip(self) -> clips.Clip:
        return self._clips[self._variant]

    @property
    def normal_clip(self) -> clips.Clip:
        return self._clips[clips.NORMAL]

    @property
    def timestamp(self) -> int:
        return self._timestamp & 0xFFFFFFFF

    @property
    def fault_kind(self) -> str | None:
        return self.fault.kind if self.fault else None

    def spec(self, variant: str) -> clips.ClipSpec:
        return clips.ClipSpec(self.sim.scene, self.sim.width, self.sim.height, self.sim.fps, self.sim.codec, self.label, variant)

    def when_resumed(self, callback: Callable[[], None]) -> None:
        """Run `callback` when a stall ends (a hung camera reads the requests that queued up meanwhile)."""
        self._on_resume.append(callback)

    async def set_fault(self, fault: Fault | None) -> None:
        """Apply a fault now; returns once the camera shows it (a variant clip may need encoding first)."""
        if self.substream is not None:  # one camera, two encodings: a fault shows on both
            await self.substream.set_fault(fault)
        variant = variant_for(fault) or clips.NORMAL
        if variant not in self._clips:
            self._clips[variant] = await self._load(self.spec(variant))
        was_stalled = self.fault_kind == "stall"
        self.fault = fault
        if was_stalled and self.fault_kind != "stall":
            callbacks, self._on_resume = self._on_resume, []
            for callback in callbacks:
                callback()
        if fault and fault.kind in CLOSING_FAULTS:
            for viewer in list(self.viewers):
                viewer.close()
            self.viewers.clear()
        if variant != self._variant:
            self._variant, self._position = variant, 0  # every variant starts with a keyframe

    def add_viewer(self, viewer: Viewer, now: float) -> None:
        if not self.viewers:
            # Nobody watched: start the clip at a keyframe so the first viewer sees a picture at once.
            self._position, self.next_due = 0, now
        self.viewers.append(viewer)
        self.plays += 1

    def remove_viewer(self, viewer: Viewer) -> None:
        if viewer in self.viewers:
            self.viewers.remove(viewer)

    def tick(self, now: float) -> None:
        """Send the frame that is due (nothing while stalled) and schedule the next one."""
        clip = self.clip
        interval = 1.0 / clip.fps
        if self.fault_kind != "stall":
            frame = clip.frames[self._position]
            last = len(frame.payloads) - 1
            packets = [rtp_packet(p, i == last, self.seq + i, self._timestamp, self.ssrc) for i, p in enumerate(frame.payloads)]
            self.seq = (self.seq + len(packets)) & 0xFFFF
            for viewer in list(self.viewers):
                viewer.send_frame(packets, frame.keyframe)
        self._position = (self._position + 1) % len(clip.frames)
        self._timestamp += RTP_CLOCK // clip.fps
        self.next_due += interval
        if now - self.next_due > 1.0:  # the loop fell behind: skip ahead rather than burst
            self.next_due = now + interval
