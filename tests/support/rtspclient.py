"""Read a stream with PyAV/FFmpeg's RTSP client, a client we did not write."""

from __future__ import annotations

import time
from dataclasses import dataclass

import av
import numpy as np


@dataclass
class Picture:
    luma: np.ndarray  # height x width, uint8
    pts_s: float
    arrived: float  # time.monotonic() when decoded
    keyframe: bool


def open_stream(url: str, transport: str = "tcp", read_timeout: float = 5.0, open_timeout: float = 20.0):
    return av.open(url, options={"rtsp_transport": transport}, timeout=(open_timeout, read_timeout))


def decode(container, count: int, deadline_s: float = 30.0) -> list[Picture]:
    """Decode `count` pictures (or fewer if the stream ends or the deadline passes)."""
    stream = container.streams.video[0]
    pictures: list[Picture] = []
    end = time.monotonic() + deadline_s
    for frame in container.decode(stream):
        luma = frame.to_ndarray(format="gray")
        pts = float(frame.pts * frame.time_base) if frame.pts is not None else 0.0
        pictures.append(Picture(luma, pts, time.monotonic(), frame.key_frame))
        if len(pictures) >= count or time.monotonic() > end:
            break
    return pictures


def pts_rate(pictures: list[Picture]) -> float:
    """Pictures per second of the stream's own clock (their timestamps): what the server sends, however late
    this process read them (on a busy machine a second's pictures may be decoded in one burst)."""
    span = pictures[-1].pts_s - pictures[0].pts_s
    return (len(pictures) - 1) / span if span > 0 else float("inf")


def packet_rate(container, count: int = 100, deadline_s: float = 30.0) -> float:
    """Video packets per wall-clock second over the last half of `count` more packets, read without
    decoding: what the server sends, not how fast this process decodes on a busy machine."""
    stream = container.streams.video[0]
    arrivals: list[float] = []
    end = time.monotonic() + deadline_s
    for packet in container.demux(stream):
        if packet.size:
            arrivals.append(time.monotonic())
        if len(arrivals) >= count or time.monotonic() > end:
            break
    tail = arrivals[len(arrivals) // 2 :]
    span = tail[-1] - tail[0] if len(tail) > 1 else 0.0
    return (len(tail) - 1) / span if span > 0 else float("inf")


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))
