"""Live video for the wall: one WebSocket per browser carries every tile's fMP4 stream.

Runs on the event loop. The browser sends `{"watch": [ids], "quality":
"main"|"sub"}` whenever its tiles change; the hub turns remuxing on for
streams somebody watches and off for the rest. Small tiles ("sub", the
default) play the stream the health reader pulls, which is the substream
where there is one; big tiles ("main") of a stream with a substream get a
second reader on the main stream, started and stopped by the monitor. Each stream's chunks go to its viewers as binary messages
`[kind][id length][id][payload]` (kind 1 = init segment, 2 = fragment),
preceded by a text message `{"type": "init", "stream", "mime"}` so the
browser can create its SourceBuffer. A viewer joins at a keyframe; a viewer
whose socket backs up skips to the next keyframe rather than lag behind live.

Tiles also need the truth about their picture, whether they play video or
show snapshots: `{"follow": [ids]}` (snapshot tiles, no remux) and every
watched id get a text message `{"type": "status", "now", "streams": {id:
{state, reasons, codec, last_frame_at, snapshot_at, picture_changed_at}}}`
at once and then every `STATUS_EVERY_S`, stamped with the hub's clock so the
page can show ages without trusting its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

from aiohttp import WSMsgType, web

from hub.ingest.live_tap import LiveTap
from hub.ingest.remux import INIT, Chunk
from hub.patrol.interest import Interest

log = logging.getLogger("hub.live")

KIND_INIT, KIND_FRAGMENT = 1, 2
MAX_QUEUED = 120  # video messages per viewer (~2 s of 36 tiles' worth of frames) before it skips ahead
MAX_WATCH = 64
MAX_REQUESTS_PER_S = 20
STATUS_EVERY_S = 1.0
USAGE = 'send {"watch": [stream ids], "follow": [stream ids], "quality": "main" or "sub"}'


STATUS_DUE = object()  # queue marker: the status is built when the pump reaches it, so its clock is exact


class Viewer:
    """One browser's socket: a send queue drained by its own task.

    The queue holds at most MAX_QUEUED video messages (a viewer that falls behind skips to the next
    keyframe) plus at most one status marker, which is never skipped: a tile must not lose its status
    because video for other tiles backs up.
    """

    def __init__(self, ws: web.WebSocketResponse, status_for: Callable[[set[str]], str | None]):
        self.ws = ws
        self.queue: asyncio.Queue = asyncio.Queue()
        self.watching: set[str] = set()  # stream ids playing video
        self.feeds: set[str] = set()  # the feeds they play (`feed_key`)
        self.following: set[str] = set()  # status only (snapshot tiles)
        self.waiting_for_keyframe: set[str] = set()
        self._status_for = status_for
        self._status_queued = False
        self.dropped = 0  # video messages skipped because this viewer fell behind

    def offer(self, message: str | bytes, stream_id: str) -> None:
        if self.queue.qsize() >= MAX_QUEUED:
            self.waiting_for_keyframe.add(stream_id)  # too slow: drop, rejoin at the next keyframe
            self.dropped += 1
            return
        self.queue.put_nowait(message)

    def offer_status(self) -> None:
        """Ask for a status message for every stream this viewer shows (one at most waits in the queue)."""
        if not self._status_queued:
            self._status_queued = True
            self.queue.put_nowait(STATUS_DUE)

    async def pump(self) -> None:
        while True:
            message = await self.queue.get()
            if message is STATUS_DUE:
                self._status_queued = False
                message = self._status_for(self.watching | self.following)
                if message is None:
                    continue
            if isinstance(message, str):
                await self.ws.send_str(message)
            else:
                await self.ws.send_bytes(message)


def status_message(records: dict, stream_ids: set[str]) -> str | None:
    """The `status` message for those of `stream_ids` that exist, stamped with the hub's clock."""
    ids = sorted(stream_ids & records.keys())
    if not ids:
        return None
    status = {"type": "status", "now": round(time.time(), 3), "streams": {i: records[i].tile_status() for i in ids}}
    return json.dumps(status, separators=(",", ":"))


