"""The simulator's control API (aiohttp, on the simulator's event loop): set, clear and list faults;
list the RTSP sessions playing each feed."""

from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web

from hub.config import FAULTS, parse_fault
from hub.sim.faults import FaultBoard
from hub.sim.picture_faults import PICTURE_FAULTS

BOARD = web.AppKey("board", FaultBoard)
SESSIONS: web.AppKey[Callable[[], dict[str, dict[str, int]]]] = web.AppKey("sessions")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": request.app[BOARD].describe()})


async def list_sessions(request: web.Request) -> web.Response:
    """{"sessions": {feed path: sessions playing now}, "played": {feed path: sessions that ever played it}}
    for every feed (`<id>` and `<id>/sub`)."""
    return web.json_response(request.app[SESSIONS]())


async def set_fault(request: web.Request) -> web.Response:
    board = request.app[BOARD]
    stream_id = request.match_info["id"]
    if not board.has(stream_id):
        return _error(404, f"no simulated stream {stream_id!r}")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, 'body must be JSON like {"fault": "freeze"}')
    text = body.get("fault") if isinstance(body, dict) else None
    fault = parse_fault(text) if isinstance(text, str) else None
    if fault is None or fault.after_s:
        return _error(
            400,
            f'"fault" must be one of {"|".join(FAULTS)}, or a picture fault KIND[:STRENGTH] with KIND one of '
            f"{'|'.join(PICTURE_FAULTS)}",
        )
    await board.apply(stream_id, fault)
    return web.json_response({"stream": stream_id, "fault": fault.name})


async def clear_fault(request: web.Request) -> web.Response:
    board = request.app[BOARD]
    stream_id = request.match_info["id"]
    if not board.has(stream_id):
        return _error(404, f"no simulated stream {stream_id!r}")
    await board.apply(stream_id, None)
    return web.json_response({"stream": stream_id, "fault": None})


@web.middleware
async def json_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason)


def create_control_app(board: FaultBoard, sessions: Callable[[], dict[str, dict[str, int]]]) -> web.Application:
    app = web.Application(middlewares=[json_errors])
    app[BOARD] = board
    app[SESSIONS] = sessions
    app.router.add_get("/sessions", list_sessions)
    app.router.add_get("/faults", list_faults)
    app.router.add_post("/faults/{id}", set_fault)
    app.router.add_delete("/faults/{id}", clear_fault)
    return app
