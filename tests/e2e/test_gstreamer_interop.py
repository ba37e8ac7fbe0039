"""The hub against GStreamer's RTSP server (not ours): online with the right codec, size and fps,
offline soon after the server is killed, online again after it restarts."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest
import support
from support.hubrun import ALL_LIVE, running_hub

from hub.sim import clips, scenes

pytestmark = pytest.mark.gstreamer

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = Path(support.__file__).with_name("gst_rtsp_server.py")


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


def start_server(port: int, files: dict[str, Path]) -> subprocess.Popen:
    args = [SYSTEM_PYTHON, str(SERVER), str(port)] + [f"/{name}={file}" for name, file in files.items()]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = process.stdout.readline()
    assert "ready" in line, line + process.stdout.read()
    return process


def cached_mp4(codec: str, size: tuple[int, int], seconds: int) -> Path:
    """A test file for GStreamer, encoded once into the clip cache (as the simulator's clips are)."""
    path = clips.cache_dir() / f"gst-street-{codec}-{size[0]}x{size[1]}-{seconds}s-v{clips.GENERATOR_VERSION}.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")
        make_mp4(partial, codec, size, seconds)
        os.replace(partial, path)
    return path


@pytest.fixture(scope="module")
def media() -> dict[str, Path]:
    # 60 s: each client's session plays its file from the start, and no test here holds one that long.
    return {"cam264": cached_mp4("h264", (640, 360), 60), "cam265": cached_mp4("h265", (480, 272), 60)}


async def test_hub_follows_a_gstreamer_server_through_kill_and_restart(media, tmp_path):
    port = free_port()
    config = tmp_path / "hub.toml"
    config.write_text(
        ALL_LIVE
        + "".join(
            f'[[streams]]\nid = "{name}"\nname = "GStreamer {name}"\ncategory = "public-security"\n'
            f'position = [31.77, 117.30]\nurl = "rtsp://127.0.0.1:{port}/{name}"\n'
            for name in media
        )
    )
    server = start_server(port, media)
    try:
        async with running_hub(config) as hub:
            expected = {"cam264": ("h264", 640, 360), "cam265": ("hevc", 480, 272)}
            for name, (codec, width, height) in expected.items():
                record = await hub.wait_for(name, "online", timeout=60)
                deadline = time.monotonic() + 30
                while not (record["fps"] and 20 <= record["fps"] <= 30) and time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                    record = await hub.record(name)
                assert (record["codec"], record["width"], record["height"]) == (codec, width, height)
                assert record["nominal_fps"] == 25 and 20 <= record["fps"] <= 30, record
            server.kill()
            server.wait()
            killed = time.monotonic()
            await asyncio.gather(*(hub.wait_for(name, "offline", timeout=30) for name in media))
            offline_after = time.monotonic() - killed
            assert offline_after <= 5 + 2, f"offline only after {offline_after:.1f} s"
            server = start_server(port, media)
            restarted = time.monotonic()
            await asyncio.gather(*(hub.wait_for(name, "online", timeout=90) for name in media))
            print(f"\noffline {offline_after:.1f} s after kill; online {time.monotonic() - restarted:.1f} s after restart")
    finally:
        server.kill()
        server.wait()


async def test_probe_against_gstreamer_answers_ok_and_not_found(media):
    from hub.patrol.probe import probe

    port = free_port()
    server = start_server(port, {"cam264": media["cam264"]})
    try:
        found, missing = await asyncio.gather(
            probe(f"rtsp://127.0.0.1:{port}/cam264", 10), probe(f"rtsp://127.0.0.1:{port}/nope", 10)
        )
    finally:
        server.kill()
        server.wait()
    assert found.outcome == "ok" and found.status == 200, found
    assert missing.outcome == "not_found" and missing.status == 404, missing


async def test_a_camera_declaring_an_absurd_picture_size_is_refused_not_decoded(media, tmp_path):
    """16384x32 is a legal H.264 size; the hub will not decode pictures beyond 8192 px a side (memory)."""
    import numpy as np

    wide = tmp_path / "wide.mp4"
    with av.open(str(wide), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 16384, 32, "yuv420p"
        stream.codec_context.gop_size, stream.codec_context.options = 50, {"preset": "ultrafast"}
        for i in range(25 * 30):
            frame = av.VideoFrame.from_ndarray(np.full((32, 16384, 3), i % 250, np.uint8), format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    port = free_port()
    config = tmp_path / "hub.toml"
    config.write_text(
        ALL_LIVE
        + "".join(
            f'[[streams]]\nid = "{name}"\nname = "GStreamer {name}"\ncategory = "public-security"\n'
            f'position = [31.77, 117.30]\nurl = "rtsp://127.0.0.1:{port}/{name}"\n'
            for name in ("wide", "cam264")
        )
    )
    server = start_server(port, {"wide": wide, "cam264": media["cam264"]})
    try:
        async with running_hub(config) as hub:
            record = await hub.wait_for("wide", "degraded", "decode_errors", timeout=60)
            assert (record["width"], record["height"]) == (16384, 32) and record["snapshot_at"] is None
            assert (await hub.wait_for("cam264", "online", timeout=60))["state"] == "online"
    finally:
        server.kill()
        server.wait()
