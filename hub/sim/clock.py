"""One pacing task for every camera of the simulator.

Runs on the simulator's event loop. A task per camera would wake the loop
5,000 times a second at 200 cameras x 25 fps; this single task sleeps until
the earliest due frame and then serves every camera due within `SLACK_S`, so
the wake-ups stay in the hundreds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from hub.sim.camera import Camera

SLACK_S = 0.004
IDLE_S = 0.05


async def run_clock(cameras: Iterable[Camera]) -> None:
    loop = asyncio.get_running_loop()
    cameras = list(cameras)
    while True:
        now = loop.time()
        nearest = now + IDLE_S
        for camera in cameras:
            if not camera.viewers:
                continue
            if camera.next_due <= now + SLACK_S:
                camera.tick(now)
            nearest = min(nearest, camera.next_due)
        await asyncio.sleep(max(0.0, nearest - loop.time()))
