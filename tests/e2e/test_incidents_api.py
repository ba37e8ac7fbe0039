"""Incidents through the API on a running hub: a grid worker reports from a phone (a form with a photo), the
cameras near the spot come with it, operators triage it within their sites, duplicates are offered and
merged, an unacknowledged one escalates, staff positions, and all of it in /metrics and the audit trail."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json

import aiohttp
import cv2
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.estates import sim_for
from support.hubrun import PATROL_MODES, hub_config_text, provision, running_hub, until
from support.incident_estate import ESTATE, METRE, SPOT

sim = sim_for(ESTATE)


def triage(incident: dict) -> list[str]:
    """The history's steps, less the hub's evidence step (it comes when the pictures do)."""
    return [s["action"] for s in incident["history"] if s["action"] != "evidence"]


def jpeg_with_exif() -> bytes:
    """A phone's photo: a JPEG with an EXIF block that names a place and a serial number."""
    ok, body = cv2.imencode(".jpg", np.full((480, 640, 3), 90, np.uint8))
    exif = b"Exif\x00\x00" + b"GPS 31.770N 117.300E serial PHONE-SECRET-42"
    segment = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    return body.tobytes()[:2] + segment + body.tobytes()[2:]


def form(kind="fire", severity="3", north_m=0.0, text="smoke from the bike shed", client_id="", photos=()) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("kind", kind)
    data.add_field("severity", severity)
    data.add_field("lat", f"{SPOT[0] + north_m * METRE:.7f}")
    data.add_field("lon", f"{SPOT[1]:.7f}")
    data.add_field("text", text)
    if client_id:
        data.add_field("client_id", client_id)
    for i, photo in enumerate(photos):
        data.add_field("photo", photo, filename=f"IMG_{i}.jpg", content_type="image/jpeg")
    return data


@pytest.fixture
async def hub(sim, tmp_path):
    path = tmp_path / "hub.toml"
    incidents = "[incidents]\nescalate_after_s = { 4 = 2 }\n"
    path.write_text(hub_config_text(ESTATE, sim.rtsp, sim.control, extra=incidents))
    async with running_hub(path) as running:
        for stream_id in ("gate-north", "lobby", "shed", "nursery"):
            await running.wait_for(stream_id, "online", timeout=60)
        yield running


def client(hub, name: str, role: str, grants: tuple = ()) -> aiohttp.ClientSession:
    token = provision(hub.config_path, name, role, grants)
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})


async def test_a_grid_worker_reports_from_a_phone_and_sees_no_video(hub):
    async with client(hub, "grid-7", "reporter", (("site", "North"),)) as worker:
        async with worker.post(
            hub.url("/api/incidents"), data=form(client_id="phone-1-0001", photos=[jpeg_with_exif()])
        ) as reply:
            assert reply.status == 201, await reply.text()
            made = await reply.json()
        assert made["kind"] == "fire" and made["severity"] == 3 and made["state"] == "new" and made["reporter"] == "grid-7"
        assert made["cameras"] == [], "a reporter sees no camera, even with a site grant"
        assert made["site"] == "North", "the site of its nearest camera"
        # The phone lost the answer and sends its queue again: the same incident, not a second one.
        async with worker.post(
            hub.url("/api/incidents"), data=form(client_id="phone-1-0001", photos=[jpeg_with_exif()])
        ) as reply:
            assert reply.status == 200 and (await reply.json())["id"] == made["id"]
        async with worker.get(hub.url(made["photos"][0])) as reply:
            photo = await reply.read()
            assert reply.status == 200 and reply.content_type == "image/jpeg" and photo.startswith(b"\xff\xd8")
        assert b"Exif" not in photo and b"PHONE-SECRET" not in photo, "re-encoded: EXIF (place, serial) stripped"
        assert cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR).shape == (480, 640, 3)
        for path in ("/api/streams", "/api/streams/lobby", "/api/streams/lobby/snapshot.jpg", "/api/events", "/api/staff"):
            async with worker.get(hub.url(path)) as reply:
                assert reply.status in (403, 404), f"a reporter reached {path}: {reply.status}"
        car = {"kind": "traffic", "severity": 1, "lat": SPOT[0], "lon": SPOT[1], "text": "a car on the lawn"}
        async with hub.session.post(hub.url("/api/incidents"), json=car) as reply:
            assert reply.status == 201
            other = await reply.json()
        async with worker.get(hub.url("/api/incidents")) as reply:
            assert [i["id"] for i in (await reply.json())["incidents"]] == [made["id"]], "a reporter sees its own reports"
        async with worker.get(hub.url(f"/api/incidents/{other['id']}")) as reply:
            assert reply.status == 404
        async with worker.patch(hub.url(f"/api/incidents/{made['id']}"), json={"state": "acknowledged"}) as reply:
            assert reply.status == 403, "reporters report, operators triage"
        bad = [
            form(kind="alien"),
            form(severity="5"),
            form(photos=[b"GIF89a" + b"\x00" * 100]),
            form(photos=[jpeg_with_exif()] * 4),
        ]
        for data in bad:
            async with worker.post(hub.url("/api/incidents"), data=data) as reply:
                assert reply.status == 400, await reply.text()
                assert (await reply.json())["error"]
        async with worker.post(
            hub.url("/api/incidents"), json={"kind": "fire", "severity": 2, "lat": 95, "lon": 0, "text": ""}
        ) as reply:
            assert reply.status == 400 and "not a place on Earth" in (await reply.json())["error"]
    # The admin sees the cameras near the spot: the one looking at it first, then the nearest.
    status, whole = await hub.get_json(f"/api/incidents/{made['id']}")
    assert status == 200 and [c["id"] for c in whole["cameras"]] == ["gate-north", "lobby", "nursery", "shed"]
    assert whole["cameras"][0]["covers"] and not whole["cameras"][3]["covers"]
    assert 18 <= whole["cameras"][1]["distance_m"] <= 22
    assert triage(whole) == ["reported"]