def _frame(kind: int, stream_id: str, payload: bytes) -> bytes:
    name = stream_id.encode()
    return bytes((kind, len(name))) + name + payload


def feed_key(stream_id: str, main: bool) -> str:
    """Which feed a tile plays: the health reader's (`<id>`, the substream when there is one) or, for
    big tiles of a stream with a substream, a reader of the main stream (`<id>/main`)."""
    return f"{stream_id}/main" if main else stream_id


def feed_stream(key: str) -> str:
    return key.split("/", 1)[0]


class LiveHub:
    """Viewers per feed, and the taps that feed them. `on_main_feed(stream_id, wanted)` is told when a
    main-stream feed gains its first viewer or loses its last (the monitor runs a reader for it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_main_feed: Callable[[str, bool], None] | None = None):
        self._loop = loop
        self._taps: dict[str, LiveTap] = {}
        self._viewers: dict[str, set[Viewer]] = {}
        self._init: dict[str, Chunk] = {}
        self._on_main_feed = on_main_feed
        self.sockets: set[web.WebSocketResponse] = set()
        self.chunks_sent = 0

    def tap(self, key: str) -> LiveTap:
        tap = self._taps.get(key)
        if tap is None:
            tap = self._taps[key] = LiveTap(self._loop, key, self.on_chunk)
            tap.wanted = bool(self._viewers.get(key))
        return tap

    def watch(self, viewer: Viewer, feeds: set[str]) -> None:
        """Set the feeds (see `feed_key`) one viewer plays."""
        for key in viewer.feeds - feeds:
            self._viewers.get(key, set()).discard(viewer)
            self._update(key)
        for key in feeds - viewer.feeds:
            self._viewers.setdefault(key, set()).add(viewer)
            viewer.waiting_for_keyframe.add(key)
            init = self._init.get(key)
            if init is not None:
                self._send_init(viewer, key, init)
            self._update(key)
        viewer.feeds = set(feeds)

    def leave(self, viewer: Viewer) -> None:
        self.watch(viewer, set())

    def _update(self, key: str) -> None:
        wanted = bool(self._viewers.get(key))
        if key in self._taps:
            self._taps[key].wanted = wanted
        if not wanted:
            self._init.pop(key, None)
            self._viewers.pop(key, None)
        if key != feed_stream(key) and self._on_main_feed is not None:
            self._on_main_feed(feed_stream(key), wanted)

    def watched(self) -> set[str]:
        """Streams with at least one viewer of any of their feeds."""
        return {feed_stream(key) for key, viewers in self._viewers.items() if viewers}

    def _send_init(self, viewer: Viewer, key: str, chunk: Chunk) -> None:
        stream_id = feed_stream(key)  # the page knows streams, not feeds
        viewer.offer(json.dumps({"type": "init", "stream": stream_id, "mime": chunk.mime}), key)
        viewer.offer(_frame(KIND_INIT, stream_id, chunk.data), key)
        viewer.waiting_for_keyframe.add(key)

    def on_chunk(self, key: str, chunk: Chunk) -> None:
        viewers = self._viewers.get(key)
        if not viewers:
            return
        if chunk.kind == INIT:
            self._init[key] = chunk
            for viewer in viewers:
                self._send_init(viewer, key, chunk)
            return
        message = _frame(KIND_FRAGMENT, feed_stream(key), chunk.data)
        for viewer in viewers:
            if key in viewer.waiting_for_keyframe:
                if not chunk.keyframe:
                    continue
                viewer.waiting_for_keyframe.discard(key)
            viewer.offer(message, key)
            self.chunks_sent += 1


def _look_changes(interest: Interest, before: set[str], after: set[str]) -> None:
    """Streams on a wall are held live (patrolled ones are promoted) while the wall shows them."""
    now = asyncio.get_running_loop().time()
    for stream_id in after - before:
        interest.hold(stream_id, now)
    for stream_id in before - after:
        interest.release(stream_id, now)


async def live_socket(request: web.Request) -> web.WebSocketResponse:
    from hub.web.access import ACCESS, ADDRESS, principal
    from hub.web.keys import INDEX, LIVE, MONITOR

    # No per-message deflate: video does not compress, and deflating it would cost the loop for nothing.
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024, compress=False)
    await ws.prepare(request)
    hub, index, monitor = request.app[LIVE], request.app[INDEX], request.app[MONITOR]
    who, service = principal(request), request.app[ACCESS]
    audit = ViewAudit(lambda action, stream, **detail: service.record(who, action, stream, request[ADDRESS], **detail))
    allowed = Allowed(index.records, who.rights, lambda i: service.is_open(who, i))
    interest = monitor.interest
    hub.sockets.add(ws)
    viewer = Viewer(ws, lambda ids: status_message(index.records, ids))
    pump = asyncio.ensure_future(viewer.pump())
    status = asyncio.ensure_future(_send_status(viewer))
    pace = RequestPace()
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            if not pace.allow(time.monotonic()):
                await ws.close(code=1008, message=b"too many requests: at most 20 a second")
                break
            request_ids = _parse_request(message.data, allowed)
            if isinstance(request_ids, str):
                await ws.send_str(json.dumps({"type": "error", "error": request_ids}))
                continue
            before = viewer.watching | viewer.following
            watch, viewer.following, main = request_ids
            if allowed.refused:
                await ws.send_str(json.dumps({"type": "error", "reason_required": sorted(allowed.refused),
                                              "error": "sensitive streams: say why you open them (POST /api/streams/{id}/open)"}))
            hub.watch(viewer, {feed_key(i, main and monitor.has_substream(i)) for i in watch})
            audit.now_watching(watch)
            viewer.watching = watch
            _look_changes(interest, before, viewer.watching | viewer.following)
            viewer.offer_status()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        audit.now_watching(set())
        _look_changes(interest, viewer.watching | viewer.following, set())
        hub.leave(viewer)
        hub.sockets.discard(ws)
        pump.cancel()
        status.cancel()
    return ws


class Allowed:
    """The streams a socket's principal may watch: visible to it, and, if sensitive, opened with a reason.
    `refused` holds the sensitive ones the last request asked for without a reason."""

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

    def now_watching(self, stream_ids: set[str]) -> None:
        now = time.time()
        for stream_id in sorted(self._since.keys() - stream_ids):
            self._record("live_stop", stream_id, seconds=round(now - self._since.pop(stream_id), 1))
        for stream_id in sorted(stream_ids - self._since.keys()):
            self._since[stream_id] = now
            self._record("live_start", stream_id)


class RequestPace:
    """At most MAX_REQUESTS_PER_S watch requests a second per socket: a flooding client is disconnected."""

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
    except (json.JSONDecodeError, AttributeError, TypeError):
        return USAGE
    if quality not in ("main", "sub"):
        return USAGE
    if len(watch_ids) + len(follow_ids) > MAX_WATCH:
        return f"at most {MAX_WATCH} streams per socket"
    allowed.refused = set()
    watch = {i for i in watch_ids if isinstance(i, str) and i in allowed}
    follow = {i for i in follow_ids if isinstance(i, str) and i in allowed} - watch
    return watch, follow, quality == "main"


async def _send_status(viewer: Viewer) -> None:
    while True:
        await asyncio.sleep(STATUS_EVERY_S)
        viewer.offer_status()


async def close_sockets(app: web.Application) -> None:
    from hub.web.keys import LIVE

    for ws in list(app[LIVE].sockets):
        await ws.close(code=1001, message=b"hub shutting down")
