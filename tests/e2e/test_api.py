"""The REST API, SSE and snapshots, on a hub pulling real simulated streams."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from support.estates import SIM_ESTATE, STREET, sim_stream
from support.hubrun import hub_config_text, running_hub

from hub.web.keys import INDEX, MONITOR, SNAPSHOTS


async def test_list_filters_and_summary(hub):
    await hub.wait_for("h264-360", "online")
    status, body = await hub.get_json("/api/streams")
    assert status == 200
    assert body["summary"]["total"] == len(body["streams"]) == 15
    assert sum(body["summary"]["by_state"].values()) == 15
    assert body["summary"]["by_category"] == {"public-security": 14, "property": 1}
    assert body["estate"] == body["summary"]
    status, body = await hub.get_json("/api/streams?category=property")
    assert [s["id"] for s in body["streams"]] == ["dead-camera"]
    # `summary` counts what the filters selected, `estate` every stream
    assert body["summary"]["total"] == 1 and body["summary"]["by_category"] == {"property": 1}
    assert body["estate"]["total"] == 15 and body["estate"]["by_category"] == {"public-security": 14, "property": 1}
    status, body = await hub.get_json("/api/streams?state=online")
    assert body["streams"] and all(s["state"] == "online" for s in body["streams"])
    status, body = await hub.get_json("/api/streams?q=NOWHERE")
    assert [s["id"] for s in body["streams"]] == ["dead-camera"]
    status, body = await hub.get_json("/api/streams?q=dead")  # tags match too
    assert [s["id"] for s in body["streams"]] == ["dead-camera"]


async def test_bad_requests_get_json_errors(hub):
    for path, code in [
        ("/api/streams?category=zoo", 400),
        ("/api/streams?state=asleep", 400),
        ("/api/streams/nope", 404),
        ("/api/streams/nope/snapshot.jpg", 404),
        ("/api/streams/h264-360/snapshot.jpg?width=abc", 400),
        ("/api/nothing", 404),
        ("/api/streams/h264-360/snapshot.jpg?width=²", 400),  # isdigit() says yes
        ("/api/streams/h264-360/snapshot.jpg?width=٣٢٠", 400),
        ("/api/streams/h264-360/snapshot.jpg?wait=maybe", 400),
        ("/api/audit?limit=²", 400),
        ("/api/audit?limit=１０", 400),
    ]:
        async with hub.session.get(hub.url(path)) as response:
            assert response.status == code, path
            assert response.content_type == "application/json"
            assert "error" in await response.json()


async def test_record_has_every_contract_field(hub):
    record = await hub.wait_for("h264-360", "online")
    fields = {
        "id",
        "name",
        "category",
        "site",
        "tags",
        "position",
        "state",
        "reasons",
        "since",
        "codec",
        "width",
        "height",
        "fps",
        "nominal_fps",
        "bitrate_bps",
        "last_frame_at",
        "reconnects",
        "uptime_ratio",
    }
    assert fields <= set(record)
    assert record["position"]["lat"] == 31.775
    assert record["dropped_observations"] == 0  # the loop keeps up with one stream's observations


async def test_snapshot_is_a_real_picture_and_scales(hub):
    await hub.wait_for("h264-720", "online")
    async with hub.session.get(hub.url("/api/streams/h264-720/snapshot.jpg")) as response:
        assert response.status == 200 and response.content_type == "image/jpeg"
        age = float(response.headers["X-Snapshot-Age"])  # the hub's own measure: pages need not trust their clock
        assert 0 <= age <= 2 * 2 + 1 and abs(time.time() - age - float(response.headers["X-Snapshot-At"])) < 0.5
        assert response.headers["X-Stream-State"] == "online"
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


VEHICLE = """
[[streams]]
id = "patrol-car"
name = "Patrol car"
category = "vehicle"
url = "rtsp://127.0.0.1:9/car"
"""
MOBILE_CAMERA = """
[[streams]]
id = "body-cam"
name = "Body camera on a mast"
category = "public-security"
position = [31.775, 117.303]
url = "rtsp://127.0.0.1:9/mast"
mobile = true
"""


@pytest.fixture
async def fleet(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(sim_stream("h264-360", STREET) + VEHICLE + MOBILE_CAMERA, sim.rtsp, sim.control))
    async with running_hub(path) as running:
        yield running


async def put_position(hub, stream_id: str, body) -> tuple[int, dict]:
    async with hub.session.put(hub.url(f"/api/streams/{stream_id}/position"), json=body) as reply:
        return reply.status, await reply.json()


async def test_vehicle_position_updates_and_events(fleet):
    hub = fleet
    now = round(time.time(), 3)
    async with hub.session.get(hub.url("/api/events")) as events:
        assert events.headers["Content-Type"].startswith("text/event-stream")
        first = await events.content.readuntil(b"\n\n")
        assert first.startswith(b"event: hello")
        status, body = await put_position(hub, "patrol-car", {"lat": 31.78, "lon": 117.31, "at": now})
        assert status == 200 and body["applied"]
        while True:
            chunk = await asyncio.wait_for(events.content.readuntil(b"\n\n"), 30)
            if chunk.startswith(b"event: position"):
                break
        data = json.loads(chunk.split(b"data: ", 1)[1])
        assert data == {"id": "patrol-car", "lat": 31.78, "lon": 117.31, "at": now}
    record = await hub.record("patrol-car")
    assert record["position"] == {"lat": 31.78, "lon": 117.31, "at": now}
    status, body = await put_position(hub, "patrol-car", {"lat": 1, "lon": 1, "at": now - 60})
    assert status == 200 and not body["applied"], "an older fix never replaces a newer one"
    iso_now = datetime.fromtimestamp(now + 1, UTC).isoformat().replace("+00:00", "Z")
    status, body = await put_position(hub, "patrol-car", {"lat": 1, "lon": 1, "at": iso_now})
    assert status == 200 and body["applied"]
    status, body = await put_position(hub, "body-cam", {"lat": 31.7, "lon": 117.2})  # mobile = true in the config
    assert status == 200 and body["applied"]


async def test_fixed_cameras_and_future_fixes_are_refused(fleet):
    hub = fleet
    status, body = await put_position(hub, "h264-360", {"lat": 31.78, "lon": 117.31})
    assert status == 409 and "fixed public-security camera" in body["error"] and "mobile = true" in body["error"], body
    assert (await hub.record("h264-360"))["position"]["lat"] == 31.775
    status, body = await put_position(hub, "patrol-car", {"lat": 31.78, "lon": 117.31, "at": "2999-01-01T00:00:00Z"})
    assert status == 400 and "ahead of the hub's clock" in body["error"], body
    status, body = await put_position(hub, "patrol-car", {"lat": 31.8, "lon": 117.33})
    assert status == 200 and body["applied"], "the refused fix from 2999 did not block later real ones"
    status, body = await put_position(hub, "patrol-car", {"lat": 31.79, "lon": 117.32, "at": time.time() + 2})  # clock skew
    assert status == 200 and body["applied"], "a fix a little ahead (clock skew) is accepted"


async def test_bad_position_updates_are_refused(fleet):
    hub = fleet
    for body in [{"lat": 91, "lon": 0}, {"lat": "x", "lon": 0}, {"lon": 0}, {"lat": 1, "lon": 1, "at": "yesterday"}, [1, 2]]:
        status, reply = await put_position(hub, "patrol-car", body)
        assert status == 400 and "error" in reply, body
    async with hub.session.put(hub.url("/api/streams/patrol-car/position"), data=b"{not json") as r:
        assert r.status == 400
    async with hub.session.put(hub.url("/api/streams/nope/position"), json={"lat": 1, "lon": 1}) as r:
        assert r.status == 404


async def test_layouts_naming_unknown_streams_are_refused(hub):
    async with hub.session.put(
        hub.url("/api/layouts/day"), json={"size": 4, "tiles": ["h264-360", "ghost-2", None, "ghost-1"]}
    ) as r:
        assert r.status == 400
        assert (await r.json())["error"] == "unknown stream ids: ghost-1, ghost-2"
    status, body = await hub.get_json("/api/layouts")
    assert "day" not in body["layouts"]
    async with hub.session.put(hub.url("/api/layouts/day"), json={"size": 4, "tiles": ["h264-360", None]}) as r:
        assert r.status == 200


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


async def test_pictures_become_jpegs_when_somebody_looks(sim, tmp_path):
    # Every sampled picture is checked, but only made a JPEG when somebody may see it (or every JPEG_IDLE_S):
    # a camera nobody opens costs no JPEG encoding, and opening one shows it as it is now.
    from hub.ingest.reader import JPEG_IDLE_S

    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(SIM_ESTATE, sim.rtsp, sim.control))
    async with running_hub(path) as hub:
        await hub.wait_for("h264-360", "online")
        record = hub.app[INDEX].records["h264-360"]
        seq, snapshot_at = record.snapshot_seq, record.snapshot_at
        assert seq >= 1, "the first picture is a JPEG: the record has a snapshot at once"
        deadline = asyncio.get_running_loop().time() + 30
        while record.checked_at is None or record.checked_at < snapshot_at + 3 * 2.0:  # three picture intervals
            assert asyncio.get_running_loop().time() < deadline, "pictures stopped being checked"
            await asyncio.sleep(0.2)
        assert record.checked_at - snapshot_at < JPEG_IDLE_S
        assert record.snapshot_seq == seq, "pictures nobody looked at were made JPEGs"
        async with hub.session.get(hub.url("/api/streams/h264-360/snapshot.jpg")) as response:
            assert response.status == 200
            # Two picture intervals; a hub that was late sheds load by sampling less often, and says so.
            interval = 2.0 * hub.app[MONITOR].throttle.factor
            assert float(response.headers["X-Snapshot-Age"]) <= 2 * interval, "an old picture, not the camera as it is now"
        # The picture served may be the one already made (it was fresh enough: a hub shedding load samples
        # less often, and the age above is judged by its interval); from now on every picture is a JPEG.
        looked = record.snapshot_seq
        deadline = asyncio.get_running_loop().time() + 3 * interval + 5
        while record.snapshot_seq == looked:  # while somebody looks, every picture is a JPEG
            assert asyncio.get_running_loop().time() < deadline, "no JPEG of the next picture while somebody looks"
            await asyncio.sleep(0.2)
