"""Every state and reason, driven through the simulator's faults, and back to online when cleared."""

from __future__ import annotations

import asyncio
import time

EXPECTED = {
    "stall": ("offline", "stalled"),
    "drop": ("offline", None),  # "ended" at once, then "unreachable" while reconnects are refused
    "freeze": ("degraded", "frozen"),
    "black": ("degraded", "black"),
    "lowfps": ("degraded", "low_fps"),
    "auth": ("unauthorized", "auth_failed"),
    "notfound": ("offline", "not_found"),
}


async def test_every_fault_reaches_its_state_and_recovers(hub, sim):
    ids = {kind: f"fault-{kind}" for kind in EXPECTED}
    await asyncio.gather(*(hub.wait_for(i, "online", timeout=90) for i in ids.values()))
    started = time.monotonic()
    for kind, stream_id in ids.items():
        await asyncio.to_thread(sim.set_fault, stream_id, kind)

    async def detect(kind: str) -> float:
        state, reason = EXPECTED[kind]
        await hub.wait_for(ids[kind], state, reason, timeout=60)
        return time.monotonic() - started

    detected = dict(zip(EXPECTED, await asyncio.gather(*(detect(k) for k in EXPECTED)), strict=False))
    record = await hub.record(ids["drop"])
    assert set(record["reasons"]) <= {"ended", "unreachable"}
    cleared = time.monotonic()
    for stream_id in ids.values():
        await asyncio.to_thread(sim.clear_fault, stream_id)

    async def recover(kind: str) -> float:
        await hub.wait_for(ids[kind], "online", timeout=120)
        return time.monotonic() - cleared

    recovered = dict(zip(EXPECTED, await asyncio.gather(*(recover(k) for k in EXPECTED)), strict=False))
    print("\nseconds from fault to state:", {k: round(v, 1) for k, v in detected.items()})
    print("seconds from clearing to online:", {k: round(v, 1) for k, v in recovered.items()})


async def test_configured_fault_and_unreachable_camera(hub):
    record = await hub.wait_for("cfg-black", "degraded", "black", timeout=60)
    assert record["codec"] == "h264" and (record["width"], record["height"]) == (640, 360)
    record = await hub.wait_for("dead-camera", "offline", "unreachable", timeout=60)
    assert record["last_frame_at"] is None


async def test_healthy_streams_report_codec_size_rate(hub):
    expectations = {"h264-360": ("h264", 640, 360), "h265-360": ("hevc", 640, 360), "h265-720-auth": ("hevc", 1280, 720)}
    for stream_id in expectations:
        await hub.wait_for(stream_id, "online", timeout=60)
    deadline = time.monotonic() + 30
    while True:  # rates need a few seconds of packets
        records = {i: await hub.record(i) for i in expectations}
        settled = all(r["fps"] and 20 <= r["fps"] <= 30 and r["keyframe_interval_s"] for r in records.values())
        if settled or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    for stream_id, (codec, width, height) in expectations.items():
        r = records[stream_id]
        assert (r["codec"], r["width"], r["height"]) == (codec, width, height)
        assert 20 <= r["fps"] <= 30, r
        assert r["nominal_fps"] == 25
        assert abs(r["keyframe_interval_s"] - 2.0) < 0.2, r
        assert 200_000 < r["bitrate_bps"] < 3_000_000, r
