"""The patrol's pure parts, driven with made-up times: the rotation, the verdict merge, who is looking."""

from __future__ import annotations

import random

import numpy as np

from hub import health as h
from hub.config import HealthSettings
from hub.ingest.observations import Opened, Packet, PacketBatch, Picture
from hub.patrol.interest import Interest
from hub.patrol.schedule import PatrolPlan, PatrolTiming
from hub.patrol.verdict import OVERDUE, ProbeOutcome, VisitOutcome, patrol_verdict, visit_settled

ESTATE = 1538  # the reference estate's patrolled cameras
TIMING = PatrolTiming(period_s=300.0, probe_interval_s=30.0, concurrency=32)


def _simulate(plan: PatrolPlan, seconds: float, visit_s: float = 5.0, step: float = 0.2, urgent_share: float = 0.0):
    """Run the rotation with visits that take `visit_s`; returns each camera's visit start times and the
    times its reachability was checked (probes, and visits' ends: a visit answers what a probe asks)."""
    visits: dict[str, list[float]] = {sid: [] for sid in plan.slots}
    probes: dict[str, list[float]] = {sid: [] for sid in plan.slots}
    running: list[tuple[float, str]] = []
    now = 0.0
    while now < seconds:
        for end, sid in [r for r in running if r[0] <= now]:
            running.remove((end, sid))
            plan.visited(sid, now)
            probes[sid].append(now)
        for sid in plan.due_visits(now, plan.timing.concurrency - len(running)):
            plan.visit_started(sid, now)
            visits[sid].append(now)
            running.append((now + visit_s, sid))
        for sid in plan.due_probes(now):
            plan.probe_started(sid)
            probes[sid].append(now)
            plan.probed(sid, now, needs_visit=random.random() < urgent_share)
        now += step
    return visits, probes


def _worst_gap(times: list[float], start: float, end: float) -> float:
    edges = [start, *times, end]
    return max(b - a for a, b in zip(edges, edges[1:], strict=False))


def test_the_whole_estate_is_visited_within_the_period_and_probed_within_the_interval():
    plan = PatrolPlan(TIMING)
    plan.add([f"cam-{i:04d}" for i in range(ESTATE)], now=0.0)
    visits, probes = _simulate(plan, seconds=1200.0)
    # After the first round, no camera waits longer than the period between two visits' starts
    # (a visit itself takes 5 s, so its verdict is never older than the period either).
    assert max(_worst_gap([t for t in ts if t >= 300], 300.0, 1200.0) for ts in visits.values()) <= 300 - 5
    assert all(ts and ts[0] <= 0.85 * 300 for ts in visits.values()), "the first round fits well inside a period"
    assert max(_worst_gap(sorted(ts), 0.0, 1200.0) for ts in probes.values()) <= 30.0 + 0.5, (
        "reachability is known within one probe interval from the start on"
    )


def test_urgent_visits_here_and_there_never_make_a_regular_one_late():
    random.seed(9)
    plan = PatrolPlan(TIMING)
    plan.add([f"cam-{i:04d}" for i in range(ESTATE)], now=0.0)
    visits, _ = _simulate(plan, seconds=1200.0, urgent_share=0.02)  # 2 % of probes ask for a visit at once
    assert max(_worst_gap([t for t in ts if t >= 300], 300.0, 1200.0) for ts in visits.values()) <= 300 - 5


def test_visits_are_spread_evenly_not_bunched():
    plan = PatrolPlan(TIMING)
    plan.add([f"cam-{i:04d}" for i in range(ESTATE)], now=0.0)
    visits, _ = _simulate(plan, seconds=900.0)
    starts = sorted(t for ts in visits.values() for t in ts if 300 <= t < 900)
    per_minute = np.histogram(starts, bins=10, range=(300, 900))[0]
    assert per_minute.max() <= 1.3 * per_minute.mean(), per_minute


