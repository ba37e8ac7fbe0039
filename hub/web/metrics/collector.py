"""Prometheus metrics: a custom collector that reads the index at scrape time.

Who runs where: the /metrics handler runs `generate_latest` on a per-app
registry in a worker thread (formatting 20,000 samples for 1,555 streams takes
long enough to delay other requests if it ran on the loop); the collector
copies the list of records first and only reads them. Nothing is registered
globally at import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from hub.health import CHECKS, STATES, UP_STATES
from hub.index import Index

LABELS = ["stream", "category"]


def _families() -> dict[str, GaugeMetricFamily | CounterMetricFamily]:
    return {
        "up": GaugeMetricFamily("hub_stream_up", "1 while the stream is online or degraded, else 0", labels=LABELS),
        "state": GaugeMetricFamily(
            "hub_stream_state", "1 for the stream's current state, 0 for the others", labels=LABELS + ["state"]
        ),
        "frames": CounterMetricFamily("hub_stream_frames", "Video frames received", labels=LABELS),
        "bytes": CounterMetricFamily("hub_stream_bytes", "Video payload bytes received", labels=LABELS),
        "reconnects": CounterMetricFamily("hub_stream_reconnects", "Reconnections after the first connection", labels=LABELS),
        "fps": GaugeMetricFamily("hub_stream_fps", "Measured frames per second (sliding window)", labels=LABELS),
        "age": GaugeMetricFamily("hub_stream_last_frame_age_seconds", "Seconds since the last frame arrived", labels=LABELS),
        "keyframe": GaugeMetricFamily("hub_stream_keyframe_interval_seconds", "Measured time between keyframes", labels=LABELS),
        "check": GaugeMetricFamily(
            "hub_stream_check_failing", "1 while a picture or flow check fails", labels=LABELS + ["check"]
        ),
        "checked": GaugeMetricFamily(
            "hub_stream_check_age_seconds",
            "Seconds since the stream's picture was last checked (live: the last sampled picture; patrol: the last visit)",
            labels=LABELS,
        ),
        "period": GaugeMetricFamily(
            "hub_stream_check_period_seconds",
            "How often the stream's picture should be checked (live: picture_interval_s; patrol: patrol_period_s)",
            labels=LABELS,
        ),
        "info": GaugeMetricFamily(
            "hub_stream_info",
            "Always 1: the stream's site and monitoring mode, to join on `stream`",
            labels=LABELS + ["site", "mode"],
        ),
    }


def _hub_families(status: dict, whole_estate: bool = True) -> list[GaugeMetricFamily]:
    """The hub's own load (hub.load.meter), empty before the meter's first report. The live budget and
    the live count are counts of the whole estate: for whoever sees all of it only."""
    if not status:
        return []
    values = {
        "hub_overloaded": ("1 while the hub sheds work because it is overloaded", float(status["overloaded"])),
        "hub_shed_level": (
            "Load-shedding level: 0 none, 1-2 picture sampling slowed, 3-4 patrol concurrency cut too",
            status["level"],
        ),
        "hub_loop_lag_seconds": ("Worst lateness of the hub's event loop over the last second", status["loop_lag_ms"] / 1000),
        "hub_cpu_share": ("CPU used by the hub's processes as a share of every core", status["cpu_share"]),
        "hub_memory_bytes": (
            "Resident memory of the hub's processes (the hub and its ingest workers)",
            status.get("rss_bytes", 0),
        ),
    }
    if whole_estate and "live_budget" in status:
        values["hub_live_budget"] = (
            "How many cameras in mode auto may be live, learnt from the hub's own load",
            status["live_budget"],
        )
        values["hub_live_streams"] = ("Cameras watched live now (every mode)", status.get("live_streams", 0))
    return [GaugeMetricFamily(name, help_text, value=value) for name, (help_text, value) in values.items()]


def _watching_family(records: list) -> GaugeMetricFamily:
    """How the streams are watched now and why: live or on patrol, and the reason (`hub.monitor.modes`)."""
    family = GaugeMetricFamily(
        "hub_streams_watching", "Streams by how they are watched now and why", labels=["watching", "reason"]
    )
    counts: dict[tuple[str, str], int] = {}
    for record in records:
        key = (record.watching, record.watching_reason)
        counts[key] = counts.get(key, 0) + 1
    for (watching, reason), count in sorted(counts.items()):
        family.add_metric([watching, reason], count)
    return family


def _outage_family(outages: list) -> GaugeMetricFamily:
    """Open grouped outages: how many cameras of each site or tag are down together (a scoped token's
    are grouped from the cameras it may see only)."""
    family = GaugeMetricFamily(
        "hub_outage_cameras",
        "Cameras down together in an open grouped outage of a site or tag",
        labels=["kind", "group", "reason"],
    )
    for outage in outages:
        family.add_metric([outage.kind, outage.name, outage.reason], len(outage.streams))
    return family


class IndexCollector(Collector):
    """Every stream's series, or only those `visible` allows (a scoped token: the rest do not exist for it)."""

    def __init__(self, index: Index, visible: Callable[[object], bool] | None = None):
        self.index = index
        self.visible = visible

    def describe(self):
        families = list(_families().values())
        families.append(GaugeMetricFamily("hub_streams", "Streams by category and state", labels=["category", "state"]))
        families.append(_outage_family([]))
        families.append(_watching_family([]))
        idle = {"overloaded": False, "level": 0, "loop_lag_ms": 0.0, "cpu_share": 0.0, "rss_bytes": 0, "live_budget": 0}
        return families + _hub_families(idle, self.visible is None)

    def _records(self) -> list:
        for _ in range(3):  # the loop may add or remove streams (a reload) while a worker thread copies
            try:
                records = list(self.index.records.values())
                return records if self.visible is None else [r for r in records if self.visible(r)]
            except RuntimeError:
                continue
        return []

    def collect(self):
        families = _families()
        counts: dict[tuple[str, str], int] = {}
        now = time.time()
        records = self._records()
        for record in records:
            labels = [record.id, record.category]
            families["up"].add_metric(labels, 1.0 if record.state in UP_STATES else 0.0)
            for state in STATES:
                families["state"].add_metric(labels + [state], 1.0 if record.state == state else 0.0)
            families["frames"].add_metric(labels, record.frames_total)
            families["bytes"].add_metric(labels, record.bytes_total)
            families["reconnects"].add_metric(labels, record.reconnects)
            if record.fps is not None:
                families["fps"].add_metric(labels, record.fps)
            if record.last_frame_at is not None:
                families["age"].add_metric(labels, max(0.0, now - record.last_frame_at))
            if record.keyframe_interval_s is not None:
                families["keyframe"].add_metric(labels, record.keyframe_interval_s)
            if record.checked_at is not None:
                families["checked"].add_metric(labels, max(0.0, now - record.checked_at))
            if record.check_period_s:
                families["period"].add_metric(labels, record.check_period_s)
            families["info"].add_metric(labels + [record.site, record.mode], 1.0)
            for check in CHECKS:
                families["check"].add_metric(labels + [check], 1.0 if check in record.failing_checks else 0.0)
            counts[(record.category, record.state)] = counts.get((record.category, record.state), 0) + 1
        totals = GaugeMetricFamily("hub_streams", "Streams by category and state", labels=["category", "state"])
        for category in sorted({r.category for r in records}):
            for state in STATES:
                totals.add_metric([category, state], counts.get((category, state), 0))
        yield from families.values()
        yield totals
        yield _outage_family(self.index.outage_view.seen_by(self.visible))
        yield _watching_family(records)
        yield from _hub_families(dict(self.index.hub), self.visible is None)


def create_registry(index: Index, visible: Callable[[object], bool] | None = None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(IndexCollector(index, visible))
    return registry
