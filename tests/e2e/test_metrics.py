"""/metrics in real Prometheus text format, parsed back with prometheus_client's own parser."""

from __future__ import annotations

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


async def test_counters_grow_and_age_stays_small(hub):
    await hub.wait_for("h264-360", "online")
    first = await scrape(hub)
    await hub.wait_for("h264-360", "online")
    before = samples(first["hub_stream_frames"], stream="h264-360")[0].value
    import asyncio

    deadline = asyncio.get_running_loop().time() + 30
    while True:
        later = await scrape(hub)
        after = samples(later["hub_stream_frames"], stream="h264-360")[0].value
        if after > before or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.5)
    assert after > before
    age = samples(later["hub_stream_last_frame_age_seconds"], stream="h264-360")[0].value
    assert 0 <= age < 5