def test_an_urgent_visit_jumps_the_queue():
    plan = PatrolPlan(TIMING)
    plan.add(["a", "b", "c"], now=0.0)
    for sid in ("a", "b", "c"):
        plan.visit_started(sid, 0.0)
        plan.visited(sid, 5.0)
    assert plan.due_visits(10.0, 4) == []
    plan.probed("b", 10.0, needs_visit=True)
    assert plan.due_visits(10.0, 4) == ["b"]


def test_an_urgent_visit_never_pushes_the_next_regular_one_beyond_the_period():
    plan = PatrolPlan(TIMING)
    plan.add([f"cam-{i:04d}" for i in range(ESTATE)], now=0.0)
    last = "cam-1537"  # its first regular visit is due late in the first round
    assert plan.slots[last].next_visit > 200
    plan.probed(last, 10.0, needs_visit=True)
    assert plan.due_visits(10.0, 1) == [last]
    plan.visit_started(last, 10.0)
    plan.visited(last, 15.0)
    assert plan.slots[last].next_visit <= 10.0 + 300 - 5, "revisited within the period of the urgent visit"


def test_a_visit_counts_as_a_probe():
    plan = PatrolPlan(PatrolTiming(300.0, 30.0, 32))
    plan.add(["a"], now=0.0)
    plan.visit_started("a", 40.0)
    plan.visited("a", 45.0)
    assert plan.due_probes(74.0) == []
    assert plan.due_probes(75.0) == ["a"]


def test_the_newer_of_visit_and_probe_decides_and_an_old_up_verdict_is_overdue():
    online = VisitOutcome(h.Verdict(h.ONLINE), ended=100.0)
    assert patrol_verdict(None, None, 0.0, 300.0) == h.Verdict(h.CONNECTING)
    assert patrol_verdict(online, ProbeOutcome("ok", 120.0), 130.0, 300.0) == h.Verdict(h.ONLINE)
    assert patrol_verdict(online, ProbeOutcome("not_found", 120.0), 130.0, 300.0) == h.Verdict(h.OFFLINE, ("not_found",))
    assert patrol_verdict(online, ProbeOutcome("auth_failed", 120.0), 130.0, 300.0) == h.Verdict(h.UNAUTHORIZED, ("auth_failed",))
    assert patrol_verdict(online, ProbeOutcome("stalled", 90.0), 130.0, 300.0) == h.Verdict(h.ONLINE), "the visit came after"
    assert patrol_verdict(online, ProbeOutcome("ok", 390.0), 401.0, 300.0) == h.Verdict(h.CONNECTING, (OVERDUE,))
    offline = VisitOutcome(h.Verdict(h.OFFLINE, ("unreachable",)), ended=100.0)
    assert patrol_verdict(offline, None, 1000.0, 300.0) == h.Verdict(h.OFFLINE, ("unreachable",)), "down stays down"


def _thumb(level: int) -> np.ndarray:
    rng = np.random.default_rng(level)
    return (rng.integers(0, 50, size=(36, 64)) + level).astype(np.uint8)


def _visit_health(fps: float, seconds: float, pictures: list[tuple[float, int]]) -> h.StreamHealth:
    health = h.StreamHealth(HealthSettings(), 25.0)
    h.observe(health, Opened(1, "h264", 640, 360, 25.0), 0.0)
    packets = tuple(Packet(i / fps, 1000, i % int(2 * fps) == 0) for i in range(int(seconds * fps)))
    h.observe(health, PacketBatch(1, packets), seconds)
    for at, level in pictures:
        h.observe(health, Picture(1, at, 640, 360, _thumb(level), b""), at)
    return health


def test_a_visit_to_a_healthy_camera_is_short():
    health = _visit_health(25.0, 3.2, [(0.0, 60), (2.0, 120)])
    assert visit_settled(health, 0.0, 3.2)
    assert not visit_settled(_visit_health(25.0, 2.5, [(0.0, 60), (2.0, 120)]), 0.0, 2.5), "rates need 2 s after the burst"


