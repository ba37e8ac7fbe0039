"""The live socket (`GET /api/live`): one WebSocket per browser carries every tile's video and status.

Runs on the event loop, one handler per browser. The browser sends `{"watch": [ids], "follow": [ids],
"quality": "main"|"sub"}` whenever its tiles change: video for `watch`, status only for `follow`
(snapshot tiles). What the socket sends is described in `hub.web.live`.

Rights are evaluated at every message, not once at connect, and checked again all the time
(`hub.web.connections`):
- a stream the principal may not see is left out as if it did not exist; a sensitive one needs a
  reason first (`POST /api/streams/{id}/open`);
- when the principal's rights shrink, the socket drops exactly the streams no longer allowed, says so
  (`{"type": "revoked", "streams": [...]}`), and the audit records `live_stop` with the reason;
- when its session or token ends, the socket closes with code 4401 (4403: the role may no longer
  watch) and the reason as the close message.
Every message the browser sends, text or binary, counts against `MAX_REQUESTS_PER_S`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from aiohttp import WSMsgType, web

from hub.auth.service import Principal
from hub.patrol.interest import Interest
from hub.web.access import ACCESS, ADDRESS, principal
from hub.web.connections import CONNECTIONS
from hub.web.keys import CHANNEL, CLUSTER, INDEX, LIVE, MONITOR
from hub.web.live import STATUS_EVERY_S, Viewer, feed_key, status_message

MAX_WATCH = 64
MAX_REQUESTS_PER_S = 20
USAGE = 'send {"watch": [stream ids], "follow": [stream ids], "quality": "main" or "sub"}'
REVOKED = "rights revoked"
MAX_CLOSE_MESSAGE = 120  # bytes: a WebSocket close frame's reason must fit in 123


async def live_socket(request: web.Request) -> web.WebSocketResponse:
    # No per-message deflate: video does not compress, and deflating it would cost the loop for nothing.
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024, compress=False)
    await ws.prepare(request)
    session = LiveSession(request, ws)
    try:
        async for message in ws:
            if not session.pace.allow(time.monotonic()):
                await ws.close(code=1008, message=b"too many messages: at most 20 a second")
                break
            if not session.still_allowed():
                break
            if message.type == WSMsgType.TEXT:
                session.handle(message.data)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        await session.finish()
    return ws


class LiveSession:
    """One browser's socket: its viewer, what it shows, and the connection whose rights it runs on."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse):
        app = request.app
        self.ws, self.index, self.hub, self.monitor = ws, app[INDEX], app[LIVE], app[MONITOR]
        self.service, self.connections = app[ACCESS], app[CONNECTIONS]
        self.connection = self.connections.open(principal(request), "live", self.on_rights)
        address = request[ADDRESS]
        self.audit = ViewAudit(
            lambda action, stream, **detail: self.service.record(self.connection.principal, action, stream, address, **detail)
        )
        relayed = app[CHANNEL].relayed_status if CHANNEL in app else None  # others' cameras, fresh
        self.viewer = Viewer(ws, lambda ids: status_message(self.index.records, ids, relayed))
        self.pace = RequestPace()
        self.main = False
        # whether a big tile plays a camera's main stream: on a cluster node, for other nodes' cameras too
        self.has_substream = app[CLUSTER].has_substream if CLUSTER in app else self.monitor.has_substream
        self.hub.sockets.add(ws)
        self._tasks = [asyncio.ensure_future(self.viewer.pump()), asyncio.ensure_future(_send_status(self.viewer))]
        self._closer = asyncio.ensure_future(self._close_when_ended())

    def allowed(self, who: Principal) -> Allowed:
        return Allowed(self.index.records, who.rights, lambda stream_id: self.service.is_open(who, stream_id))

    def still_allowed(self) -> bool:
        """Rights are evaluated per message: False once the session or token has ended."""
        return self.connections.check(self.connection) is not None

    def handle(self, text: str) -> None:
        allowed = self.allowed(self.connection.principal)
        parsed = _parse_request(text, allowed)
        if isinstance(parsed, str):
            self.viewer.say(json.dumps({"type": "error", "error": parsed}))
            return
        if allowed.refused:
            self.viewer.say(
                json.dumps(
                    {
                        "type": "error",
                        "reason_required": sorted(allowed.refused),
                        "error": "sensitive streams: say why you open them (POST /api/streams/{id}/open)",
                    }
                )
            )
        watch, follow, main = parsed
        self.show(watch, follow, main)

    def show(self, watch: set[str], follow: set[str], main: bool, reason: str | None = None) -> None:
        before = self.viewer.watching | self.viewer.following
        self.main = main
        self.hub.watch(self.viewer, {feed_key(i, main and self.has_substream(i)) for i in watch})
        self.audit.now_watching(watch, reason)
        self.viewer.watching = watch
        self.hub.follow(self.viewer, follow)
        _look_changes(self.monitor.interest, before, watch | follow)
        self.viewer.offer_status()

    def on_rights(self, who: Principal) -> None:
        """The principal's rights changed: keep what is still allowed, drop (and say) the rest."""
        allowed = self.allowed(who)
        watch = {i for i in self.viewer.watching if i in allowed}
        follow = {i for i in self.viewer.following if i in allowed}
        dropped = (self.viewer.watching | self.viewer.following) - watch - follow
        if dropped:
            self.show(watch, follow, self.main, REVOKED)
            self.viewer.say(
                json.dumps(
                    {
                        "type": "revoked",
                        "streams": sorted(dropped),
                        "error": "your rights changed: these streams are no longer shown to you",
                    }
                )
            )

    async def _close_when_ended(self) -> None:
        await self.connection.ended.wait()
        why = self.connection.why.encode()[:MAX_CLOSE_MESSAGE]
        await self.ws.close(code=self.connection.code, message=why)

    async def finish(self) -> None:
        self.connections.close(self.connection)
        self.audit.now_watching(set(), self.connection.why or None)
        _look_changes(self.monitor.interest, self.viewer.watching | self.viewer.following, set())
        self.hub.leave(self.viewer)
        self.hub.sockets.discard(self.ws)
        for task in self._tasks:
            task.cancel()
        if self.connection.ended.is_set():
            await asyncio.gather(self._closer, return_exceptions=True)  # the close frame with its reason goes out
        else:
            self._closer.cancel()


