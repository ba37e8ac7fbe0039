"""The hub against VLC's RTSP server (not ours, not GStreamer's), which serves RTP over UDP only: with the
transport left to the hub it falls back to UDP and says so in the record; with `transport = "tcp"` named,
the camera is unreachable with a reason that says why and what to set. Kill and restart are followed, and
VLC ending its session at every loop of its file is a counted reconnect, never a change of state."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from support.hubrun import ALL_LIVE, running_hub
from support.media import cached_mp4, free_port
from support.vlc_rtsp import VlcCamera

pytestmark = pytest.mark.vlc


@pytest.fixture
def vlc():
    camera = VlcCamera(cached_mp4("h264", (640, 360), 60), free_port())
    yield camera
    camera.close()


def _config(tmp_path, url: str, transport: str = "") -> object:
    config = tmp_path / "hub.toml"
    config.write_text(
        ALL_LIVE + '[[streams]]\nid = "vlc-cam"\nname = "VLC camera"\ncategory = "public-security"\n'
        f'position = [31.77, 117.30]\nurl = "{url}"\n{transport}'
    )
    return config


async def test_a_camera_refusing_tcp_is_read_over_udp_and_followed_through_kill_and_restart(vlc, tmp_path):
    vlc.start()
    async with running_hub(_config(tmp_path, vlc.url)) as hub:
        record = await hub.wait_for("vlc-cam", "online", timeout=60)
        deadline = time.monotonic() + 30
        while not (record["fps"] and 20 <= record["fps"] <= 30) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            record = await hub.record("vlc-cam")
        assert record["transport"] == "udp", "the record does not say the camera is read over UDP"
        assert (record["codec"], record["width"], record["height"]) == ("h264", 640, 360)
        assert 20 <= record["fps"] <= 30 and record["last_error"] is None, record
        vlc.kill()
        killed = time.monotonic()
        await hub.wait_for("vlc-cam", "offline", timeout=30)
        offline_after = time.monotonic() - killed
        assert offline_after <= 5 + 2, f"offline only after {offline_after:.1f} s"
        vlc.start()
        restarted = time.monotonic()
        record = await hub.wait_for("vlc-cam", "online", timeout=90)
        assert record["transport"] == "udp"
        print(f"\noffline {offline_after:.1f} s after kill; online {time.monotonic() - restarted:.1f} s after restart")


async def test_a_camera_refusing_the_transport_the_config_names_says_why_and_what_to_set(vlc, tmp_path):
    vlc.start()
    async with running_hub(_config(tmp_path, vlc.url, 'transport = "tcp"\n')) as hub:
        record = await hub.wait_for("vlc-cam", "offline", "unreachable", timeout=60)
        deadline = time.monotonic() + 30
        while record["last_error"] is None and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            record = await hub.record("vlc-cam")
        assert "refused RTP over TCP" in record["last_error"] and 'transport = "udp"' in record["last_error"], record
        assert record["transport"] is None  # never opened


async def test_a_camera_that_ends_its_stream_at_every_loop_of_its_file_stays_online_and_counts_reconnects(tmp_path):
    camera = VlcCamera(cached_mp4("h264", (640, 360), 6), free_port())  # VLC ends the session every 6 s
    try:
        camera.start()
        async with running_hub(_config(tmp_path, camera.url)) as hub:
            await hub.wait_for("vlc-cam", "online", timeout=60)
            changes: list[dict] = []

            async def follow() -> None:
                async with hub.session.get(hub.url("/api/events")) as events:
                    while True:
                        chunk = await events.content.readuntil(b"\n\n")
                        if chunk.startswith(b"event: state"):
                            data = json.loads(chunk.split(b"data: ", 1)[1])
                            if data["id"] == "vlc-cam":
                                changes.append(data)

            follower = asyncio.get_running_loop().create_task(follow())
            try:
                first = (await hub.record("vlc-cam"))["reconnects"]
                deadline = time.monotonic() + 60
                record = await hub.record("vlc-cam")
                while record["reconnects"] < first + 2 and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                    record = await hub.record("vlc-cam")
            finally:
                follower.cancel()
            assert record["reconnects"] >= first + 2, f"VLC's loops were not seen as reconnects: {record}"
            assert changes == [], f"a replayed file changed the camera's state: {changes}"
            assert record["state"] == "online"
    finally:
        camera.close()
