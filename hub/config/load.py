"""streams.toml -> frozen, typed config (`hub.config.model`). Everything after this module sees typed objects only.

Pure but for reading the file. `load_config` collects every problem before failing, so `hub check` can
print them all at once, one line each, naming the stream and the field. No problem message ever
contains a password: URLs are shown redacted.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from hub.config import access as config_access
from hub.config import cluster as config_cluster
from hub.config import diagnostics as config_diagnostics
from hub.config import incidents as config_incidents
from hub.config.checks import Checker, check_keys
from hub.config.model import (
    CATEGORIES,
    CLIP_LABELS,
    MAX_CONFIG_BYTES,
    MAX_STREAMS,
    MODES,
    TRANSPORTS,
    URL_SCHEMES,
    Config,
    ConfigError,
    HealthSettings,
    HubSettings,
    Listen,
    MapSettings,
    MonitorSettings,
    SimSettings,
    Stream,
)
from hub.config.sim_source import FAULTS, PICTURE_FAULTS, Fault, SimSource, parse_fault, sim_source
from hub.safe.numbers import ascii_int
from hub.safe.redact import redact_url

_ID = re.compile(r"^[a-z0-9-]{1,64}$")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load_config(path: str | os.PathLike, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file; raises ConfigError listing every problem."""
    source = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError([f"{source}: too big ({size / (1 << 20):.0f} MB): a config is at most {MAX_CONFIG_BYTES >> 20} MB"])
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{source}: not UTF-8 text: {exc.reason} at byte {exc.start}"]) from None
    return parse_config(text, source, os.environ if env is None else env, Path(path).resolve().parent)


def parse_config(text: str, source: str = "<string>", env: Mapping[str, str] | None = None, base: Path | None = None) -> Config:
    """Validate TOML text; raises ConfigError listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: not valid TOML: {exc}"]) from None
    streams = raw.get("streams")
    if isinstance(streams, list) and len(streams) > MAX_STREAMS:
        raise ConfigError(
            [f"{source}: {len(streams)} streams: a hub watches at most {MAX_STREAMS}; split the estate across hubs"]
        )
    check = Checker(source)
    config = _build(raw, check, os.environ if env is None else env, base or Path.cwd())
    if check.problems:
        raise ConfigError(check.problems)
    return config


def _build(raw: dict, check: Checker, env: Mapping[str, str], base: Path) -> Config:
    """`base`: the config's folder, where relative file names (TLS) are found."""
    check_keys(check, "", raw, {"hub", "health", "sim", "map", "monitor", "metrics", "access", "cluster", "incidents", "streams"})
    hub = _hub(check.table(raw, "hub"), check.at("[hub]"), base)
    monitor = _monitor(check.table(raw, "monitor"), check.at("[monitor]"))
    health_table = check.table(raw, "health")
    health = _health(health_table, check.at("[health]"))
    diagnostics = config_diagnostics.parse(health_table, check.at("[health]"))
    sim = _sim(check.table(raw, "sim"), check.at("[sim]"))
    map_ = _map(check.table(raw, "map"), check.at("[map]"))
    streams = _streams(raw.get("streams", []), check, env)
    metrics = config_access.metrics(check.table(raw, "metrics"), check.at("[metrics]"))
    access = config_access.access(check.table(raw, "access"), check.at("[access]"), CATEGORIES)
    cluster = config_cluster.cluster(check.table(raw, "cluster"), check.at("[cluster]"), env)
    incidents = config_incidents.incidents(check.table(raw, "incidents"), check.at("[incidents]"))
    return Config(hub, health, sim, map_, streams, check.source, monitor, metrics, access, diagnostics, cluster, incidents)


def parse_listen(value: object) -> Listen:
    """'HOST:PORT' -> Listen; raises ValueError with a readable reason."""
    if not isinstance(value, str) or ":" not in value:
        raise ValueError(f'expected "HOST:PORT", got {value!r}')
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    if not host or ascii_int(port) is None or not 0 <= int(port) < 65536:
        raise ValueError(f'expected "HOST:PORT" with a port from 0 (any free port) to 65535, got {value!r}')
    return Listen(host, int(port))


def _listen(table: dict, key: str, default: Listen, check: Checker) -> Listen:
    if key not in table:
        return default
    try:
        return parse_listen(table[key])
    except ValueError as exc:
        check.add(key, str(exc))
        return default


