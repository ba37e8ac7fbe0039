"""Which fault each simulated camera shows: from the config (possibly delayed) and from the control API.

Runs on the simulator's event loop. A fault set or cleared through the
control API replaces the configured one, including one still pending.
"""

from __future__ import annotations

import asyncio

from hub.config import Fault
from hub.sim.camera import Camera


class FaultBoard:
    def __init__(self, cameras: dict[str, Camera]):
        self._cameras = cameras
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._locks = {cid: asyncio.Lock() for cid in cameras}
        self._tasks: set[asyncio.Task] = set()

    def has(self, stream_id: str) -> bool:
        return stream_id in self._cameras

    async def start(self) -> None:
        """Apply the configured faults: at once (together: a fault's clip may need encoding), or after their `@Ns` delay."""
        loop = asyncio.get_running_loop()
        now = []
        for camera in self._cameras.values():
            fault = camera.stream.fault
            if fault is None:
                continue
            if fault.after_s:
                self._pending[camera.id] = loop.call_later(fault.after_s, self._apply_later, camera.id, fault)
            else:
                now.append(self.apply(camera.id, fault, from_config=True))
        await asyncio.gather(*now)

    def _apply_later(self, stream_id: str, fault: Fault) -> None:
        self._pending.pop(stream_id, None)
        task = asyncio.get_running_loop().create_task(self.apply(stream_id, fault, from_config=True))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def apply(self, stream_id: str, fault: Fault | None, from_config: bool = False) -> None:
        if not from_config and stream_id in self._pending:
            self._pending.pop(stream_id).cancel()
        async with self._locks[stream_id]:
            await self._cameras[stream_id].set_fault(fault)

    def describe(self) -> dict[str, dict]:
        """{stream id: {"fault": kind (with its strength, for a picture fault), "active": bool}} for every camera
        with a fault now or pending."""
        out = {}
        for camera in self._cameras.values():
            if camera.fault is not None:
                out[camera.id] = {"fault": camera.fault.name, "active": True}
            elif camera.id in self._pending and camera.stream.fault is not None:
                out[camera.id] = {"fault": camera.stream.fault.name, "active": False}
        return out

    def stop(self) -> None:
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        for task in self._tasks:
            task.cancel()
