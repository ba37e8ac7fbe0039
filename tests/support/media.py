"""Test video files for RTSP servers we did not write (GStreamer's, VLC's), made once into the simulator's
clip cache, and free loopback ports for those servers."""

from __future__ import annotations

import os
import socket
from fractions import Fraction
from pathlib import Path

import av

from hub.sim import clips, scenes


def make_mp4(path: Path, codec: str, size: tuple[int, int], seconds: int, fps: int = 25) -> Path:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264" if codec == "h264" else "libx265", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.gop_size = 2 * fps
        stream.codec_context.options = (
            {"preset": "ultrafast"} if codec == "h264" else {"preset": "ultrafast", "x265-params": "log-level=error"}
        )
        stream.codec_context.time_base = Fraction(1, fps)
        for i in range(seconds * fps):
            picture = scenes.draw("street", scenes.FrameSpec(i, size[0], size[1], fps, f"GStreamer {codec}"))
            frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cached_mp4(codec: str, size: tuple[int, int], seconds: int) -> Path:
    """A test file for GStreamer, encoded once into the clip cache (as the simulator's clips are)."""
    path = clips.cache_dir() / f"gst-street-{codec}-{size[0]}x{size[1]}-{seconds}s-v{clips.GENERATOR_VERSION}.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")
        make_mp4(partial, codec, size, seconds)
        os.replace(partial, path)
    return path