def _hub(table: dict, check: Checker, base: Path) -> HubSettings:
    check_keys(
        check,
        "",
        table,
        {"listen", "ingest_processes", "tls_cert", "tls_key", "trusted_proxies", "header_timeout_s", "connections_per_address"},
    )
    processes = table.get("ingest_processes", 1)
    if processes == "auto":
        processes = os.cpu_count() or 1
    elif isinstance(processes, bool) or not isinstance(processes, int) or not 1 <= processes <= 256:
        check.add("ingest_processes", f'expected "auto" or a whole number from 1 to 256, got {processes!r}')
        processes = 1
    return HubSettings(
        _listen(table, "listen", HubSettings.listen, check),
        processes,
        config_access.tls(table, check, base),
        config_access.trusted_proxies(table, check),
        check.number(table, "header_timeout_s", HubSettings.header_timeout_s, above=0.0, at_most=300.0),
        check.number(
            table, "connections_per_address", HubSettings.connections_per_address, above=0, at_most=100_000, integer=True
        ),
    )


def _monitor(table: dict, check: Checker) -> MonitorSettings:
    defaults = MonitorSettings()
    check_keys(check, "", table, set(defaults.__dataclass_fields__))
    modes = dict(defaults.modes)
    raw_modes = check.table(table, "modes")
    for category, mode in raw_modes.items():
        if category not in CATEGORIES:
            check.add(f"modes.{category}", f"unknown category (expected one of {', '.join(CATEGORIES)})")
        elif mode not in MODES:
            check.add(f"modes.{category}", f"{mode!r} is not one of {', '.join(MODES)}")
        else:
            modes[category] = mode
    return MonitorSettings(
        patrol_period_s=check.number(table, "patrol_period_s", defaults.patrol_period_s, above=4.0, at_most=86400.0),
        probe_interval_s=check.number(table, "probe_interval_s", defaults.probe_interval_s, above=0.5, at_most=3600.0),
        patrol_concurrency=check.number(
            table, "patrol_concurrency", defaults.patrol_concurrency, above=0, at_most=1024, integer=True
        ),
        modes=tuple(modes.items()),
        live_grace_s=check.number(table, "live_grace_s", defaults.live_grace_s, above=0.0, at_most=3600.0),
        priority=_priority(table, check, defaults.priority),
        recent_fault_s=check.number(table, "recent_fault_s", defaults.recent_fault_s, above=0.0, at_most=86400.0),
    )


def _priority(table: dict, check: Checker, default: tuple[str, ...]) -> tuple[str, ...]:
    """`priority = ["property", "public-security"]`: categories first in that order, the others after."""
    if "priority" not in table:
        return default
    value = table["priority"]
    if not isinstance(value, list) or any(c not in CATEGORIES for c in value) or len(set(value)) != len(value):
        check.add("priority", f"expected a list of distinct categories from {', '.join(CATEGORIES)}, got {value!r}")
        return default
    return tuple(value) + tuple(c for c in default if c not in value)


def _health(table: dict, check: Checker) -> HealthSettings:
    defaults = HealthSettings()
    check_keys(check, "", table, set(defaults.__dataclass_fields__) | config_diagnostics.HEALTH_KEYS)
    values = {}
    for key in defaults.__dataclass_fields__:
        upper = 1.0 if key == "min_fps_ratio" else 3600.0
        values[key] = check.number(table, key, getattr(defaults, key), above=0.0, at_most=upper)
    return HealthSettings(**values)


def _sim(table: dict, check: Checker) -> SimSettings:
    check_keys(check, "", table, {"listen", "control", "clip_labels", "session_timeout_s"})
    return SimSettings(
        _listen(table, "listen", SimSettings.listen, check),
        _listen(table, "control", SimSettings.control, check),
        check.choice(table, "clip_labels", CLIP_LABELS, "name"),
        check.number(table, "session_timeout_s", 0.0, above=0, at_most=3600),
    )


def _map(table: dict, check: Checker) -> MapSettings:
    check_keys(check, "", table, {"center", "zoom", "tiles"})
    center = check.position(table, "center") or MapSettings.center
    zoom = int(check.number(table, "zoom", MapSettings.zoom, above=-1, at_most=22, integer=True))
    tiles = check.string(table, "tiles", "")
    if tiles and not all(p in tiles for p in ("{z}", "{x}", "{y}")):
        check.add("tiles", f"expected an XYZ URL template with {{z}}, {{x}} and {{y}}, got {tiles!r}")
    return MapSettings(center, zoom, tiles)


_STREAM_KEYS = {
    "id",
    "name",
    "category",
    "site",
    "url",
    "transport",
    "position",
    "fps",
    "tags",
    "fault",
    "mobile",
    "mode",
    "sub_url",
    "ptz",
    "health",
    "model",
    "heading",
    "fov",
}


