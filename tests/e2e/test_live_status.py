"""The live socket's per-tile status: what a wall tile learns about its stream, and that it keeps learning it."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from hub.web.live_socket import USAGE


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