def _look_changes(interest: Interest, before: set[str], after: set[str]) -> None:
    """Streams on a wall are held live (patrolled ones are promoted) while the wall shows them."""
    now = asyncio.get_running_loop().time()
    for stream_id in after - before:
        interest.hold(stream_id, now)
    for stream_id in before - after:
        interest.release(stream_id, now)


class Allowed:
    """The streams a socket's principal may watch: visible to it, and, if sensitive, opened with a reason.
    `refused` holds the sensitive ones asked for without a reason."""

    def __init__(self, records: dict, rights, is_open: Callable[[str], bool]):
        self.records, self.rights, self.is_open = records, rights, is_open
        self.refused: set[str] = set()

    def __contains__(self, stream_id: object) -> bool:
        record = self.records.get(stream_id)
        if record is None or not self.rights.may_see(record):
            return False
        if self.rights.is_sensitive(record) and not self.is_open(record.id):
            self.refused.add(record.id)
            return False
        return True


class ViewAudit:
    """Live-view start and stop, with how long, for the audit trail (`record(action, stream, **detail)`)."""

    def __init__(self, record: Callable[..., None]):
        self._record = record
        self._since: dict[str, float] = {}

    def now_watching(self, stream_ids: set[str], reason: str | None = None) -> None:
        """`reason`: why the streams no longer watched stopped, when it was not the viewer's choice."""
        now = time.time()
        why = {"reason": reason} if reason else {}
        for stream_id in sorted(self._since.keys() - stream_ids):
            self._record("live_stop", stream_id, seconds=round(now - self._since.pop(stream_id), 1), **why)
        for stream_id in sorted(stream_ids - self._since.keys()):
            self._since[stream_id] = now
            self._record("live_start", stream_id)


class RequestPace:
    """At most MAX_REQUESTS_PER_S messages a second per socket: a flooding client is disconnected."""

    def __init__(self) -> None:
        self._window_start, self._count = 0.0, 0

    def allow(self, now: float) -> bool:
        if now - self._window_start >= 1.0:
            self._window_start, self._count = now, 0
        self._count += 1
        return self._count <= MAX_REQUESTS_PER_S


def _parse_request(text: str, allowed: Allowed) -> tuple[set[str], set[str], bool] | str:
    """`{"watch": [ids], "follow": [ids], "quality": "main"|"sub"}` -> (video ids, status-only ids, main?),
    or an error message. "sub" (the default) plays each stream's substream where it has one. Ids not
    in `allowed` are left out, as if they did not exist."""
    try:
        body = json.loads(text)
        watch_ids, follow_ids = body.get("watch", []), body.get("follow", [])
        quality = body.get("quality", "sub")
        if not isinstance(watch_ids, list) or not isinstance(follow_ids, list):
            return USAGE
    except (json.JSONDecodeError, AttributeError, TypeError, RecursionError):
        return USAGE
    if quality not in ("main", "sub"):
        return USAGE
    if len(watch_ids) + len(follow_ids) > MAX_WATCH:
        return f"at most {MAX_WATCH} streams per socket"
    watch = {i for i in watch_ids if isinstance(i, str) and i in allowed}
    follow = {i for i in follow_ids if isinstance(i, str) and i in allowed} - watch
    return watch, follow, quality == "main"


async def _send_status(viewer: Viewer) -> None:
    while True:
        await asyncio.sleep(STATUS_EVERY_S)
        viewer.offer_status()


async def close_sockets(app: web.Application) -> None:
    for ws in list(app[LIVE].sockets):
        await ws.close(code=1001, message=b"hub shutting down")
