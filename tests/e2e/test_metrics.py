"""/metrics in real Prometheus text format, parsed back with prometheus_client's own parser."""

from __future__ import annotations

import asyncio
import time

from prometheus_client.parser import text_string_to_metric_families

from hub.health import STATES


async def scrape(hub) -> dict:
    async with hub.session.get(hub.url("/metrics")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {family.name: family for family in text_string_to_metric_families(text)}


def samples(family, **labels) -> list:
    return [s for s in family.samples if all(s.labels.get(k) == v for k, v in labels.items())]


async def test_metrics_follow_the_index(hub):
    await hub.wait_for("h264-360", "online")
    await hub.wait_for("cfg-black", "degraded", "black", timeout=60)
    await hub.wait_for("dead-camera", "offline", "unreachable", timeout=60)
    families = await scrape(hub)
    for name, kind in [
        ("hub_stream_up", "gauge"),
        ("hub_stream_state", "gauge"),
        ("hub_stream_frames", "counter"),
        ("hub_stream_bytes", "counter"),
        ("hub_stream_reconnects", "counter"),
        ("hub_stream_fps", "gauge"),
        ("hub_stream_last_frame_age_seconds", "gauge"),
        ("hub_stream_keyframe_interval_seconds", "gauge"),
        ("hub_stream_check_failing", "gauge"),
        ("hub_streams", "gauge"),
    ]:
        assert families[name].type == kind, name
    up = families["hub_stream_up"]
    assert samples(up, stream="h264-360")[0].value == 1
    assert samples(up, stream="dead-camera", category="property")[0].value == 0
    state = samples(families["hub_stream_state"], stream="cfg-black")
    assert {s.labels["state"]: s.value for s in state} == {s: (1.0 if s == "degraded" else 0.0) for s in STATES}
    checks = {s.labels["check"]: s.value for s in samples(families["hub_stream_check_failing"], stream="cfg-black")}
    assert checks["black"] == 1 and checks["low_fps"] == 0
    frames = samples(families["hub_stream_frames"], stream="h264-360")
    assert frames[0].name == "hub_stream_frames_total" and frames[0].value > 0
    byte_samples = families["hub_stream_bytes"].samples
    assert {s.name for s in byte_samples} == {"hub_stream_bytes_total"}, "a counter's samples are named *_total, nothing else"
    assert samples(families["hub_stream_bytes"], stream="h264-360")[0].value > 0
    totals = families["hub_streams"].samples
    assert sum(s.value for s in totals) == 15
    assert samples(families["hub_streams"], category="property", state="offline")[0].value == 1
    for family in families.values():
        for sample in family.samples:
            if family.name.startswith("hub_stream_"):
                assert {"stream", "category"} <= set(sample.labels), sample


async def _record(hub, stream_id: str) -> dict:
    async with hub.session.get(hub.url(f"/api/streams/{stream_id}")) as response:
        assert response.status == 200
        return await response.json()


async def test_counters_grow_and_the_frame_age_is_no_older_than_the_hubs_last_frame(hub):
    """The age gauge counts from a frame at least as new as the last one the hub had before the body
    was rendered. Checked against the stream's record, not against a fixed bound: a starved machine
    (CI's) can hold every frame back for seconds, and then the gauge must say so. (The record the API
    serves is a copy republished twice a second, so it cannot bound the gauge from the other side.)"""
    await hub.wait_for("h264-360", "online")
    before = await _record(hub, "h264-360")
    deadline = time.monotonic() + 30
    while True:  # a body rendered after the record above: it counts more frames
        async with hub.session.get(hub.url("/metrics")) as response:
            text, body_age = await response.text(), float(response.headers["X-Metrics-Age"])
        answered = time.time()
        families = {family.name: family for family in text_string_to_metric_families(text)}
        frames = samples(families["hub_stream_frames"], stream="h264-360")[0].value
        if frames > before["frames_total"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert frames > before["frames_total"], "the frame counter never grew"
    age = samples(families["hub_stream_last_frame_age_seconds"], stream="h264-360")[0].value
    assert age >= 0
    # The body was rendered `body_age` before it was served, which was before `answered`.
    latest = answered - body_age - age  # the latest moment the gauge can mean
    assert latest >= before["last_frame_at"] - 0.01, "the gauge is older than the last frame the hub had before"
