"""The live socket's per-tile status: what a wall tile learns about its stream, and that it keeps learning it."""

from __future__ import annotations

import asyncio
import json
import time

from hub.index import StreamRecord
from hub.web.live import MAX_QUEUED, STATUS_DUE, Viewer, status_message


def test_status_is_never_crowded_out_by_video_for_other_tiles():
    viewer = Viewer(ws=None, status_for=lambda ids: None)
    for n in range(MAX_QUEUED + 50):  # a browser that falls behind: video beyond the bound is dropped
        viewer.offer(b"fragment %d" % n, "busy-camera")
    assert viewer.queue.qsize() == MAX_QUEUED and "busy-camera" in viewer.waiting_for_keyframe
    viewer.offer_status()
    viewer.offer_status()  # one marker waits at most
    queued = [viewer.queue.get_nowait() for _ in range(viewer.queue.qsize())]
    assert queued.count(STATUS_DUE) == 1 and queued[-1] is STATUS_DUE


async def test_a_due_status_goes_before_the_video_queued_ahead_of_it():
    sent = []
    done = asyncio.Event()

    class Socket:  # what the pump writes to: records the order of the messages
        async def send_str(self, text):
            sent.append(text)

        async def send_bytes(self, data):
            sent.append(data)
            if len(sent) == 1 + 40:
                done.set()

    viewer = Viewer(ws=Socket(), status_for=lambda ids: "status")
    for n in range(40):  # a wall of cameras starting: their video queued first
        viewer.offer(b"fragment %d" % n, "cam")
    viewer.offer_status()  # then a tile opens
    pump = asyncio.ensure_future(viewer.pump())
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        pump.cancel()
    assert sent[0] == "status" and sent[1:] == [b"fragment %d" % n for n in range(40)] and sent.count("status") == 1


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
            "watching": "patrol",
            "checked_at": None,
        }
    }
    assert status_message({"cam": record}, {"gone"}) is None
