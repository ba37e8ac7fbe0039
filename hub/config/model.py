"""The typed config: frozen dataclasses for `streams.toml`, and its constants.

Pure data; built by `hub.config.load` and read everywhere after it. Nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.config.access import AccessSettings, IpNetwork, MetricsSettings, TlsSettings
from hub.config.cluster import ClusterSettings
from hub.config.diagnostics import DiagnosticsSettings
from hub.config.incidents import IncidentSettings
from hub.config.sim_source import Fault, SimSource
from hub.safe.redact import redact_url

CATEGORIES = ("public-security", "property", "childcare", "vehicle")
TRANSPORTS = ("tcp", "udp")
MODES = ("auto", "live", "patrol")  # auto: live while the hub's live budget allows, patrolled beyond it
CLIP_LABELS = ("name", "scene")
DEFAULT_MODES = (("public-security", "auto"), ("property", "auto"), ("childcare", "auto"), ("vehicle", "auto"))
DEFAULT_PRIORITY = ("public-security", "property", "childcare", "vehicle")  # among auto cameras of equal need
URL_SCHEMES = ("rtsp", "rtsps", "sim")
MAX_CONFIG_BYTES = 16 << 20  # the 1,555-camera estate is under 1 MB
MAX_STREAMS = 10_000  # per hub; a larger estate is split across hubs


class ConfigError(Exception):
    """A config that cannot be used; `problems` holds one readable line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class HubSettings:
    listen: Listen = Listen("127.0.0.1", 8080)
    ingest_processes: int = 1  # "auto" in the file becomes the number of cores
    tls: TlsSettings = TlsSettings()
    trusted_proxies: tuple[IpNetwork, ...] = ()  # X-Forwarded-For is believed from these only
    header_timeout_s: float = 10.0  # a connection's request headers must arrive within this (also the idle keep-alive)
    connections_per_address: int = 256  # open connections from one address (a NAT of a whole room; proxies are not capped)


@dataclass(frozen=True)
class MonitorSettings:
    """How each stream is watched: live (always connected), on patrol (visited in turn, probed between), or
    auto (live while the live budget the hub learns from its own load allows, patrolled beyond it)."""

    patrol_period_s: float = 300.0  # every patrolled camera's picture checked at least this often
    probe_interval_s: float = 30.0  # media-free RTSP probe of every patrolled camera
    patrol_concurrency: int = 32  # visits at once
    modes: tuple[tuple[str, str], ...] = DEFAULT_MODES  # category -> mode
    live_grace_s: float = 60.0  # a patrolled stream somebody opened stays live this long after the last look
    priority: tuple[str, ...] = DEFAULT_PRIORITY  # auto cameras beyond the first needs: live in this order of category
    recent_fault_s: float = 600.0  # an auto camera that had a fault this recently comes before healthy ones

    def mode_for(self, category: str) -> str:
        return dict(self.modes).get(category, "auto")


@dataclass(frozen=True)
class HealthSettings:
    stall_after_s: float = 5.0
    picture_interval_s: float = 2.0
    frozen_after_s: float = 8.0
    min_fps_ratio: float = 0.5


@dataclass(frozen=True)
class SimSettings:
    listen: Listen = Listen("127.0.0.1", 8554)
    control: Listen = Listen("127.0.0.1", 8555)
    clip_labels: str = "name"  # "name": each camera's clip shows its name; "scene": cameras of one scene share clips
    session_timeout_s: float = 0.0  # end a playing RTSP session its client left silent this long (0: never)


@dataclass(frozen=True)
class MapSettings:
    center: tuple[float, float] = (31.7750, 117.3030)
    zoom: int = 16
    tiles: str = ""


@dataclass(frozen=True)
class Stream:
    id: str
    name: str
    category: str
    url: str = field(repr=False)  # may hold credentials: show `safe_url` instead
    site: str = ""
    transport: str = "tcp"
    transport_chosen: bool = False  # the config names the transport: no fallback to UDP when TCP is refused
    position: tuple[float, float] | None = None
    fps: float | None = None
    tags: tuple[str, ...] = ()
    fault: Fault | None = None
    sim: SimSource | None = None
    mobile: bool = False  # reports its own positions (PUT .../position); vehicles always do
    mode: str | None = None  # live | patrol; None = the category's mode from [monitor] modes
    sub_url: str = field(default="", repr=False)  # optional substream (may hold credentials)
    ptz: bool = False  # the moved check keeps one reference per preset
    health: tuple[tuple[str, object], ...] = ()  # its own picture-check overrides (hub.config.diagnostics)
    model: str = ""  # the camera's make and model, as its ONVIF device information says (`hub onvif add` fills it)
    heading: float | None = None  # degrees clockwise from north: where it looks (incidents: who sees the spot)
    fov: float | None = None  # its horizontal field of view, degrees (with heading)

    @property
    def has_substream(self) -> bool:
        return bool(self.sub_url) or bool(self.sim and self.sim.sub_width)

    @property
    def reports_position(self) -> bool:
        return self.mobile or self.category == "vehicle"

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)


@dataclass(frozen=True)
class Config:
    hub: HubSettings = HubSettings()
    health: HealthSettings = HealthSettings()
    sim: SimSettings = SimSettings()
    map: MapSettings = MapSettings()
    streams: tuple[Stream, ...] = ()
    source: str = "<default>"
    monitor: MonitorSettings = MonitorSettings()
    metrics: MetricsSettings = MetricsSettings()
    access: AccessSettings = AccessSettings()
    diagnostics: DiagnosticsSettings = DiagnosticsSettings()
    cluster: ClusterSettings = ClusterSettings()
    incidents: IncidentSettings = IncidentSettings()

    def stream(self, stream_id: str) -> Stream | None:
        return next((s for s in self.streams if s.id == stream_id), None)

    def mode_of(self, stream: Stream) -> str:
        """The stream's own `mode`, else its category's from [monitor] modes."""
        return stream.mode or self.monitor.mode_for(stream.category)
