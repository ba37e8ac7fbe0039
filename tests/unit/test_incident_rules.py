"""Incidents' pure rules: distances and views, the triage order, severity, escalation, duplicates, the queue."""

from __future__ import annotations

import dataclasses
import random

import pytest

from hub.incidents.geo import Camera, CameraMap, bearing_deg, covers, distance_m, nearest
from hub.incidents.history import generate
from hub.incidents.model import (
    Incident,
    Refused,
    Step,
    check_severity,
    check_state_change,
    duplicates_of,
    escalation_due,
    queue_order,
    replay,
)

SPOT = (31.7700, 117.3000)
METRE_LAT = 1 / 111_195  # degrees of latitude in a metre


def incident(id_: str = "inc-1", kind: str = "fire", severity: int = 2, at: float = 1000.0, north_m: float = 0.0, **kw):
    return Incident(id_, kind, severity, SPOT[0] + north_m * METRE_LAT, SPOT[1], "smoke", "grid-7", at, **kw)


def test_distances_and_bearings_on_the_ground():
    assert distance_m(*SPOT, SPOT[0] + 100 * METRE_LAT, SPOT[1]) == pytest.approx(100.0, abs=0.1)
    assert distance_m(31.0, 117.0, 32.0, 118.0) == pytest.approx(146_000, rel=0.01)  # as any GIS says
    assert bearing_deg(*SPOT, SPOT[0] + 0.001, SPOT[1]) == pytest.approx(0.0, abs=0.01)
    assert bearing_deg(*SPOT, SPOT[0], SPOT[1] + 0.001) == pytest.approx(90.0, abs=0.01)
    assert bearing_deg(*SPOT, SPOT[0] - 0.001, SPOT[1] - 0.0000001) == pytest.approx(180.0, abs=0.01)


def test_a_camera_covers_a_spot_within_half_its_field_of_view():
    south_of_spot = (SPOT[0] - 50 * METRE_LAT, SPOT[1])  # the spot is due north of it
    looking_north = Camera("n", *south_of_spot, heading=10.0, fov=30.0)
    assert covers(looking_north, *SPOT)
    assert not covers(Camera("e", *south_of_spot, heading=90.0, fov=60.0), *SPOT)
    assert covers(Camera("wrap", *south_of_spot, heading=350.0, fov=30.0), *SPOT), "across north"
    assert not covers(Camera("no-view", *south_of_spot), *SPOT), "no heading: near, never covering"


def test_nearest_cameras_within_the_radius_those_that_look_first():
    cameras = [
        Camera("far", SPOT[0] + 400 * METRE_LAT, SPOT[1]),
        Camera("near", SPOT[0] + 20 * METRE_LAT, SPOT[1]),
        Camera("looks", SPOT[0] - 80 * METRE_LAT, SPOT[1], heading=0.0, fov=40.0),
        Camera("turned-away", SPOT[0] - 30 * METRE_LAT, SPOT[1], heading=180.0, fov=40.0),
    ]
    found = nearest(cameras, *SPOT, radius_m=300.0, limit=10)
    assert [c.id for c in found] == ["looks", "near", "turned-away"]
    assert [c.covers for c in found] == [True, False, False]
    assert found[1].to_json() == {"id": "near", "distance_m": 20.0, "covers": False}
    assert [c.id for c in nearest(cameras, *SPOT, radius_m=300.0, limit=1)] == ["looks"]


def test_the_camera_map_finds_what_the_spot_by_spot_sums_find():
    """The map's arrays (used for hundreds of open incidents at once) agree with the plain sums, spot under a
    camera, views across north and cameras with no view included."""
    rng = random.Random(7)
    views = (None, 0.0, 90.0, 355.0, 10.0)
    cameras = [
        Camera(f"c{i}", 31.77 + rng.uniform(-0.006, 0.006), 117.3 + rng.uniform(-0.006, 0.006), rng.choice(views),
               rng.choice((None, 60.0, 120.0)))
        for i in range(400)
    ]  # fmt: skip
    placed = CameraMap(cameras)
    spots = [(c.lat, c.lon) for c in cameras[:5]] + [
        (31.77 + rng.uniform(-0.006, 0.006), 117.3 + rng.uniform(-0.006, 0.006)) for _ in range(60)
    ]
    for lat, lon in spots:
        found = {c.id: c for c in placed.nearest(lat, lon, 300.0, 10_000)}
        assert set(found) == {c.id for c in cameras if distance_m(c.lat, c.lon, lat, lon) <= 300.0}
        for camera in cameras:
            if camera.id in found:
                assert found[camera.id].covers == covers(camera, lat, lon)
                assert found[camera.id].distance_m == pytest.approx(distance_m(camera.lat, camera.lon, lat, lon), abs=1e-6)
    assert CameraMap([]).nearest(31.77, 117.3, 300.0, 8) == []


