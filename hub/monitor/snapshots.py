"""A snapshot as the camera is now: somebody opening a live camera waits (bounded) for its next picture.

Runs on the event loop (a snapshot request's handler, through `Monitor.look`).
"""

from __future__ import annotations

import asyncio
import time

from hub.monitor.watched import Watched

SNAPSHOT_WAIT_S = 5.0  # the longest a snapshot request waits for a fresh picture of a live stream
KEYFRAME_WAIT_S = 2.5  # a picture needs a keyframe: cameras send one every 1-2 s


async def fresh_snapshot(watched: Watched, interval_s: float) -> None:
    """Return at once if the stream's snapshot is at most two picture intervals old; else when the next
    picture arrives, the stream leaves live, or the deadline passes."""
    record = watched.record
    if record.snapshot_at is not None and time.time() - record.snapshot_at <= 2 * interval_s:
        return
    loop = asyncio.get_running_loop()
    seq, deadline = record.snapshot_seq, loop.time() + min(SNAPSHOT_WAIT_S, interval_s + KEYFRAME_WAIT_S)
    while record.snapshot_seq == seq and loop.time() < deadline and watched.live_now:
        await asyncio.sleep(0.05)
