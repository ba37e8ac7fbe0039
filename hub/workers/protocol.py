"""What the hub process and its ingest worker processes say to each other. Data only, all picklable.

Commands go down one pipe (hub -> worker); results come back up another (worker -> hub) as one
`Bundle` per `BUNDLE_S`, so thousands of small observations cost one pickle and one pipe write. A
feed key is a stream id, or `<id>/main` for a big wall tile's main-stream reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub import health as h
from hub.config import HealthSettings
from hub.ingest.observations import Observation
from hub.ingest.reader import ReaderSettings
from hub.ingest.remux import Chunk
from hub.patrol.verdict import ProbeOutcome

BUNDLE_S = 0.1
MAX_PENDING_PER_FEED = 512  # observations and chunks held per feed while the hub process is slow to read


@dataclass(frozen=True)
class Start:
    key: str
    settings: ReaderSettings
    live_wanted: bool = False
    pictures_wanted: bool = False


@dataclass(frozen=True)
class Stop:
    key: str
    ticket: int  # echoed in `Bundle.stopped`: two stops of one key can be under way at once (a tile toggled fast)


@dataclass(frozen=True)
class Live:
    key: str
    wanted: bool  # somebody watches the video
    pictures: bool = False  # somebody looks at the snapshots


@dataclass(frozen=True)
class VisitRequest:
    visit_id: int
    stream_id: str
    settings: ReaderSettings
    health: HealthSettings
    nominal_fps: float | None
    last_probe: ProbeOutcome | None


@dataclass(frozen=True)
class SetThrottle:
    picture_factor: float  # the load governor's factor on picture_interval_s


@dataclass(frozen=True)
class SetLease:
    until: float | None  # a cluster node's pull deadline, time.monotonic() (`hub.ingest.pull_lease`); None: none


@dataclass(frozen=True)
class Quit:
    pass


Command = Start | Stop | Live | VisitRequest | SetThrottle | SetLease | Quit


@dataclass(frozen=True)
class FeedState:
    """A worker-side supervisor's bookkeeping the hub shows in records."""

    dropped: int  # observations dropped between reader thread and the worker's loop, or held for the pipe
    retry_at: float | None  # monotonic (CLOCK_MONOTONIC is shared by every process)


@dataclass(frozen=True)
class VisitDone:
    visit_id: int
    health: h.StreamHealth | None  # None when the visit raised
    outcome: object | None  # VisitOutcome
    pictures: tuple = ()
    message: str = ""


@dataclass
class Bundle:
    observations: dict[str, list[Observation]] = field(default_factory=dict)
    chunks: dict[str, list[Chunk]] = field(default_factory=dict)
    states: dict[str, FeedState] = field(default_factory=dict)
    stopped: list[int] = field(default_factory=list)  # tickets of the Stops whose reader thread has exited
    visits: list[VisitDone] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.observations or self.chunks or self.states or self.stopped or self.visits)
