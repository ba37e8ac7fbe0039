"""The REST API, SSE and snapshots, on a hub pulling real simulated streams."""

from __future__ import annotations

import asyncio
import json

import cv2
import numpy as np

from hub.web.keys import INDEX, SNAPSHOTS


async def test_list_filters_and_summary(hub):
    await hub.wait_for("h264-360", "online")
    status, body = await hub.get_json("/api/streams")
    assert status == 200
    assert body["summary"]["total"] == len(body["streams"]) == 15
    assert sum(body["summary"]["by_state"].values()) == 15
    assert body["summary"]["by_category"] == {"public-security": 14, "property": 1}
    status, body = await hub.get_json("/api/streams?category=property")
    assert [s["id"] for s in body["streams"]] == ["dead-camera"]
    status, body = await hub.get_json("/api/streams?state=online")
    assert body["streams"] and all(s["state"] == "online" for s in body["streams"])
    status, body = await hub.get_json("/api/streams?q=NOWHERE")
    assert [s["id"] for s in body["streams"]] == ["dead-camera"]
    status, body = await hub.get_json("/api/streams?q=dead")  # tags match too
    assert [s["id"] for s in body["streams"]] == ["dead-camera"]


async def test_bad_requests_get_json_errors(hub):
    for path, code in [("/api/streams?category=zoo", 400), ("/api/streams?state=asleep", 400), ("/api/streams/nope", 404),
                       ("/api/streams/nope/snapshot.jpg", 404), ("/api/streams/h264-360/snapshot.jpg?width=abc", 400),
                       ("/api/nothing", 404)]:
        async with hub.session.get(hub.url(path)) as response:
            assert response.status == code, path
            assert response.content_type == "application/json"
            assert "error" in await response.json()


async def test_record_has_every_contract_field(hub):
    record = await hub.wait_for("h264-360", "online")
    fields = {"id", "name", "category", "site", "tags", "position", "state", "reasons", "since", "codec", "width",
              "height", "fps", "nominal_fps", "bitrate_bps", "last_frame_at", "reconnects", "uptime_ratio"}
    assert fields <= set(record)
    assert record["position"]["lat"] == 31.775
    assert record["dropped_observations"] == 0  # the loop keeps up with one stream's observations


async def test_snapshot_is_a_real_picture_and_scales(hub):
    await hub.wait_for("h264-720", "online")
    async with hub.session.get(hub.url("/api/streams/h264-720/snapshot.jpg")) as response:
        assert response.status == 200 and response.content_type == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(await response.read(), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (720, 1280, 3)
    assert image.std() > 10, "a real scene, not a blank"
    async with hub.session.get(hub.url("/api/streams/h264-720/snapshot.jpg?width=320")) as response:
        small = cv2.imdecode(np.frombuffer(await response.read(), np.uint8), cv2.IMREAD_COLOR)
    assert small.shape == (180, 320, 3)


async def test_hundred_viewers_cost_one_encode(hub):
    await hub.wait_for("h265-360", "online")
    cache = hub.app[SNAPSHOTS]
    record = hub.app[INDEX].records["h265-360"]
    seq = record.snapshot_seq
    before = cache.encodes

    async def fetch() -> bytes:
        async with hub.session.get(hub.url("/api/streams/h265-360/snapshot.jpg?width=200")) as response:
            assert response.status == 200
            return await response.read()

    bodies = await asyncio.gather(*(fetch() for _ in range(100)))
    encodes = cache.encodes - before
    assert encodes == 1 + (record.snapshot_seq - seq), "one encode per picture and width"
    assert len(set(bodies)) <= 1 + (record.snapshot_seq - seq)


async def test_no_snapshot_yet_is_503(hub):
    async with hub.session.get(hub.url("/api/streams/dead-camera/snapshot.jpg")) as response:
        assert response.status == 503
        assert "no picture" in (await response.json())["error"]


async def test_vehicle_position_updates_and_events(hub):
    async with hub.session.get(hub.url("/api/events")) as events:
        assert events.headers["Content-Type"].startswith("text/event-stream")
        first = await events.content.readuntil(b"\n\n")
        assert first.startswith(b"event: hello")
        async with hub.session.put(hub.url("/api/streams/h264-360/position"), json={"lat": 31.78, "lon": 117.31, "at": 2_000_000_000}) as r:
            assert r.status == 200 and (await r.json())["applied"]
        while True:
            chunk = await asyncio.wait_for(events.content.readuntil(b"\n\n"), 30)
            if chunk.startswith(b"event: position"):
                break
        data = json.loads(chunk.split(b"data: ", 1)[1])
        assert data == {"id": "h264-360", "lat": 31.78, "lon": 117.31, "at": 2_000_000_000}
    record = await hub.record("h264-360")
    assert record["position"] == {"lat": 31.78, "lon": 117.31, "at": 2_000_000_000}
    async with hub.session.put(hub.url("/api/streams/h264-360/position"), json={"lat": 1, "lon": 1, "at": 1_000}) as r:
        assert r.status == 200 and not (await r.json())["applied"], "an older fix never replaces a newer one"
    async with hub.session.put(hub.url("/api/streams/h264-360/position"), json={"lat": 1, "lon": 1, "at": "2040-01-01T00:00:00Z"}) as r:
        assert (await r.json())["applied"]


async def test_bad_position_updates_are_refused(hub):
    for body in [{"lat": 91, "lon": 0}, {"lat": "x", "lon": 0}, {"lon": 0}, {"lat": 1, "lon": 1, "at": "yesterday"}, [1, 2]]:
        async with hub.session.put(hub.url("/api/streams/h264-360/position"), json=body) as r:
            assert r.status == 400 and "error" in await r.json(), body
    async with hub.session.put(hub.url("/api/streams/h264-360/position"), data=b"{not json") as r:
        assert r.status == 400
    async with hub.session.put(hub.url("/api/streams/nope/position"), json={"lat": 1, "lon": 1}) as r:
        assert r.status == 404


async def test_state_change_arrives_as_an_event(hub, sim):
    await hub.wait_for("fault-black", "online", timeout=60)
    async with hub.session.get(hub.url("/api/events")) as events:
        await events.content.readuntil(b"\n\n")
        await asyncio.to_thread(sim.set_fault, "fault-black", "black")
        try:
            while True:
                chunk = await asyncio.wait_for(events.content.readuntil(b"\n\n"), 30)
                if chunk.startswith(b"event: state"):
                    data = json.loads(chunk.split(b"data: ", 1)[1])
                    if data["id"] == "fault-black":
                        break
        finally:
            await asyncio.to_thread(sim.clear_fault, "fault-black")
    assert data["state"] == "degraded" and "black" in data["reasons"] and data["previous"] == "online"


async def test_credentials_never_shown_and_headers_safe(hub):
    await hub.wait_for("dead-camera", "offline", timeout=60)
    for path in ("/api/streams", "/api/streams/dead-camera", "/api/streams/h265-720-auth", "/metrics", "/"):
        async with hub.session.get(hub.url(path)) as response:
            text = await response.text()
            assert "topsecret" not in text and "s3cret" not in text, path
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Frame-Options"] == "DENY"


async def test_healthz(hub):
    status, body = await hub.get_json("/healthz")
    assert status == 200 and body["ok"] is True
