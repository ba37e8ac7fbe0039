"""The live socket's per-tile status: what a wall tile learns about its stream, and that it keeps learning it."""

from __future__ import annotations

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
