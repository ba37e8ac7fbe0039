"""The per-stream series of /metrics, written straight into Prometheus' text format.

Who runs where: on the event loop, in the metrics render (`hub.web.metrics.collector.MetricsRender`),
a slice of records at a time, over a copy of the list of records, which it only reads. About 27 series
per stream make 42,000 lines for the 1,555-camera estate. `prometheus_client` builds a sample object
per line, validates it and formats it again, about ten microseconds a line: 0.4 s of a core per
render. Written here directly the same lines take a twentieth of that. The output is what `generate_latest`
writes for the same families, byte for byte (labels in name order, values as `floatToGoString`
writes them; a unit test compares the two), and the rest of /metrics still comes from
`prometheus_client`. Written by hand because the library has no faster path for many labelled series.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.utils import floatToGoString

from hub.health import CHECKS, STATES, UP_STATES

# (name as exposed, type, help); counters are exposed with `_total`, as prometheus_client does
FAMILIES = {
    "up": ("hub_stream_up", "gauge", "1 while the stream is online or degraded, else 0"),
    "state": ("hub_stream_state", "gauge", "1 for the stream's current state, 0 for the others"),
    "frames": ("hub_stream_frames_total", "counter", "Video frames received"),
    "bytes": ("hub_stream_bytes_total", "counter", "Video payload bytes received"),
    "reconnects": ("hub_stream_reconnects_total", "counter", "Reconnections after the first connection"),
    "fps": ("hub_stream_fps", "gauge", "Measured frames per second (sliding window)"),
    "age": ("hub_stream_last_frame_age_seconds", "gauge", "Seconds since the last frame arrived"),
    "keyframe": ("hub_stream_keyframe_interval_seconds", "gauge", "Measured time between keyframes"),
    "check": ("hub_stream_check_failing", "gauge", "1 while a picture or flow check fails"),
    "checked": (
        "hub_stream_check_age_seconds",
        "gauge",
        "Seconds since the stream's picture was last checked (live: the last sampled picture; patrol: the last visit)",
    ),
    "period": (
        "hub_stream_check_period_seconds",
        "gauge",
        "How often the stream's picture should be checked (live: picture_interval_s; patrol: the patrol period kept)",
    ),
    "info": ("hub_stream_info", "gauge", "Always 1: the stream's site and monitoring mode, to join on `stream`"),
}


NAMES = {key: name for key, (name, _, _) in FAMILIES.items()}


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _lasting_lines(r) -> tuple[str, dict[str, str]]:
    """A stream's labels and, per family, its lines that stay the same until the record changes (every
    family but the two ages, which grow with the clock)."""
    names, go = NAMES, floatToGoString
    category, stream = f'category="{_escape(r.category)}"', f'stream="{_escape(r.id)}"'
    node = f',node="{_escape(r.node)}"' if r.node else ""  # a cluster node's streams name it; labels in name order
    labels = f"{{{category}{node},{stream}}}"
    out = {
        "up": f"{names['up']}{labels} {go(1.0 if r.state in UP_STATES else 0.0)}\n",
        "state": "".join(
            f'{names["state"]}{{{category}{node},state="{state}",{stream}}} {go(1.0 if r.state == state else 0.0)}\n'
            for state in STATES
        ),
        "frames": f"{names['frames']}{labels} {go(r.frames_total)}\n",
        "bytes": f"{names['bytes']}{labels} {go(r.bytes_total)}\n",
        "reconnects": f"{names['reconnects']}{labels} {go(r.reconnects)}\n",
    }
    if r.fps is not None:
        out["fps"] = f"{names['fps']}{labels} {go(r.fps)}\n"
    if r.keyframe_interval_s is not None:
        out["keyframe"] = f"{names['keyframe']}{labels} {go(r.keyframe_interval_s)}\n"
    out["check"] = "".join(
        f'{names["check"]}{{{category},check="{check}"{node},{stream}}} {go(1.0 if check in r.failing_checks else 0.0)}\n'
        for check in CHECKS
    )
    if r.check_period_s:
        out["period"] = f"{names['period']}{labels} {go(r.check_period_s)}\n"
    out["info"] = f'{names["info"]}{{{category},mode="{_escape(r.mode)}"{node},site="{_escape(r.site)}",{stream}}} {go(1.0)}\n'
    return labels, out


def _lasting_key(r) -> tuple:
    """Everything `_lasting_lines` reads: the same key, the same lines."""
    return (r.id, r.category, r.state, r.frames_total, r.bytes_total, r.reconnects, r.fps, r.keyframe_interval_s,
            r.failing_checks, r.check_period_s, r.mode, r.site, r.node)  # fmt: skip


class SeriesLines:
    """Every stream's series, gathered a record at a time (`add`) and written family by family (`body`: all
    of a family's lines together, as the format asks), so that a render can take turns with the loop.

    A stream's lines are kept from one render to the next (`lasting`, by stream id) and written again only
    when its record changed: between two renders most of an estate's 1,555 records did not, and only the
    ages are new."""

    def __init__(self, now: float, lasting: dict[str, tuple] | None = None):
        self.now = now
        self.parts: dict[str, list[str]] = {key: [] for key in FAMILIES}
        self.previous = lasting or {}
        self.lasting: dict[str, tuple] = {}  # this render's, for the next: streams gone since are dropped

    def add(self, r) -> None:
        key = _lasting_key(r)
        kept = self.previous.get(r.id)
        if kept is None or kept[0] != key:
            kept = (key, *_lasting_lines(r))
        self.lasting[r.id] = kept
        _, labels, lines = kept
        parts, now, go = self.parts, self.now, floatToGoString
        for family, text in lines.items():
            parts[family].append(text)
        if r.last_frame_at is not None:
            parts["age"].append(f"{NAMES['age']}{labels} {go(max(0.0, now - r.last_frame_at))}\n")
        if r.checked_at is not None:
            parts["checked"].append(f"{NAMES['checked']}{labels} {go(max(0.0, now - r.checked_at))}\n")

    def family(self, key: str) -> bytes:
        """One family's text: its header and every stream's lines."""
        name, kind, text = FAMILIES[key]
        return (f"# HELP {name} {_help(text)}\n# TYPE {name} {kind}\n" + "".join(self.parts[key])).encode()

    def body(self) -> bytes:
        return b"".join(self.family(key) for key in FAMILIES)


def stream_series(records: Iterable, now: float) -> bytes:
    """Every stream's series in one go."""
    series = SeriesLines(now)
    for r in records:
        series.add(r)
    return series.body()
