"""Prometheus metrics: a custom collector that reads the index at scrape time.

Who runs where: on the event loop, from the /metrics cache (`hub.web.metrics.cache`). The per-stream
series (42,000 lines for 1,555 streams, about 20 ms) are written `SLICE` records at a time with a
turn of the loop between slices, so no request waits behind a whole render; a render in a worker
thread did not wait less, since the thread and the loop took turns on the interpreter lock, each
turn up to 5 ms. The few hub-wide families come from `generate_latest` on a per-app registry. The
collector copies the list of records first and only reads them. Nothing is registered globally at
import time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from hub.health import STATES
from hub.index import Index
from hub.web.metrics.stream_series import FAMILIES, SeriesLines

LABELS = ["stream", "category"]
SLICE = 100  # streams' series written between two turns of the loop: under a millisecond


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
        "hub_cpu_pressure": (
            "Share of the last 10 s some task on the machine waited for a CPU (Linux PSI; 0 without it)",
            status.get("cpu_pressure", 0.0),
        ),
        "hub_readers_behind_ratio": (
            "Share of the packet batches of the last second that reached the hub more than 1.5 s late (readers falling behind)",
            status.get("readers_behind", 0.0),
        ),
        "hub_memory_bytes": (
            "Resident memory of the hub's processes (the hub and its ingest workers)",
            status.get("rss_bytes", 0),
        ),
    }
    if "patrol_period_s" in status:
        values["hub_patrol_period_seconds"] = (
            "How often each patrolled camera is visited now: patrol_period_s, or longer while this hub patrols more "
            "cameras than it can visit in one (back gradually as the load falls)",
            status["patrol_period_s"],
        )
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


def _cluster_families(status: dict) -> list:
    """This node's part in a cluster (`hub.cluster.node.ClusterNode.status`); nothing on a single node."""
    if not status:
        return []
    node = [status["node"]]
    gauges = {
        "hub_cluster_members": ("Live nodes in the cluster, as this node saw it last", status["members"]),
        "hub_cluster_epoch": ("This node's fencing epoch (new at each join)", status["epoch"]),
        "hub_cluster_claims": ("Cameras this node holds (and pulls)", status["held"]),
        "hub_cluster_capacity_cameras": (
            "Cameras this node offers: live budget plus patrol capacity, lowest of the last 5 min (1e6: not measured yet)",
            status["capacity"],
        ),
        "hub_cluster_unheld_cameras": ("Configured cameras with no live holder in the last view", status["unheld"]),
        "hub_cluster_moving_cameras": (
            "Cameras not yet on the node the assignment puts them on, in the last view (0: the cluster is settled)",
            status["moving"],
        ),
        "hub_cluster_redis_up": ("1 while this node reaches Redis and holds a live heartbeat", float(status["redis_up"])),
        "hub_cluster_redis_latency_seconds": ("Round trip of this node's last heartbeat renewal", status["redis_latency_s"]),
    }
    families: list = []
    for name, (help_text, value) in gauges.items():
        family = GaugeMetricFamily(name, help_text, labels=["node"])
        family.add_metric(node, value)
        families.append(family)
    for name, help_text, value in (
        ("hub_cluster_reassignments", "Times this node computed a new assignment", status["reassignments"]),
        ("hub_cluster_redis_errors", "Cluster steps in which Redis did not answer", status["redis_errors"]),
    ):
        counter = CounterMetricFamily(name, help_text, labels=["node"])
        counter.add_metric(node, value)
        families.append(counter)
    return families


class IndexCollector(Collector):
    """Every stream's series, or only those `visible` allows (a scoped token: the rest do not exist for it);
    on a cluster node only those of the streams it pulls (`own`: the others' come from their nodes), and
    whoever sees everything also gets the node's cluster series (`cluster`)."""

    def __init__(self, index: Index, visible: Callable[[object], bool] | None = None, cluster: Callable[[], dict] | None = None,
                 own: Callable[[object], bool] | None = None):  # fmt: skip
        self.index = index
        self.visible = visible
        self.cluster = cluster
        self.own = own

    def describe(self):
        families = [GaugeMetricFamily("hub_streams", "Streams by category and state", labels=["category", "state"])]
        families.append(_outage_family([]))
        families.append(_watching_family([]))
        idle = {"overloaded": False, "level": 0, "loop_lag_ms": 0.0, "cpu_share": 0.0, "rss_bytes": 0, "live_budget": 0}
        return families + _hub_families(idle, self.visible is None)

    def records(self) -> list:
        """A copy of the list of records this collector shows."""
        records = list(self.index.records.values())
        if self.own is not None:
            records = [r for r in records if self.own(r)]
        return records if self.visible is None else [r for r in records if self.visible(r)]

    def collect(self):
        records = self.records()
        counts: dict[tuple[str, str], int] = {}
        for record in records:
            counts[(record.category, record.state)] = counts.get((record.category, record.state), 0) + 1
        totals = GaugeMetricFamily("hub_streams", "Streams by category and state", labels=["category", "state"])
        for category in sorted({r.category for r in records}):
            for state in STATES:
                totals.add_metric([category, state], counts.get((category, state), 0))
        yield totals
        yield _outage_family(self.index.outage_view.seen_by(self.visible))
        yield _watching_family(records)
        yield from _hub_families(dict(self.index.hub), self.visible is None)
        if self.cluster is not None and self.visible is None:
            yield from _cluster_families(self.cluster())


class MetricsRender:
    """One whole /metrics body: every stream's series (`stream_series`), then the rest (`prometheus_client`)."""

    def __init__(self, index: Index, visible: Callable[[object], bool] | None = None, cluster: Callable[[], dict] | None = None,
                 own: Callable[[object], bool] | None = None):  # fmt: skip
        self.collector = IndexCollector(index, visible, cluster, own)
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(self.collector)
        self._lasting: dict[str, tuple] = {}  # each stream's lines of the last render (`SeriesLines`)

    async def __call__(self) -> bytes:
        records, series = self.collector.records(), SeriesLines(time.time(), self._lasting)
        for start in range(0, len(records), SLICE):
            for record in records[start : start + SLICE]:
                series.add(record)
            await asyncio.sleep(0)
        self._lasting = series.lasting
        parts = []
        for key in FAMILIES:  # a family of 1,555 streams' lines is up to 1.3 MB: a turn of the loop after each
            parts.append(series.family(key))
            await asyncio.sleep(0)
        return b"".join(parts) + generate_latest(self.registry)