def test_a_still_picture_keeps_the_visit_going_until_the_frozen_rule_decides():
    still = [(t, 60) for t in (0.0, 2.0, 4.0, 6.0)]
    assert not visit_settled(_visit_health(25.0, 6.5, still), 0.0, 6.5)
    health = _visit_health(25.0, 8.5, still + [(8.0, 60)])
    assert visit_settled(health, 0.0, 8.5)
    assert "frozen" in h.evaluate(health, 8.5).reasons


def test_too_few_frames_keep_the_visit_going_until_the_full_window():
    assert not visit_settled(_visit_health(5.0, 4.0, [(0.0, 60), (2.0, 120)]), 0.0, 4.0)
    health = _visit_health(5.0, 6.2, [(0.0, 60), (2.0, 120), (4.0, 180), (6.0, 20)])
    assert visit_settled(health, 0.0, 6.2)
    assert "low_fps" in h.evaluate(health, 6.2).reasons


def test_a_held_stream_stays_live_and_a_look_lasts_the_grace():
    interest = Interest(grace_s=60.0)
    assert not interest.wants_live("a", 0.0)
    interest.hold("a", 0.0)
    interest.hold("a", 1.0)  # two walls
    interest.release("a", 100.0)
    assert interest.wants_live("a", 500.0), "one wall still shows it"
    interest.release("a", 500.0)
    assert interest.wants_live("a", 559.0)
    assert not interest.wants_live("a", 561.0)
    interest.look("b", 10.0)
    interest.hold("c", 20.0)
    assert interest.looked_at(69.0) == {"b", "c"}, "a's grace is over; b's still runs; c is held"
    assert interest.wants_live("b", 69.0) and not interest.wants_live("b", 71.0)
    assert interest.looked_at(71.0) == {"c"}


def test_the_first_look_at_a_stream_is_told_at_once_and_only_the_first():
    began = []
    interest = Interest(60.0, began.append)
    interest.hold("a", 0.0)
    interest.hold("a", 1.0)  # a second wall: the stream is already wanted
    interest.look("a", 2.0)
    interest.look("b", 3.0)
    interest.look("b", 4.0)
    assert began == ["a", "b"]
    interest.release("a", 5.0)
    interest.release("a", 5.0)
    interest.hold("a", 10.0)  # within the grace: still wanted, nothing new
    interest.look("b", 100.0)  # the grace over: a new look
    assert began == ["a", "b", "b"]


def test_cameras_added_one_at_a_time_probe_spread_and_checked_ones_are_not_revisited_at_once():
    # A big estate's live streams shed one by one, or many looks ending: probes must not bunch up.
    plan = PatrolPlan(TIMING)
    for i in range(300):
        plan.add([f"cam-{i:04d}"], 100.0, checked=True)
    probe_at = sorted(slot.next_probe - 100.0 for slot in plan.slots.values())
    per_second = np.histogram(probe_at, bins=int(TIMING.probe_interval_s), range=(0, TIMING.probe_interval_s))[0]
    assert per_second.max() <= 3 * 300 / TIMING.probe_interval_s, per_second
    assert all(100.0 + 0.7 * TIMING.period_s <= slot.next_visit <= 100.0 + TIMING.period_s for slot in plan.slots.values()), (
        "their verdict is fresh: the next visit comes most of a period later"
    )
    assert plan.due_visits(101.0, 32) == []
    plan.add(["new-one"], 100.0)
    assert plan.due_visits(100.0, 32) == ["new-one"], "a camera never judged is visited at once"


def test_a_visit_ending_while_a_probe_runs_does_not_push_the_next_probe_twice():
    plan = PatrolPlan(TIMING)
    plan.add(["cam"], 0.0)
    slot = plan.slots["cam"]
    slot.next_visit, slot.next_probe = 100.0, 100.0
    plan.visit_started("cam", 100.0)
    plan.probe_started("cam")  # due at the same moment: both run
    plan.visited("cam", 104.0)  # the visit answers reachability: next probe an interval after it
    plan.probed("cam", 104.1, needs_visit=False)
    assert plan.slots["cam"].next_probe <= 104.1 + TIMING.probe_interval_s, "reachability unknown for two intervals"
