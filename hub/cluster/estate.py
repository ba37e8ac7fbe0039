"""Every node shows the whole estate: its own cameras' records as its monitor keeps them, and every
other camera's as its holder last shared it through Redis.

Who runs where: one `EstateSync` per cluster node, on the event loop, stepped by the node's cluster loop
(`hub.cluster.node.ClusterNode`) every `SHARE_EVERY_S`. Each step writes the records of the cameras
this node holds that are due (`hub.cluster.sharing`), fenced by its claims and epoch
(`ClusterStore.share`), then reads the changes the others wrote since the last step (a Redis Stream)
into the index, publishing `state` and `position` events as the monitor does for its own. Read from
the start, or after falling behind the Stream's trim, it reads every shared record again.

A camera with no live holder (its holder died, or nobody took it yet) shows `connecting`, with no
node: the hub does not know how it is now, and never says more than it knows. When this node takes a
camera, its record starts again from `connecting` (the monitor's verdict follows within seconds);
when it hands one over, the record stays as this node last saw it until the new holder shares its own.
"""

from __future__ import annotations

import logging
import time

import orjson

from hub.cluster.sharing import ShareSchedule
from hub.cluster.store import ClusterStore
from hub.config import Config
from hub.health import CONNECTING
from hub.index import Index, StreamRecord

log = logging.getLogger("hub.cluster")
READ_COUNT = 10_000  # changes read per step at most (a step behind more reads the rest next time)


class EstateSync:
    def __init__(self, store: ClusterStore, index: Index, config: Config):
        self.store, self.index = store, index
        self.schedule = ShareSchedule()
        self.held: set[str] = set()
        self.last_id = "0-0"
        self.synced = False
        self.configure(config)

    @property
    def maxlen(self) -> int:
        """How many changes the Stream keeps: tens of seconds of every camera changing."""
        return max(10_000, 20 * len(self.streams))

    def configure(self, config: Config) -> None:
        """The configured cameras (start, reload): each has a record, and only those."""
        self.streams = {s.id: s for s in config.streams}
        for camera in [c for c in self.index.records if c not in self.streams]:
            del self.index.records[camera]
            self.index.publish("removed", {"id": camera})
        for camera, stream in self.streams.items():
            if camera not in self.index.records:
                self.index.records[camera] = StreamRecord.from_stream(stream)
        self.index.touch()

    def taking(self, cameras: set[str]) -> None:
        """Before this node's monitor starts pulling `cameras`: their records start again, unknown."""
        for camera in cameras - self.held:
            if camera in self.streams:
                self._replace(StreamRecord.from_stream(self.streams[camera]))
        self.held |= cameras

    def holding(self, cameras: set[str]) -> None:
        """What this node's monitor pulls now (after a hand-over: the records it kept stay as last seen)."""
        self.held = set(cameras)
        self.schedule.forget(self.held)

    def holders_alive(self, members: set[str]) -> None:
        """Cameras of a node whose heartbeat is gone are unknown until their new holder shares them."""
        for record in list(self.index.records.values()):
            if record.node and record.node not in members and record.id not in self.held:
                self._replace(StreamRecord.from_stream(self.streams[record.id]))

    async def step(self) -> None:
        """Share what is due of this node's records, then read the others' changes."""
        now = time.monotonic()
        due = self.schedule.due([r for c in self.held if (r := self.index.records.get(c)) is not None], now)
        if due:
            await self.store.share([(camera, body) for camera, body, _ in due], self.maxlen)
            self.schedule.done(due, now)
        if not self.synced:
            last_id, records = await self.store.records()
            for body in records.values():
                self._apply(body)
            self.last_id, self.synced = last_id, True
            return
        changes, missed = await self.store.changes(self.last_id, READ_COUNT)
        if missed:
            log.warning("cluster: fell behind the shared changes; reading every record again")
            self.synced = False
            return
        for change_id, _, body in changes:
            self._apply(body)
            self.last_id = change_id

    def _apply(self, body: bytes) -> None:
        """Another node's record, unless this node holds the camera now or it is not configured here."""
        record = StreamRecord.from_json(orjson.loads(body))
        if record.id in self.held or record.id not in self.streams:
            return
        self._replace(record)

    def _replace(self, record: StreamRecord) -> None:
        """Put `record` in its camera's place (the list keeps its order), telling subscribers what changed."""
        old = self.index.records.get(record.id)
        self.index.records[record.id] = record
        if old is None or (old.state, old.reasons) != (record.state, record.reasons):
            previous = old.state if old is not None else CONNECTING
            self.index.publish("state", {"id": record.id, "state": record.state, "reasons": list(record.reasons),
                                         "previous": previous, "at": round(record.since, 3)})  # fmt: skip
        if (
            record.position is not None
            and old is not None
            and (old.position, old.position_at) != (record.position, record.position_at)
        ):
            lat, lon = record.position
            self.index.publish("position", {"id": record.id, "lat": lat, "lon": lon, "at": record.position_at})
        self.index.touch()
