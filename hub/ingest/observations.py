"""What a reader thread tells the event loop: small, immutable observations stamped with a generation.

The generation id lets the supervisor ignore anything a stale reader (one it
has already replaced) still manages to publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hub.diagnostics.sampling import PictureSample

# Reasons a connection ends: the reason codes listed in the README's states table.
ENDED, UNREACHABLE, NOT_FOUND, AUTH_FAILED, STALLED = "ended", "unreachable", "not_found", "auth_failed", "stalled"


@dataclass(frozen=True)
class Opened:
    generation: int
    codec: str
    width: int
    height: int
    fps: float | None  # as the stream announces it, if it does
    transport: str = ""  # how its RTP comes: "tcp" or "udp" (UDP when the camera refused TCP)


class Packet(NamedTuple):
    """One demuxed video packet (an access unit for RTSP video); a tuple, as thousands arrive per second."""

    arrival: float  # monotonic seconds
    size: int
    keyframe: bool
    pts_s: float | None = None  # presentation time in stream seconds, if the stream has one


@dataclass(frozen=True)
class PacketBatch:
    generation: int
    packets: tuple[Packet, ...]
    corrupt: int = 0  # packets FFmpeg flagged as corrupt


@dataclass(frozen=True)
class Picture:
    """One decoded keyframe: a small luma thumbnail for checks and a JPEG for people."""

    generation: int
    at: float  # monotonic seconds
    width: int
    height: int
    thumb: np.ndarray  # THUMB_HEIGHT x THUMB_WIDTH luma, uint8
    jpeg: bytes
    pts_s: float | None = None  # the keyframe's presentation time, seconds on the camera's clock
    diagnosis: PictureSample | None = (
        None  # what picture diagnostics measured of it (None: not sampled, or a `PictureMeasured` follows)
    )
    detail: np.ndarray | None = None  # its luma at 160x90, as decoded: health's frozen rule sees a ticking clock in it


@dataclass(frozen=True)
class PictureMeasured:
    """Picture diagnostics' measures of an earlier `Picture` (same generation and `at`), taken by the
    process's `Measurer` thread about a second after the picture itself was delivered."""

    generation: int
    at: float  # the picture's monotonic time
    thumb: np.ndarray  # its THUMB_HEIGHT x THUMB_WIDTH luma, as in the `Picture`
    diagnosis: PictureSample


@dataclass(frozen=True)
class DecodeFailed:
    generation: int
    at: float
    message: str


@dataclass(frozen=True)
class Closed:
    """The connection ended or could not be made; `reason` is a reason code, `message` is redacted."""

    generation: int
    reason: str
    message: str
    had_frames: bool


@dataclass(frozen=True)
class ReaderLost:
    """Told by the hub, not a reader: the worker process running the reader died (killed, crashed). The
    camera's silence until the restarted worker's reader opens is the hub's doing, not the camera's."""

    generation: int


Observation = Opened | PacketBatch | Picture | PictureMeasured | DecodeFailed | Closed | ReaderLost