def test_triage_goes_forward_acknowledged_first_and_a_resolved_one_can_reopen():
    item = incident()
    with pytest.raises(Refused, match="acknowledged first"):
        check_state_change(item, "resolved")
    check_state_change(item, "acknowledged")
    item.state = "acknowledged"
    with pytest.raises(Refused, match="needs a team"):
        check_state_change(item, "assigned")
    check_state_change(item, "resolved")  # a false alarm: resolved at once
    item.state = "resolved"
    check_state_change(item, "in_progress")  # reopened
    with pytest.raises(Refused, match="cannot go back"):
        check_state_change(item, "new")
    item.state = "closed"
    with pytest.raises(Refused, match="closed"):
        check_state_change(item, "in_progress")
    with pytest.raises(Refused, match="unknown state"):
        check_state_change(incident(), "done")


def test_severity_is_raised_never_lowered_and_settled_once_resolved():
    item = incident(severity=2)
    assert check_severity(item, 3) == 3
    with pytest.raises(Refused, match="never lowered"):
        check_severity(item, 1)
    for bad in (0, 5, "3", True, 2.5):
        with pytest.raises(Refused, match="severity must be"):
            check_severity(item, bad)
    item.state = "resolved"
    with pytest.raises(Refused, match="settled"):
        check_severity(item, 4)


def test_an_unacknowledged_incident_escalates_after_its_severitys_deadline_once():
    deadlines = {1: 1800.0, 2: 900.0, 3: 300.0, 4: 120.0}
    serious, minor = incident(severity=4), incident("inc-2", severity=1)
    assert not escalation_due(serious, deadlines, 1000.0 + 119)
    assert escalation_due(serious, deadlines, 1000.0 + 120)
    assert not escalation_due(minor, deadlines, 1000.0 + 900)
    serious.escalated = True
    assert not escalation_due(serious, deadlines, 5000.0), "escalated once"
    minor.state = "acknowledged"
    assert not escalation_due(minor, deadlines, 1e9), "acknowledged in time"


def test_a_report_of_the_same_kind_nearby_and_soon_is_offered_as_a_duplicate():
    new = incident("new", at=2000.0)
    others = [
        incident("close", at=1900.0, north_m=40.0),
        incident("closer", at=1500.0, north_m=10.0),
        incident("too-far", at=1900.0, north_m=400.0),
        incident("too-old", at=100.0, north_m=5.0),
        incident("other-kind", kind="traffic", at=1900.0),
        incident("resolved", at=1900.0, state="resolved"),
    ]
    assert [d.id for d in duplicates_of(new, others, radius_m=100.0, window_s=1800.0)] == ["closer", "close"]


def test_the_queue_puts_the_most_serious_then_the_oldest_first():
    items = [incident("a", severity=2, at=10.0), incident("b", severity=4, at=50.0), incident("c", severity=2, at=5.0)]
    assert [i.id for i in sorted(items, key=queue_order)] == ["b", "c", "a"]


def test_a_history_replayed_gives_the_incident_it_made():
    """Every incident of years of generated triage is what its own history makes (how a cluster node
    rebuilds an incident from the steps it merged)."""
    for made in generate(300, [(31.77, 117.3)], since=1.5e9, until=1.5e9 + 30 * 86400, seed=3):
        again = replay(dataclasses.replace(made, history=[]), made.history)
        fields = ("state", "severity", "team", "acknowledged_at", "escalated", "merged_into")
        assert [getattr(again, f) for f in fields] == [getattr(made, f) for f in fields]
        assert again.history == made.history


def test_two_nodes_histories_merged_keep_every_step_and_one_incident():
    base = Incident("i-1", "fire", 2, 31.77, 117.3, "smoke", "grid-1", 100.0)
    reported = Step(100.0, "grid-1", "reported", {"kind": "fire", "severity": 2})
    ack = Step(110.0, "duty-a", "state", {"state": "acknowledged"})
    on_a = [reported, ack, Step(120.0, "duty-a", "comment", {"text": "on the way"})]
    on_b = [reported, ack, Step(120.0, "duty-b", "severity", {"severity": 4}), Step(121.0, "duty-b", "team", {"team": "fire"})]
    merged = replay(base, on_a + on_b)
    assert [s.action for s in merged.history] == ["reported", "state", "severity", "comment", "team"], "each step once"
    assert (merged.state, merged.severity, merged.team, merged.acknowledged_at) == ("acknowledged", 4, "fire", 110.0)
    assert replay(base, on_b + on_a).history == merged.history, "the same whichever node's copy comes first"
    # an escalation both nodes noticed counts once; a later reopen does not undo a close made elsewhere
    late = [Step(300.0, "hub", "escalated", {"waited_s": 200.0}), Step(300.5, "hub", "escalated", {"waited_s": 200.5})]
    closed = [Step(400.0, "duty-a", "state", {"state": "closed"}), Step(401.0, "duty-b", "state", {"state": "in_progress"})]
    final = replay(base, on_a + late + closed)
    assert [s.action for s in final.history].count("escalated") == 1 and final.escalated
    assert final.state == "closed" and not final.open
    assert (
        replay(
            base,
            [reported, Step(200.0, "duty-a", "severity", {"severity": 3}), Step(200.0, "duty-b", "severity", {"severity": 2})],
        ).severity
        == 3
    )