async def test_operators_triage_within_their_sites_and_everything_is_counted(hub):
    north = client(hub, "op-north", "operator", (("site", "North"),))
    south = client(hub, "op-south", "operator", (("site", "South"),))
    events = await north.get(hub.url("/api/events"))
    try:
        async with hub.session.post(hub.url("/api/incidents"), data=form(severity="2")) as reply:
            first = await reply.json()
        async with hub.session.post(hub.url("/api/incidents"), data=form(north_m=50, text="flames now")) as reply:
            second = await reply.json()
            assert reply.status == 201, second
        assert [d["id"] for d in second["duplicates"]] == [first["id"]], "the same kind, 50 m away, minutes apart"
        seen = b""
        while first["id"].encode() not in seen:
            seen += await asyncio.wait_for(events.content.readany(), 10)
        async with south.get(hub.url(f"/api/incidents/{first['id']}")) as reply:
            assert reply.status == 404, "another site's operator does not see it"
        async with south.get(hub.url("/api/incidents")) as reply:
            assert (await reply.json())["incidents"] == []
        url = hub.url(f"/api/incidents/{first['id']}")
        refused = [({"state": "resolved"}, "acknowledged first"), ({"state": "acknowledged", "team": ""}, "team")]
        for patch, why in refused:
            async with north.patch(url, json=patch) as reply:
                assert reply.status in (400, 409) and why in (await reply.json())["error"], patch
        steps = [{"state": "acknowledged"}, {"team": "fire brigade", "state": "assigned"}, {"severity": 4},
                 {"comment": "spreading to the hedge"}, {"state": "in_progress"}]  # fmt: skip
        for patch in steps:
            async with north.patch(url, json=patch) as reply:
                assert reply.status == 200, await reply.text()
                now = await reply.json()
        async with north.patch(url, json={"severity": 1}) as reply:
            assert reply.status == 400 and "never lowered" in (await reply.json())["error"]
        assert now["state"] == "in_progress" and now["severity"] == 4 and now["team"] == "fire brigade"
        assert triage(now) == ["reported", "state", "team", "state", "severity", "comment", "state"]
        assert now["history"][-2]["text"] == "spreading to the hedge" and now["history"][1]["by"] == "op-north"
        async with north.patch(hub.url(f"/api/incidents/{second['id']}"), json={"merge_into": first["id"]}) as reply:
            assert reply.status == 200 and (await reply.json())["merged_into"] == first["id"]
        async with north.get(hub.url("/api/incidents?open=1")) as reply:
            assert [i["id"] for i in (await reply.json())["incidents"]] == [first["id"]]
        async with hub.session.get(hub.url("/metrics")) as reply:
            families = {f.name: f for f in text_string_to_metric_families(await reply.text())}
        opened = {(s.labels["kind"], s.labels["severity"]): s.value for s in families["hub_incidents_open"].samples}
        assert opened[("fire", "4")] == 1 and sum(opened.values()) == 1, "the merged one is not open"
        acks = {s.name: s.value for s in families["hub_incident_acknowledge_seconds"].samples if not s.labels.get("le")}
        assert acks["hub_incident_acknowledge_seconds_count"] == 1
        status, audit = await hub.get_json("/api/audit?action=incident_changed")
        assert status == 200 and {e["who"] for e in audit["entries"]} == {"op-north"}
        assert len(audit["entries"]) == 7, "one entry per change (6 steps and the merge)"
    finally:
        events.close()
        await north.close()
        await south.close()


