"""The hub against GStreamer's RTSP server (not ours): online with the right codec, size and fps,
offline soon after the server is killed, online again after it restarts."""

from __future__ import annotations

import asyncio
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest
import support
from support.hubrun import ALL_LIVE, running_hub
from support.media import cached_mp4, free_port

pytestmark = pytest.mark.gstreamer

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = Path(support.__file__).with_name("gst_rtsp_server.py")


def start_server(port: int, files: dict[str, Path]) -> subprocess.Popen:
    args = [SYSTEM_PYTHON, str(SERVER), str(port)] + [f"/{name}={file}" for name, file in files.items()]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = process.stdout.readline()
    assert "ready" in line, line + process.stdout.read()
    return process


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
