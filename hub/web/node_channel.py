"""This node's side of the internal channel as the one asking: live video, tile status and snapshots
of the cameras another node pulls, for the browsers connected here.

Who runs where: the node's event loop. `NodeChannel.run` (a task of the app, on cluster nodes) keeps one
WebSocket per wanted (stream, feed) open to the stream's holder (`hub.web.internal` there), relays its
video into this node's live hub as if a local reader had sent it, and keeps the holder's latest tile
status. What is wanted comes from the live hub (`LiveHub.demand`: feeds somebody plays, streams
somebody follows), re-read whenever it changes and every `RECHECK_S`. When the camera moves (the holder
closes with 4409, or the shared record names another node) the link is made again to the new holder,
or dropped when this node pulls the camera itself: the browser keeps its one socket to this node and
its tile gets a fresh init segment, as after a reconnect. Every request is signed
(`hub.cluster.channel_auth`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import quote

import aiohttp
from aiohttp import web

from hub.cluster.channel_auth import signed_headers
from hub.ingest.remux import FRAGMENT, INIT, Chunk
from hub.web.live import KIND_INIT, KIND_KEYFRAME, feed_key, feed_stream
from hub.web.middleware import json_error

log = logging.getLogger("hub.cluster")
RECHECK_S = 1.0  # links are checked against what is wanted and who holds what this often
RETRY_S = 1.0  # a link that ended is not made again to the same node sooner
RELAYED_FRESH_S = 3.0  # a relayed status older than this is not used (the shared record is, which says less)
TIMEOUT_S = 10.0
PEER_TIMEOUT_S = 0.5  # a node that cannot reach Redis asks the others this briefly (its lease is short)


class NodeChannel:
    """`node`: the cluster node (its name, secret, what it holds, where the others are)."""

    def __init__(self, node, index):
        self.node, self.index = node, index
        self.live = None  # this node's `hub.web.live.LiveHub`, once the app runs (`attach`)
        self.links: dict[tuple[str, str], tuple[str, asyncio.Task]] = {}  # (stream, feed) -> (holder, relay)
        self.ended_at: dict[tuple[str, str], float] = {}
        self.statuses: dict[str, tuple[dict, float]] = {}  # stream -> (the holder's tile status, when received)
        self._wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    def attach(self, live) -> None:
        self.live = live
        live.on_demand = self._wake.set

    def _signed(self, path: str, method: str = "GET") -> dict[str, str]:
        return signed_headers(self.node.secret, self.node.name, method, path, time.time())

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=TIMEOUT_S))
        return self._session

    def relayed_status(self, stream_id: str) -> dict | None:
        """The holder's own tile status for a stream another node pulls, if fresh."""
        found = self.statuses.get(stream_id)
        return found[0] if found is not None and time.monotonic() - found[1] < RELAYED_FRESH_S else None

    async def snapshot(self, record, width: int | None, wait: bool) -> web.Response:
        """A camera's picture from the node that pulls it."""
        holder = record.node
        address = self.node.address_of(holder) if holder else None
        if address is None:
            return json_error(503, f"no node pulls stream {record.id!r} right now; try again in a few seconds")
        path = f"/internal/snapshot?stream={quote(record.id, safe='')}&wait={int(wait)}" + (f"&width={width}" if width else "")
        try:
            timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
            async with self._session_now().get(address + path, headers=self._signed(path), timeout=timeout) as reply:
                body = await reply.read()
                keep = ("Content-Type", "Cache-Control", "X-Snapshot-At", "X-Snapshot-Age", "X-Stream-State")
                headers = {k: reply.headers[k] for k in keep if k in reply.headers}
                return web.Response(status=reply.status, body=body, headers=headers)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            return json_error(502, f"node {holder} (which pulls {record.id!r}) did not answer: {type(error).__name__}")

    async def peer_renewals(self) -> list[float]:
        """How long ago each other live node renewed its heartbeat, as it says (those that answer, within
        `PEER_TIMEOUT_S`): the cluster node asks when Redis does not answer it."""
        path = "/internal/lease"

        async def ask(address: str) -> float | None:
            timeout = aiohttp.ClientTimeout(total=PEER_TIMEOUT_S)
            try:
                async with self._session_now().get(address + path, headers=self._signed(path), timeout=timeout) as reply:
                    return (await reply.json()).get("renewed_ago_s") if reply.status == 200 else None
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
                return None

        others = [a for name, a in self.node.addresses.items() if name != self.node.name]
        return [age for age in await asyncio.gather(*(ask(a) for a in others)) if isinstance(age, int | float)]

    async def tell_taken(self, holder: str, epoch: int, cameras: list[str]) -> None:
        """Tell `holder` the cameras this node just handed to its claims (epoch `epoch`), so that it pulls
        them at once; if it does not answer, it finds them in Redis at its next step."""
        address = self.node.address_of(holder)
        if address is None:
            return
        path = f"/internal/handover?epoch={epoch}&cameras={','.join(cameras)}"
        timeout = aiohttp.ClientTimeout(total=PEER_TIMEOUT_S)
        try:
            async with self._session_now().post(address + path, headers=self._signed(path, "POST"), timeout=timeout) as reply:
                await reply.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.info("cluster: could not tell %s of %d cameras handed over (%s)", holder, len(cameras), type(error).__name__)

    def wanted(self) -> dict[tuple[str, str], str]:
        """(stream, feed) -> holder, for what this node's browsers want of cameras other nodes pull."""
        if self.live is None:
            return {}
        feeds, follows = self.live.demand()
        want: dict[tuple[str, str], str] = {}
        for key in feeds:
            stream = feed_stream(key)
            want[(stream, "main" if key != stream else "sub")] = ""
        played = {stream for stream, _ in want}
        want |= {(stream, "none"): "" for stream in follows - played}
        out = {}
        for stream, feed in want:
            record = self.index.records.get(stream)
            holder = record.node if record is not None else ""
            if holder and holder != self.node.name and not self.node.holds(stream):
                out[(stream, feed)] = holder
        return out

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()
                self._relink(time.monotonic())
                try:
                    await asyncio.wait_for(self._wake.wait(), RECHECK_S)
                except TimeoutError:
                    pass
        finally:
            for _, task in self.links.values():
                task.cancel()
            if self._session is not None:
                await self._session.close()

    def _relink(self, now: float) -> None:
        wanted = self.wanted()
        for key, (holder, task) in list(self.links.items()):
            if wanted.get(key) != holder or task.done():
                task.cancel()
                del self.links[key]
                self.ended_at[key] = now
        for key, holder in wanted.items():
            if key in self.links or now - self.ended_at.get(key, -RETRY_S) < RETRY_S:
                continue
            address = self.node.address_of(holder)
            if address is not None:
                task = asyncio.get_running_loop().create_task(self._relay(key, holder, address), name=f"relay-{key[0]}")
                self.links[key] = (holder, task)

    async def _relay(self, key: tuple[str, str], holder: str, address: str) -> None:
        """One link: the holder's messages for (stream, feed), into this node's live hub."""
        stream, feed = key
        path = f"/internal/live?stream={quote(stream, safe='')}&feed={feed}"
        into = feed_key(stream, feed == "main")
        try:
            async with self._session_now().ws_connect(address + path, headers=self._signed(path), heartbeat=30) as ws:
                mime = ""
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        mime = self._text(json.loads(message.data), mime)
                    elif message.type == aiohttp.WSMsgType.BINARY and self.live is not None:
                        data = message.data
                        payload = data[2 + data[1] :]
                        chunk = (
                            Chunk(INIT, payload, mime=mime)
                            if data[0] == KIND_INIT
                            else Chunk(FRAGMENT, payload, data[0] == KIND_KEYFRAME)
                        )
                        self.live.on_chunk(into, chunk)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
            log.info("cluster: link to %s for %s ended (%s)", holder, stream, type(error).__name__)
        finally:
            self._wake.set()  # looked at again: moved, or wanted still

    def _text(self, message: dict, mime: str) -> str:
        if message.get("type") == "init":
            return message.get("mime", mime)
        if message.get("type") == "status":
            now = time.monotonic()
            for stream, status in message.get("streams", {}).items():
                self.statuses[stream] = (status, now)
        return mime
