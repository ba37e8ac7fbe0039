"""The cluster's pure parts: rendezvous assignment, the step's moves, a node's own lease."""

from __future__ import annotations

import random

import pytest

from hub.cluster.assign import Assigner, NodeShare, assign, meaningful_change
from hub.cluster.lease import GAP_S, Lease
from hub.cluster.plan import plan, releases

CAMERAS = [f"cam-{i:05d}" for i in range(6000)]


def even(names, capacity=10_000):
    return {name: NodeShare(1.0, capacity) for name in names}


def test_every_node_computes_the_same_assignment_and_spreads_the_cameras_evenly():
    first = assign(CAMERAS, even(["a", "b", "c"]))
    assert first == assign(list(CAMERAS), dict(reversed(list(even(["a", "b", "c"]).items()))))
    counts = {n: sum(1 for v in first.values() if v == n) for n in "abc"}
    assert all(1800 <= c <= 2200 for c in counts.values()), counts


def test_a_node_leaving_moves_only_its_own_cameras_and_a_node_joining_takes_about_its_share():
    three = assign(CAMERAS, even(["a", "b", "c"]))
    two = assign(CAMERAS, even(["a", "b"]))
    moved = [c for c in CAMERAS if three[c] != two[c]]
    assert all(three[c] == "c" for c in moved), "only the dead node's cameras move"
    four = assign(CAMERAS, even(["a", "b", "c", "d"]))
    moved = [c for c in CAMERAS if three[c] != four[c]]
    assert all(four[c] == "d" for c in moved)
    assert 0.2 * len(CAMERAS) <= len(moved) <= 0.3 * len(CAMERAS), len(moved)  # about a quarter


def test_shares_follow_the_weights():
    out = assign(CAMERAS, {"big": NodeShare(3.0, 10_000), "small": NodeShare(1.0, 10_000)})
    big = sum(1 for v in out.values() if v == "big") / len(CAMERAS)
    assert 0.72 <= big <= 0.78, big


def test_a_capacity_cap_overflows_to_the_next_choice_and_past_every_cap_nothing_is_dropped():
    out = assign(CAMERAS, {"a": NodeShare(1.0, 1000), "b": NodeShare(1.0, 10_000)})
    assert sum(1 for v in out.values() if v == "a") == 1000
    assert sum(1 for v in out.values() if v == "b") == 5000
    short = assign(CAMERAS, {"a": NodeShare(1.0, 2000), "b": NodeShare(1.0, 2500)})
    counts = {n: sum(1 for v in short.values() if v == n) for n in ("a", "b")}
    assert sum(counts.values()) == len(CAMERAS), "past every node's capacity, every camera still has a node"
    assert all(2800 <= c <= 3200 for c in counts.values()), counts  # the caps cannot hold: each its weighted share
    assert assign(CAMERAS[:3], {}) == dict.fromkeys(CAMERAS[:3])


def test_past_every_cap_capacities_that_move_move_no_camera():
    """Capacities measured under load wobble, and fall as a node takes more: while the estate does not fit,
    none of that may move a camera (each move is a reconnect and a gap on the wall)."""
    short = assign(CAMERAS, {"a": NodeShare(1.0, 2000), "b": NodeShare(1.0, 2500)})
    assert assign(CAMERAS, {"a": NodeShare(1.0, 1400), "b": NodeShare(1.0, 3100)}) == short
    assigner = Assigner()
    assert assigner(CAMERAS, {"a": NodeShare(1.0, 2000), "b": NodeShare(1.0, 2500)}) == short
    assert assigner(CAMERAS, {"a": NodeShare(1.0, 2600), "b": NodeShare(1.0, 1900)}) == short


def test_capacities_that_wobble_a_little_do_not_reassign():
    before = {"a": NodeShare(1.0, 800), "b": NodeShare(1.0, 800)}
    assert not meaningful_change(before, {"a": NodeShare(1.05, 780), "b": NodeShare(0.97, 820)})
    assert meaningful_change(before, {"a": NodeShare(1.0, 600), "b": NodeShare(1.0, 800)})
    assert meaningful_change(before, {"a": NodeShare(1.0, 800)})


