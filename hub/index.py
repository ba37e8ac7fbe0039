"""The common index: one normalised record per stream, the single source of truth.

Runs on the event loop only. The monitor writes records; the API, the event
feed and the metrics read them. Subscribers (SSE clients) get events through
bounded queues: a subscriber that stops reading loses its oldest events, and
is told so, rather than holding memory for ever.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import orjson

from hub.config import Stream
from hub.diagnostics.outages import OutageView
from hub.health import CHECKS, CONNECTING, STATES

EVENT_QUEUE_SIZE = 1024


@dataclass
class StreamRecord:
    id: str
    name: str
    category: str
    site: str
    tags: tuple[str, ...]
    position: tuple[float, float] | None
    nominal_fps: float | None
    reports_position: bool = False  # a vehicle, or a camera the config calls mobile
    position_at: float | None = None
    state: str = CONNECTING
    reasons: tuple[str, ...] = ()
    since: float = field(default_factory=time.time)
    codec: str | None = None
    transport: str | None = None  # how its RTP comes, once opened: "tcp", or "udp" (configured, or TCP refused)
    last_error: str | None = None  # why its last connection failed or ended (redacted), until one opens again
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    bitrate_bps: float | None = None
    keyframe_interval_s: float | None = None
    last_frame_at: float | None = None
    frames_total: int = 0
    bytes_total: int = 0
    reconnects: int = 0
    uptime_ratio: float = 0.0
    failing_checks: tuple[str, ...] = ()
    retry_at: float | None = None  # while reconnecting: when the next attempt starts
    dropped_observations: int = 0  # dropped between reader thread and loop (the loop fell behind)
    snapshot: bytes | None = None
    snapshot_at: float | None = None
    snapshot_seq: int = 0
    picture_changed_at: float | None = None  # start of the current run of identical pictures (frozen since)
    mode: str = "auto"  # as configured: auto | live | patrol
    watching: str = "patrol"  # how it is watched now: live | patrol
    watching_reason: str = ""  # why (hub.monitor.modes)
    check_period_s: float = 0.0  # how often its picture should be checked (live: picture_interval_s; patrol: patrol_period_s)
    promoted: bool = False  # a patrolled stream running live because somebody looks at it
    checked_at: float | None = None  # the last picture check (live: the last decoded picture; patrol: the last visit)
    probed_at: float | None = None  # the last RTSP probe (patrol only)
    shed: bool = False  # a live stream on patrol for now, because the hub is overloaded
    muted: tuple[tuple, ...] = ()  # picture checks muted now: (check, until, reason, by, tripped)
    model: str = ""  # make and model, from the config
    heading: float | None = None  # where it looks, degrees clockwise from north (config)
    fov: float | None = None  # its field of view, degrees (config)
    node: str = ""  # in a cluster: the node that pulls it
    _json: bytes = field(default=b"", repr=False, compare=False)
    _json_of: tuple = field(default=(), repr=False, compare=False)

    @classmethod
    def from_stream(cls, stream: Stream) -> StreamRecord:
        return cls(
            stream.id,
            stream.name,
            stream.category,
            stream.site,
            stream.tags,
            stream.position,
            stream.fps,
            stream.reports_position,
            model=stream.model,
            heading=stream.heading,
            fov=stream.fov,
        )

    def describe(self, stream: Stream) -> None:
        """Take the config's descriptive fields (on reload), keeping measured ones."""
        self.name, self.category, self.site, self.tags, self.model = (
            stream.name,
            stream.category,
            stream.site,
            stream.tags,
            stream.model,
        )
        self.nominal_fps, self.heading, self.fov = stream.fps, stream.heading, stream.fov
        self.reports_position = stream.reports_position
        if stream.position is not None and self.position_at is None:
            self.position = stream.position

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "site": self.site,
            "model": self.model,
            "tags": list(self.tags),
            "position": _position_json(self.position, self.position_at),
            "heading": self.heading,
            "fov": self.fov,
            "state": self.state,
            "reasons": list(self.reasons),
            "since": _round(self.since, 3),
            "codec": self.codec,
            "transport": self.transport,
            "last_error": self.last_error,
            "width": self.width,
            "height": self.height,
            "fps": _round(self.fps, 2),
            "nominal_fps": self.nominal_fps,
            "bitrate_bps": _round(self.bitrate_bps, 0),
            "keyframe_interval_s": _round(self.keyframe_interval_s, 2),
            "last_frame_at": _round(self.last_frame_at, 3),
            "frames_total": self.frames_total,
            "reconnects": self.reconnects,
            "uptime_ratio": round(self.uptime_ratio, 4),
            "snapshot_at": _round(self.snapshot_at, 3),
            "picture_changed_at": _round(self.picture_changed_at, 3),
            "retry_at": _round(self.retry_at, 3),
            "dropped_observations": self.dropped_observations,
            "mode": self.mode,
            "watching": self.watching,
            "watching_reason": self.watching_reason,
            "promoted": self.promoted,
            "checked_at": _round(self.checked_at, 3),
            "probed_at": _round(self.probed_at, 3),
            "shed": self.shed,
            "muted": [{"check": c, "until": u, "reason": r, "by": b, "tripped": t} for c, u, r, b, t in self.muted],
        } | ({"node": self.node} if self.node else {})

    @classmethod
    def from_json(cls, data: dict) -> StreamRecord:
        """A record as `to_json` showed it: another cluster node's camera, as that node shared it
        (`hub.cluster.estate`). What JSON leaves out (snapshots, byte totals) stays empty."""
        position = data.get("position")
        record = cls(data["id"], data["name"], data["category"], data["site"], tuple(data["tags"]),
                     (position["lat"], position["lon"]) if position else None, data.get("nominal_fps"))  # fmt: skip
        for key in _JSON_SCALARS:
            if key in data:
                setattr(record, key, data[key])
        record.position_at = position.get("at") if position else None
        record.reasons = tuple(data.get("reasons", ()))
        record.failing_checks = tuple(r for r in record.reasons if r in CHECKS)
        record.muted = tuple((m["check"], m["until"], m["reason"], m["by"], m["tripped"]) for m in data.get("muted", ()))
        return record

    def _shown(self) -> tuple:
        """Every value `to_json` shows, cheap to compare: the cached JSON is rebuilt only when it changes."""
        return (
            self.name,
            self.category,
            self.site,
            self.tags,
            self.position,
            self.position_at,
            self.state,
            self.reasons,
            self.since,
            self.codec,
            self.transport,
            self.last_error,
            self.width,
            self.height,
            self.fps,
            self.nominal_fps,
            self.bitrate_bps,
            self.keyframe_interval_s,
            self.last_frame_at,
            self.frames_total,
            self.reconnects,
            self.uptime_ratio,
            self.snapshot_at,
            self.picture_changed_at,
            self.retry_at,
            self.dropped_observations,
            self.mode,
            self.watching,
            self.watching_reason,
            self.promoted,
            self.checked_at,
            self.probed_at,
            self.shed,
            self.muted,
            self.model,
            self.heading,
            self.fov,
            self.node,
        )

    def json_bytes(self) -> bytes:
        """`to_json()` serialised, cached: listing 1,555 streams re-serialises only those that changed."""
        shown = self._shown()
        if shown != self._json_of:
            self._json, self._json_of = orjson.dumps(self.to_json()), shown  # ~6x faster than json.dumps
        return self._json

    def tile_status(self) -> dict:
        """What a wall tile needs to tell the truth about its picture (sent on the live socket)."""
        return {
            "state": self.state,
            "reasons": list(self.reasons),
            "codec": self.codec,
            "last_frame_at": _round(self.last_frame_at, 3),
            "snapshot_at": _round(self.snapshot_at, 3),
            "picture_changed_at": _round(self.picture_changed_at, 3),
            "watching": self.watching,
            "checked_at": _round(self.checked_at, 3),
        }


