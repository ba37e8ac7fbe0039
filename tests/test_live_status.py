"""The live socket's per-tile status: what a wall tile learns about its stream, and that it keeps learning it."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from hub.index import StreamRecord
from hub.web.live import MAX_QUEUED, STATUS_DUE, Viewer, status_message
from hub.web.live_socket import USAGE


def test_status_is_never_crowded_out_by_video_for_other_tiles():
    viewer = Viewer(ws=None, status_for=lambda ids: None)
    for n in range(MAX_QUEUED + 50):  # a browser that falls behind: video beyond the bound is dropped
        viewer.offer(b"fragment %d" % n, "busy-camera")
    assert viewer.queue.qsize() == MAX_QUEUED and "busy-camera" in viewer.waiting_for_keyframe
    viewer.offer_status()
    viewer.offer_status()  # one marker waits at most
    queued = [viewer.queue.get_nowait() for _ in range(viewer.queue.qsize())]
    assert queued.count(STATUS_DUE) == 1 and queued[-1] is STATUS_DUE


def test_status_message_carries_the_hub_clock_and_what_a_tile_needs():
    record = StreamRecord("cam", "Gate", "property", "", (), (31.7, 117.3), 25.0)
    record.state, record.reasons, record.last_frame_at, record.picture_changed_at = "degraded", ("frozen",), 100.0, 80.0
    before = time.time()
    message = json.loads(status_message({"cam": record}, {"cam", "gone"}))
    assert before - 0.001 <= message["now"] <= time.time() + 0.001  # rounded to the millisecond
    assert message["streams"] == {
        "cam": {
            "state": "degraded",
            "reasons": ["frozen"],
            "codec": None,
            "last_frame_at": 100.0,
            "snapshot_at": None,
            "picture_changed_at": 80.0,
            "mode": "live",
            "checked_at": None,
        }
    }
    assert status_message({"cam": record}, {"gone"}) is None


async def test_followed_streams_get_status_every_second_without_video(hub):
    await hub.wait_for("h264-360", "online")
    async with hub.session.ws_connect(hub.url("/api/live")) as ws:
        await ws.send_str(json.dumps({"follow": ["h264-360", "dead-camera", "no-such-stream"]}))
        statuses = []
        while len(statuses) < 3:
            message = await asyncio.wait_for(ws.receive(), 10)
            assert message.type == aiohttp.WSMsgType.TEXT, "follow brings status only, never video"
            statuses.append(json.loads(message.data))
        assert all(s["type"] == "status" and set(s["streams"]) == {"h264-360", "dead-camera"} for s in statuses)
        assert statuses[-1]["now"] - statuses[1]["now"] >= 0.5  # periodic, not a burst
        live = statuses[-1]["streams"]["h264-360"]
        assert live["state"] == "online" and statuses[-1]["now"] - live["last_frame_at"] < 2.5
        assert statuses[-1]["streams"]["dead-camera"]["last_frame_at"] is None
        await ws.send_str("not json")
        while (reply := json.loads((await asyncio.wait_for(ws.receive(), 10)).data))["type"] == "status":
            pass
        assert reply == {"type": "error", "error": USAGE}