async def test_an_unacknowledged_serious_incident_escalates_once(hub):
    async with hub.session.post(hub.url("/api/incidents"), data=form(severity="4")) as reply:
        made = await reply.json()
    escalated = await until(lambda: _escalated(hub, made["id"]), 30, "the severity-4 incident escalated after its 2 s deadline")
    assert triage(escalated) == ["reported", "escalated"]
    async with hub.session.patch(hub.url(f"/api/incidents/{made['id']}"), json={"state": "acknowledged"}) as reply:
        assert reply.status == 200 and (await reply.json())["escalated"]
    status, audit = await hub.get_json("/api/audit?action=incident_escalated")
    assert [e["who"] for e in audit["entries"]] == ["hub"]


async def _escalated(hub, incident_id: str) -> dict | None:
    status, body = await hub.get_json(f"/api/incidents/{incident_id}")
    return body if status == 200 and body["escalated"] else None


async def test_staff_positions_show_with_their_age(hub):
    async with client(hub, "grid-9", "reporter") as worker:
        async with worker.put(hub.url("/api/staff/position"), json={"lat": SPOT[0], "lon": SPOT[1], "accuracy_m": 8}) as reply:
            assert reply.status == 200, await reply.text()
        async with worker.put(hub.url("/api/staff/position"), json={"lat": "north", "lon": 1}) as reply:
            assert reply.status == 400
        status, staff = await hub.get_json("/api/staff")
        (mine,) = staff["staff"]
        assert mine["who"] == "grid-9" and mine["position"] == [SPOT[0], SPOT[1]] and not mine["stale"]
        assert 0 <= mine["age_s"] < 30 and mine["accuracy_m"] == 8
        async with worker.put(hub.url("/api/staff/position"), data=json.dumps({"on_duty": False})) as reply:
            assert reply.status == 200
        status, staff = await hub.get_json("/api/staff")
        assert staff["staff"] == []


@pytest.fixture
async def patrol_hub(sim, tmp_path):
    path = tmp_path / "hub.toml"
    monitor = "[monitor]\npatrol_period_s = 30\nprobe_interval_s = 2\nlive_grace_s = 1\n" + PATROL_MODES
    path.write_text(hub_config_text(ESTATE, sim.rtsp, sim.control, monitor=monitor))
    async with running_hub(path) as running:
        for stream_id in ("gate-north", "lobby", "shed"):
            record = await running.wait_for(stream_id, "online", timeout=60)
            assert record["watching"] == "patrol"
        yield running


async def test_a_report_brings_its_cameras_live_keeps_their_pictures_and_exports_as_one_file(patrol_hub):
    hub = patrol_hub
    async with hub.session.post(hub.url("/api/incidents"), data=form(severity="3")) as reply:
        made = await reply.json()
    for stream_id in ("gate-north", "lobby", "shed"):  # patrolled cameras near it: live at once
        await until(lambda sid=stream_id: _watching(hub, sid, "live"), 20, f"{stream_id} live for the incident")
    whole = await until(lambda: _with_evidence(hub, made["id"]), 30, "the cameras' pictures kept as evidence")
    snapshots = sorted(f["name"] for f in whole["files"] if f["kind"] == "snapshot")
    assert snapshots == ["snapshot-gate-north.jpg", "snapshot-lobby.jpg", "snapshot-shed.jpg"], "childcare: never by itself"
    (evidence,) = [s for s in whole["history"] if s["action"] == "evidence"]
    assert evidence["no_picture"] == [] and evidence["taken_before_the_report"] == []
    async with hub.session.get(hub.url(whole["files"][0]["url"])) as reply:
        picture = await reply.read()
        assert reply.content_type == "image/jpeg" and hashlib.sha256(picture).hexdigest() == whole["files"][0]["sha256"]
    async with hub.session.get(hub.url(f"/api/incidents/{made['id']}/export")) as reply:
        assert reply.status == 200
        body = await reply.read()
        digest = reply.headers["X-Content-SHA256"]
    assert hashlib.sha256(body).hexdigest() == digest
    exported = json.loads(body)
    assert exported["incident"]["id"] == made["id"] and [s["action"] for s in exported["history"]][:1] == ["reported"]
    for kept in exported["files"]:
        assert hashlib.sha256(base64.b64decode(kept["base64"])).hexdigest() == kept["sha256"]
    status, audit = await hub.get_json("/api/audit?action=incident_exported")
    assert [e["detail"]["sha256"] for e in audit["entries"]] == [digest], "the export's hash is in the audit trail"
    # Resolved: the cameras go back to patrol.
    for state in ("acknowledged", "resolved"):
        async with hub.session.patch(hub.url(f"/api/incidents/{made['id']}"), json={"state": state}) as reply:
            assert reply.status == 200
    await until(lambda: _watching(hub, "shed", "patrol"), 30, "shed back on patrol once the incident is resolved")


async def _watching(hub, stream_id: str, how: str) -> bool:
    return (await hub.record(stream_id))["watching"] == how


async def _with_evidence(hub, incident_id: str) -> dict | None:
    status, body = await hub.get_json(f"/api/incidents/{incident_id}")
    return body if any(s["action"] == "evidence" for s in body["history"]) else None
