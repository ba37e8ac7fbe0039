"""The per-stream series of /metrics are written by hand for speed: byte for byte what prometheus_client
writes for the same families (hub.web.metrics.stream_series), and readable by its parser."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from hub.health import CHECKS, STATES, UP_STATES
from hub.index import Index, StreamRecord
from hub.web.metrics.collector import SLICE, MetricsRender
from hub.web.metrics.stream_series import FAMILIES, stream_series

NOW = 1_800_000_000.0


def records(node: str = "") -> list[StreamRecord]:
    odd = StreamRecord('gate "north"\\1\nb', "Gate", "property", 'site "A"', (), (31.7, 117.3), 25.0)
    odd.state, odd.failing_checks, odd.fps, odd.last_frame_at, odd.checked_at = "degraded", ("frozen",), 24.96, NOW - 3.5, NOW - 1
    odd.frames_total, odd.bytes_total, odd.reconnects, odd.keyframe_interval_s, odd.check_period_s = 123456, 10**12, 2, 2.0, 2.0
    odd.mode = "auto"
    quiet = StreamRecord("cam-2", "Quiet", "childcare", "", (), None, None)  # never connected: no rates, no ages
    odd.node = quiet.node = node
    return [odd, quiet]


class Reference:
    """The same series through prometheus_client, as /metrics wrote them before (`node`: a cluster node's
    streams, with a `node` label)."""

    def __init__(self, node: str = ""):
        self.node = node

    def collect(self):
        labels = ["stream", "category"] + (["node"] if self.node else [])
        made = {}
        for key, (name, kind, text) in FAMILIES.items():
            extra = {"state": ["state"], "check": ["check"], "info": ["site", "mode"]}.get(key, [])
            family = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            made[key] = family(name.removesuffix("_total"), text, labels=labels + extra)
        for r in records(self.node):
            base = [r.id, r.category] + ([r.node] if self.node else [])
            made["up"].add_metric(base, 1.0 if r.state in UP_STATES else 0.0)
            for state in STATES:
                made["state"].add_metric(base + [state], 1.0 if r.state == state else 0.0)
            made["frames"].add_metric(base, r.frames_total)
            made["bytes"].add_metric(base, r.bytes_total)
            made["reconnects"].add_metric(base, r.reconnects)
            for key, value in (("fps", r.fps), ("keyframe", r.keyframe_interval_s)):
                if value is not None:
                    made[key].add_metric(base, value)
            for key, at in (("age", r.last_frame_at), ("checked", r.checked_at)):
                if at is not None:
                    made[key].add_metric(base, max(0.0, NOW - at))
            if r.check_period_s:
                made["period"].add_metric(base, r.check_period_s)
            made["info"].add_metric(base + [r.site, r.mode], 1.0)
            for check in CHECKS:
                made["check"].add_metric(base + [check], 1.0 if check in r.failing_checks else 0.0)
        yield from made.values()


@pytest.mark.parametrize("node", ["", 'node "b"\\2'])
def test_the_hand_written_series_are_what_prometheus_client_writes(node):
    registry = CollectorRegistry()
    registry.register(Reference(node))
    assert stream_series(records(node), NOW).decode() == generate_latest(registry).decode()


def test_a_cluster_nodes_series_name_the_node_that_pulls_each_stream():
    families = {f.name: f for f in text_string_to_metric_families(stream_series(records("hub-b"), NOW).decode())}
    for family in families.values():
        assert {s.labels["node"] for s in family.samples} == {"hub-b"}, family.name
    single = {f.name: f for f in text_string_to_metric_families(stream_series(records(), NOW).decode())}
    assert all("node" not in s.labels for f in single.values() for s in f.samples)


def test_the_series_parse_with_their_labels_and_values():
    families = {f.name: f for f in text_string_to_metric_families(stream_series(records(), NOW).decode())}
    frozen = [s for s in families["hub_stream_check_failing"].samples if s.labels["check"] == "frozen"]
    assert {s.labels["stream"]: s.value for s in frozen} == {'gate "north"\\1\nb': 1.0, "cam-2": 0.0}
    assert families["hub_stream_frames"].type == "counter"
    assert [s.value for s in families["hub_stream_last_frame_age_seconds"].samples] == [3.5]


def test_a_render_of_many_streams_takes_turns_with_the_loop_and_writes_every_stream():
    index = Index()
    for n in range(450):
        record = StreamRecord(f"cam-{n:04d}", f"Camera {n}", "property", "", (), None, None)
        index.records[record.id] = record
    render, turns = MetricsRender(index), []

    async def scrape() -> bytes:
        done = asyncio.Event()

        async def other_work() -> None:  # requests arriving meanwhile: served between the slices
            while not done.is_set():
                turns.append(len(turns))
                await asyncio.sleep(0)

        beside = asyncio.get_running_loop().create_task(other_work())
        body = await render()
        done.set()
        await beside
        return body

    body = asyncio.run(scrape())
    assert len(turns) >= 450 // SLICE, "the loop ran other work between the slices"
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    assert len(families["hub_stream_up"].samples) == 450
    assert sum(s.value for s in families["hub_streams"].samples) == 450


def test_a_render_writes_again_the_lines_of_the_streams_that_changed_and_drops_the_streams_gone():
    index = Index()
    for record in records():
        index.records[record.id] = record
    render = MetricsRender(index)
    asyncio.run(render())
    quiet = index.records["cam-2"]
    quiet.state, quiet.failing_checks, quiet.frames_total, quiet.fps = "degraded", ("black",), 99, 12.5
    del index.records['gate "north"\\1\nb']
    body = asyncio.run(render())
    assert body.startswith(stream_series([quiet], time.time()).split(b"# HELP hub_stream_last_frame_age")[0])
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    black = [s for s in families["hub_stream_check_failing"].samples if s.labels["check"] == "black"]
    assert [(s.labels["stream"], s.value) for s in black] == [("cam-2", 1.0)], "the new lines, and only cam-2's"
    assert [s.value for s in families["hub_stream_fps"].samples] == [12.5]