def _streams(items: object, check: Checker, env: Mapping[str, str]) -> tuple[Stream, ...]:
    if not isinstance(items, list):
        check.add("streams", "expected an array of tables [[streams]]")
        return ()
    streams: list[Stream] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        stream_id = item.get("id") if isinstance(item, dict) else None
        duplicate = isinstance(stream_id, str) and stream_id in seen
        stream = _stream(item, number, check, env)
        if duplicate and isinstance(stream_id, str):  # reported whatever else is wrong with either entry
            check.at(f'stream "{stream_id}"').add(
                "id", f"duplicate id (streams[{seen[stream_id]}] and streams[{number}]): ids must be unique"
            )
        elif isinstance(stream_id, str):
            seen[stream_id] = number
        if stream is not None and not duplicate:
            streams.append(stream)
    return tuple(streams)


def _stream(item: object, number: int, check: Checker, env: Mapping[str, str]) -> Stream | None:
    if not isinstance(item, dict):
        check.add(f"streams[{number}]", "expected a table")
        return None
    stream_id = item.get("id")
    where = check.at(f'stream "{stream_id}"' if isinstance(stream_id, str) else f"streams[{number}]")
    problems_before = len(check.problems)
    check_keys(where, "", item, _STREAM_KEYS)
    if stream_id is None:
        where.add("id", "missing (required)")
    elif not isinstance(stream_id, str) or not _ID.match(stream_id):
        where.add("id", f"{stream_id!r} is not valid: use 1 to 64 of a-z, 0-9 and '-'")
    name = where.string(item, "name", None, required=True)
    category = where.choice(item, "category", CATEGORIES, None, required=True)
    url = _url(item, where, env)
    sim = sim_source(url, where) if url and url.startswith("sim://") else None
    sub_url = _url(item, where, env, key="sub_url", schemes=("rtsp", "rtsps")) if "sub_url" in item else ""
    fault = _fault(item, where, sim)
    position = where.position(item, "position")
    if position is None and "position" not in item and category not in (None, "vehicle"):
        where.add("position", "missing (required for every category but vehicle)")
    stream = Stream(
        id=stream_id if isinstance(stream_id, str) else "",
        name=name or "",
        category=category or "",
        url=url or "",
        site=where.string(item, "site", ""),
        transport=where.choice(item, "transport", TRANSPORTS, "tcp"),
        transport_chosen="transport" in item,
        position=position,
        fps=where.number(item, "fps", None, above=0.0, at_most=240.0),
        tags=where.string_list(item, "tags"),
        fault=fault,
        sim=sim,
        mobile=where.boolean(item, "mobile", False),
        mode=where.choice(item, "mode", MODES, None),
        sub_url=sub_url or "",
        ptz=where.boolean(item, "ptz", False),
        health=config_diagnostics.stream_overrides(item, where),
        model=where.string(item, "model", ""),
        heading=_heading(item, where),
        fov=where.number(item, "fov", None, above=0.0, at_most=360.0),
    )
    if stream.fov is not None and stream.heading is None:
        where.add("fov", "needs heading: the direction the camera looks, in degrees clockwise from north")
    return stream if len(check.problems) == problems_before else None


def _heading(item: dict, where: Checker) -> float | None:
    """Degrees clockwise from north, 0 to under 360."""
    value = where.number(item, "heading", None, above=-360.0, at_most=720.0)
    if value is not None and not 0.0 <= value < 360.0:
        where.add("heading", f"{value} is out of range: expected degrees clockwise from north, 0 to under 360")
        return None
    return value


def _url(
    item: dict, check: Checker, env: Mapping[str, str], key: str = "url", schemes: tuple[str, ...] = URL_SCHEMES
) -> str | None:
    raw = check.string(item, key, None, required=True)
    if raw is None:
        return None
    missing = [name for name in _ENV.findall(raw) if name not in env]
    for name in missing:
        check.add(key, f"environment variable ${{{name}}} is not set")
    if missing:
        return None
    url = _ENV.sub(lambda m: env[m.group(1)], raw)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in schemes:
        check.add(key, f"unsupported URL {redact_url(url)!r}: expected one of {', '.join(s + '://' for s in schemes)}")
        return None
    if not urlsplit(url).hostname:
        check.add(key, f"{redact_url(url)!r} has no host")
        return None
    return url


def _fault(item: dict, check: Checker, sim: SimSource | None) -> Fault | None:
    raw = check.string(item, "fault", None)
    if raw is None:
        return None
    fault = parse_fault(raw)
    if fault is None:
        check.add(
            "fault",
            f"{raw!r} is not valid: expected KIND or KIND@Ns with KIND one of {'|'.join(FAULTS)}, "
            f"or a picture fault KIND[:STRENGTH][@Ns] with KIND one of {'|'.join(PICTURE_FAULTS)} "
            "(strengths: see the README)",
        )
    elif sim is None and isinstance(item.get("url"), str) and not item["url"].startswith("sim://"):
        check.add("fault", "faults apply to simulated (sim://) streams only")
        return None
    return fault
