"""Live video for the wall: which browser plays which feed, and the queue that carries it to each.

Runs on the event loop. `LiveHub` turns remuxing on for streams somebody watches and off for the
rest. Small tiles ("sub", the default) play the stream the health reader pulls, which is the
substream where there is one; big tiles ("main") of a stream with a substream get a second reader on
the main stream, started and stopped by the monitor. Each stream's chunks go to its viewers as binary
messages `[kind][id length][id][payload]` (kind 1 = init segment, 2 = fragment, 3 = a fragment that
starts with a keyframe, where a viewer may join: another cluster node relays it so), preceded by a text
message `{"type": "init", "stream", "mime"}` so the browser can create its SourceBuffer. A viewer joins
at a keyframe; a viewer whose socket backs up skips to the next keyframe rather than lag behind live.

Tiles also need the truth about their picture, whether they play video or show snapshots: every
shown id gets a text message `{"type": "status", "now", "streams": {id: {state, reasons, codec,
last_frame_at, snapshot_at, picture_changed_at}}}` at once and then every `STATUS_EVERY_S`, stamped
with the hub's clock so the page can show ages without trusting its own. The socket's handler, which
reads the browser's requests and checks its rights, is `hub.web.live_socket`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

from aiohttp import web

from hub.ingest.live_tap import LiveTap
from hub.ingest.remux import INIT, Chunk

log = logging.getLogger("hub.live")

KIND_INIT, KIND_FRAGMENT, KIND_KEYFRAME = 1, 2, 3
MAX_QUEUED = 120  # video messages per viewer (~2 s of 36 tiles' worth of frames) before it skips ahead
STATUS_EVERY_S = 1.0


STATUS_DUE = object()  # queue marker: the status is built when the pump reaches it, so its clock is exact


class Viewer:
    """One browser's socket: a send queue drained by its own task.

    The queue holds at most MAX_QUEUED video messages (a viewer that falls behind skips to the next
    keyframe) plus at most one status marker, which is never skipped: a tile must not lose its status
    because video for other tiles backs up. A status that is due goes before the video queued ahead of
    it: a tile just opened learns what the hub knows at once, even while a wall of cameras starts.
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

    def say(self, message: str) -> None:
        """A text message (an error, a notice) that is never skipped, in order with the video."""
        self.queue.put_nowait(message)

    def offer_status(self) -> None:
        """Ask for a status message for every stream this viewer shows (one at most waits in the queue)."""
        if not self._status_queued:
            self._status_queued = True
            self.queue.put_nowait(STATUS_DUE)

    async def pump(self) -> None:
        while True:
            message = await self.queue.get()
            if self._status_queued:
                self._status_queued = False
                status = self._status_for(self.watching | self.following)
                if status is not None:
                    await self.ws.send_str(status)
            if message is STATUS_DUE:
                continue
            if isinstance(message, str):
                await self.ws.send_str(message)
            else:
                await self.ws.send_bytes(message)


def status_message(records: dict, stream_ids: set[str], relayed: Callable[[str], dict | None] | None = None) -> str | None:
    """The `status` message for those of `stream_ids` that exist, stamped with the hub's clock. On a cluster
    node, `relayed` gives the fresh status of a stream another node pulls, as that node sends it (its
    shared record lags by seconds); None when there is none."""
    ids = sorted(stream_ids & records.keys())
    if not ids:
        return None
    streams = {i: (relayed and relayed(i)) or records[i].tile_status() for i in ids}
    status = {"type": "status", "now": round(time.time(), 3), "streams": streams}
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
        self._followers: dict[str, set[Viewer]] = {}  # stream id -> viewers showing its status only
        self.on_demand: Callable[[], None] | None = None  # told when the feeds or follows wanted change
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
        self._demand_changed()

    def follow(self, viewer: Viewer, stream_ids: set[str]) -> None:
        """Set the streams one viewer shows the status of only (snapshot tiles)."""
        for stream_id in viewer.following - stream_ids:
            followers = self._followers.get(stream_id, set())
            followers.discard(viewer)
            if not followers:
                self._followers.pop(stream_id, None)
        for stream_id in stream_ids - viewer.following:
            self._followers.setdefault(stream_id, set()).add(viewer)
        viewer.following = set(stream_ids)
        self._demand_changed()

    def demand(self) -> tuple[set[str], set[str]]:
        """(feeds somebody plays, streams somebody follows): what another node may have to send here."""
        return {k for k, v in self._viewers.items() if v}, set(self._followers)

    def _demand_changed(self) -> None:
        if self.on_demand is not None:
            self.on_demand()

    def leave(self, viewer: Viewer) -> None:
        self.watch(viewer, set())
        self.follow(viewer, set())

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
        message = _frame(KIND_KEYFRAME if chunk.keyframe else KIND_FRAGMENT, feed_stream(key), chunk.data)
        for viewer in viewers:
            if key in viewer.waiting_for_keyframe:
                if not chunk.keyframe:
                    continue
                viewer.waiting_for_keyframe.discard(key)
            viewer.offer(message, key)
            self.chunks_sent += 1