def test_orphans_move_at_once_and_a_live_holders_cameras_move_a_few_per_step():
    target = {f"c{i}": "new" for i in range(10)} | {"x": "a"}
    held = {f"c{i}": "a" for i in range(6)} | {f"c{i}": "dead" for i in range(6, 9)} | {"c9": None, "x": "a"}
    moves = plan(held, target, alive={"a", "new"}, per_step=2)
    assert set(moves.orphans) == {"c6", "c7", "c8", "c9"}
    assert len(moves.rebalance) == 2 and all(held[c] == "a" for c in moves.rebalance)
    assert releases(held, moves, "a") == sorted(moves.rebalance)
    assert set(moves.claims("new")) == set(moves.orphans) | set(moves.rebalance)
    assert "x" not in moves.orphans and "x" not in moves.rebalance


def test_a_node_stops_before_its_heartbeat_could_expire_in_redis():
    lease = Lease(ttl_s=6.0, margin_s=1.0)
    assert not lease.may_pull(0.0), "no heartbeat yet"
    lease.renewed(sent_at=10.0)
    lease.tick(10.0)
    assert lease.may_pull(14.9) and not lease.may_pull(15.0)  # 1 s before Redis's expiry at >= 16


def test_a_node_that_did_not_run_stops_but_one_that_kept_trying_an_absent_redis_keeps_its_cameras():
    paused = Lease()
    paused.renewed(0.0)
    paused.tick(0.0)
    paused.tick(12.0)  # SIGSTOP for 12 s: no ticks, no attempts
    assert paused.lapsed and not paused.may_pull(12.0)
    waiting = Lease()
    waiting.renewed(0.0)
    now = 0.0
    while now < 30.0:  # Redis down for 30 s, the node ticking and failing every 2 s
        now += 2.0
        waiting.tick(now)
        waiting.failed(now)
    assert waiting.frozen and waiting.may_pull(now) and not waiting.lapsed
    waiting.renewed(now)
    assert not waiting.frozen and waiting.may_pull(now + 1)


@pytest.mark.parametrize("gap", [GAP_S * 0.9, 4.0])
def test_a_short_stall_within_the_lease_is_no_lapse(gap):
    lease = Lease()
    lease.renewed(0.0)
    lease.tick(0.0)
    lease.tick(gap)
    assert not lease.lapsed and lease.may_pull(gap)


def test_worked_out_again_from_its_last_answer_the_assignment_is_the_same_as_from_scratch():
    rng = random.Random(7)
    assigner, nodes = Assigner(), {f"n{i}": NodeShare(1.0, 10_000) for i in range(8)}
    cameras = tuple(CAMERAS)
    for step in range(30):  # nodes leave and join; now and then a weight or a cap changes
        nodes = dict(nodes)
        if rng.random() < 0.5 and len(nodes) > 2:
            del nodes[rng.choice(sorted(nodes))]
        else:
            nodes[f"n{8 + step}"] = NodeShare(1.0, 10_000)
        if step % 7 == 6:
            name = rng.choice(sorted(nodes))
            nodes[name] = NodeShare(2.0, 10_000 if step % 2 else 500)
        assert assigner(cameras, nodes) == assign(cameras, nodes), step


def test_a_node_whose_redis_is_away_for_it_alone_stops_at_its_deadline_and_otherwise_keeps_its_cameras():
    lease = Lease()
    lease.renewed(100.0)
    lease.failed(102.0)  # renewals fail from 102 on
    assert not lease.peers_renewed([4.0, 9.0], 105.0)  # the others renewed at 101 and 96: before this node failed
    assert lease.may_pull(120.0), "Redis away for everyone: keep pulling past the deadline"
    assert lease.peers_renewed([1.0], 105.0)  # another node renewed at 104, after this node's renewals began to fail
    assert lease.may_pull(104.9) and not lease.may_pull(105.0), "cut off alone: stop at the deadline (100 + 6 - 1)"
    lease.renewed(110.0)
    assert not lease.cut_off and lease.may_pull(114.0), "reaching Redis again clears it"
