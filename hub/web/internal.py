"""The internal channel's routes, on cluster nodes only: another node fetches from this one the live
video, tile status and snapshots of the cameras this node pulls, for the browsers connected to it.

Who runs where: this node's event loop, one handler per request of another node. Every request must
carry a node's signature (`hub.cluster.channel_auth`, checked by the access gate before any handler);
nothing a browser holds opens these routes, and a request that says it comes from a page (an `Origin`)
is refused. Audit stays with the node the person uses: it recorded the view; this node only serves it.

- `GET /internal/live?stream=ID&feed=sub|main|none` (WebSocket): the stream's video (none: status
  only) in the live socket's messages (`hub.web.live`), and its tile status every second. The stream
  is held live here while the socket is open. When this node stops pulling it (it moved to another
  node), the socket closes with code 4409 and the asking node finds the new holder.
- `GET /internal/snapshot?stream=ID&width=W&wait=0|1`: as `/api/streams/{id}/snapshot.jpg`.
- `POST /internal/handover?epoch=E&cameras=A,B`: the asking node has just handed these cameras to this
  node's claims under its epoch `E` (`hub.cluster.node.ClusterNode.taken_over`): pull them now.
  `{"node", "taken"}`.
- `GET /internal/lease`: `{"node", "renewed_ago_s"}`, how long ago this node last renewed its heartbeat
  (None: not joined). A node whose Redis does not answer asks, to know whether it alone is cut off.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import WSMsgType, web

from hub.safe.numbers import ascii_int
from hub.web.api import snapshot_response
from hub.web.keys import CLUSTER, INDEX, LIVE, MONITOR
from hub.web.live import STATUS_EVERY_S, Viewer, feed_key, status_message
from hub.web.middleware import json_error

MOVED = 4409  # close code: this node no longer pulls the stream
FEEDS = ("sub", "main", "none")


def _held_record(request: web.Request):
    stream_id = request.query.get("stream", "")
    record = request.app[INDEX].records.get(stream_id)
    if record is None or not request.app[CLUSTER].holds(stream_id):
        return None
    return record


async def internal_snapshot(request: web.Request) -> web.Response:
    record = _held_record(request)
    if record is None:
        return json_error(404, "this node does not pull that stream")
    width = ascii_int(request.query["width"]) if "width" in request.query else None
    return await snapshot_response(request.app, record, width, request.query.get("wait", "1") == "1")


async def internal_live(request: web.Request) -> web.StreamResponse:
    record, feed = _held_record(request), request.query.get("feed", "sub")
    if record is None:
        return json_error(404, "this node does not pull that stream")
    if feed not in FEEDS:
        return json_error(400, "feed must be sub, main or none")
    app, stream_id = request.app, record.id
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024, compress=False)
    await ws.prepare(request)
    hub, monitor, index = app[LIVE], app[MONITOR], app[INDEX]
    viewer = Viewer(ws, lambda ids: status_message(index.records, ids))
    viewer.following = {stream_id}
    if feed != "none":
        viewer.watching = {stream_id}
        hub.watch(viewer, {feed_key(stream_id, feed == "main" and monitor.has_substream(stream_id))})
    now = asyncio.get_running_loop().time()
    monitor.interest.hold(stream_id, now)  # watched from another node: live here meanwhile
    viewer.offer_status()
    tasks = [asyncio.ensure_future(viewer.pump()), asyncio.ensure_future(_status_until_moved(app, viewer, stream_id))]
    try:
        async for message in ws:
            if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.leave(viewer)
        monitor.interest.release(stream_id, asyncio.get_running_loop().time())
        for task in tasks:
            task.cancel()
    return ws


async def _status_until_moved(app: web.Application, viewer: Viewer, stream_id: str) -> None:
    """A status every second; the socket ends when this node stops pulling the stream."""
    while app[CLUSTER].holds(stream_id):
        await asyncio.sleep(STATUS_EVERY_S)
        viewer.offer_status()
    await viewer.ws.close(code=MOVED, message=f"{stream_id} moved to another node at {time.time():.3f}".encode())


async def internal_handover(request: web.Request) -> web.Response:
    epoch = ascii_int(request.query.get("epoch"))
    cameras = [c for c in request.query.get("cameras", "").split(",") if c]
    if not epoch or not cameras:
        return json_error(400, "epoch and cameras are required")
    taken = await request.app[CLUSTER].taken_over(epoch, cameras)
    return web.json_response({"node": request.app[CLUSTER].name, "taken": taken})


async def internal_lease(request: web.Request) -> web.Response:
    node = request.app[CLUSTER]
    return web.json_response({"node": node.name, "renewed_ago_s": node.renewed_ago()})


def add_internal_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/internal/handover", internal_handover, name="cluster:handover")
    router.add_get("/internal/lease", internal_lease, name="cluster:lease")
    router.add_get("/internal/live", internal_live, name="cluster:live")
    router.add_get("/internal/snapshot", internal_snapshot, name="cluster:snapshot")