# what `from_json` takes back as it is
_JSON_SCALARS = ("model", "heading", "fov", "state", "since", "codec", "transport", "last_error", "width", "height",
                 "fps", "bitrate_bps", "keyframe_interval_s", "last_frame_at", "frames_total", "reconnects",
                 "uptime_ratio", "snapshot_at", "picture_changed_at", "retry_at", "dropped_observations", "mode",
                 "watching", "watching_reason", "promoted", "checked_at", "probed_at", "shed", "node")  # fmt: skip


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _position_json(position: tuple[float, float] | None, at: float | None) -> dict | None:
    if position is None:
        return None
    return {"lat": position[0], "lon": position[1], "at": _round(at, 3)}


def matches(record, query: str) -> bool:
    """Case-insensitive search over name, id, site and tags (of an index record or its copy in the read door)."""
    query = query.lower()
    fields = (record.name, record.id, record.site, *record.tags)
    return any(query in value.lower() for value in fields)


def select(records, category: str | None = None, state: str | None = None, query: str | None = None) -> list:
    """The records (anything with category, state, name, id, site and tags) that the list filters keep."""
    out = []
    for record in records:
        if category and record.category != category:
            continue
        if state and record.state != state:
            continue
        if query and not matches(record, query):
            continue
        out.append(record)
    return out


def summarise(shown: list[tuple[str, str]]) -> dict:
    """Counts by state and by category of (state, category) pairs: a list's `summary`."""
    by_state = {state: 0 for state in STATES}
    by_category: dict[str, int] = {}
    for state, category in shown:
        by_state[state] = by_state.get(state, 0) + 1
        by_category[category] = by_category.get(category, 0) + 1
    return {"total": len(shown), "by_state": by_state, "by_category": by_category}


class Index:
    def __init__(self) -> None:
        self.records: dict[str, StreamRecord] = {}
        self._subscribers: set[asyncio.Queue] = set()
        self.version = 0  # bumped whenever what readers see may have changed (lets the API cache responses)
        self.ticks = 0  # health evaluations of every stream so far (lets /metrics render once per tick)
        self.hub: dict = {}  # the hub's own load and shedding (hub.load.meter), for /healthz, the page and /metrics
        self.cluster: dict = {}  # on a cluster node, what its pages show of it (`hub.cluster.node`)
        self.outages: dict = {}  # open grouped outages of the whole estate by key (hub.diagnostics.outages.Outage)
        self.outage_view = OutageView()  # the down streams they come from: each person's outages are cut from it

    def touch(self) -> None:
        self.version += 1

    def select(self, category: str | None = None, state: str | None = None, query: str | None = None) -> list[StreamRecord]:
        return select(self.records.values(), category, state, query)

    def summary(self, records: list[StreamRecord] | None = None) -> dict:
        records = list(self.records.values()) if records is None else records
        return summarise([(record.state, record.category) for record in records])

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(EVENT_QUEUE_SIZE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, kind: str, data: dict) -> None:
        """Send an event to every subscriber; a full queue loses its oldest event."""
        self.touch()
        for queue in self._subscribers:
            self.notify(queue, kind, data)

    @staticmethod
    def notify(queue: asyncio.Queue, kind: str, data: dict) -> None:
        """Send an event to one subscriber's queue; a full one loses its oldest event, and says so."""
        if queue.full():
            queue.get_nowait()
            queue.put_nowait(("overflow", {"lost": 1}))
            if queue.full():
                queue.get_nowait()
        queue.put_nowait((kind, data))
