"""Run the hub in the test's own event loop against a real simulator, and wait on its state."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from hub.config import load_config
from hub.web.app import create_app


class RunningHub:
    def __init__(self, server: TestServer, session: aiohttp.ClientSession, config_path: Path):
        self.server = server
        self.session = session
        self.config_path = config_path
        self.app = server.app

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def get_json(self, path: str) -> tuple[int, dict]:
        async with self.session.get(self.url(path)) as response:
            return response.status, await response.json()

    async def record(self, stream_id: str) -> dict:
        status, body = await self.get_json(f"/api/streams/{stream_id}")
        assert status == 200, body
        return body

    async def wait_for(self, stream_id: str, state: str, reason: str | None = None, timeout: float = 60.0) -> dict:
        """Wait (polling the API) until the stream is in `state` (with `reason` among its reasons)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            record = await self.record(stream_id)
            if record["state"] == state and (reason is None or reason in record["reasons"]):
                return record
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{stream_id} did not reach {state}/{reason} in {timeout} s: {record['state']} {record['reasons']}")
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running_hub(config_path: Path):
    config = load_config(config_path)
    server = TestServer(create_app(config, str(config_path)), host="127.0.0.1", port=0)
    await server.start_server()
    session = aiohttp.ClientSession()
    try:
        yield RunningHub(server, session, config_path)
    finally:
        await session.close()
        await server.close()


@contextlib.asynccontextmanager
async def hub_on(sim, folder: Path, estate: str, monitor: str):
    """A hub over `estate` on a running simulator, with the given [monitor] (and [hub]) tables."""
    path = folder / "hub.toml"
    path.write_text(hub_config_text(estate, sim.rtsp, sim.control, monitor=monitor))
    async with running_hub(path) as hub:
        yield hub


ALL_LIVE = '[monitor]\nmodes = { public-security = "live", property = "live", childcare = "live", vehicle = "live" }\n'


def hub_config_text(estate: str, rtsp: str, control: str, extra: str = "", monitor: str = ALL_LIVE) -> str:
    """A hub config over the simulator's estate, pointing sim:// streams at the running simulator.

    Every stream is live unless `monitor` says otherwise: these tests are about live behaviour;
    the patrol tests pass their own [monitor] table."""
    return f'[sim]\nlisten = "{rtsp}"\ncontrol = "{control}"\n{monitor}{extra}\n' + estate
