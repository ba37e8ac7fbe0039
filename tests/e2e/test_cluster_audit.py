"""The cluster's audit trail on a real `redis-server` (loopback, a free port): each node's hash chain is
copied as written, a copy that was tampered with fails verification, the export merges the nodes by
time, a node that stopped before copying copies the rest when it starts again, and each node keeps a copy
of the others' entries that the API lists with its own."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import pytest
import redis

from hub.auth.audit import AuditTrail, audit_db_for
from hub.cluster.assign import NodeShare
from hub.cluster.audit import AuditShip, export_cluster, verify_cluster
from hub.cluster.audit_copies import AuditFollow, OtherTrails, audit_copies_db_for, merged
from hub.cluster.store import ClusterStore

redis_asyncio = pytest.importorskip("redis.asyncio")
pytestmark = pytest.mark.redis
DAY = 86400.0


@pytest.fixture
async def joined(redis_server):
    clients = []

    async def store(name: str) -> ClusterStore:
        clients.append(redis_asyncio.Redis.from_url(redis_server.url))
        made = ClusterStore(clients[-1], name)
        await made.join(NodeShare(1.0, 100))
        return made

    yield store
    for client in clients:
        await client.aclose()


async def copied(ship: AuditShip, upto: int) -> None:
    end = time.monotonic() + 10
    while (ship.shipped or 0) < upto:
        assert time.monotonic() < end, f"not copied up to {upto} within 10 s"
        await ship.ship_batch()


def trail(tmp_path, name: str) -> AuditTrail:
    (tmp_path / name).mkdir(exist_ok=True)
    return AuditTrail(audit_db_for(tmp_path / name / "hub.toml"))


async def test_each_nodes_chain_is_copied_verified_and_exported_merged_by_time(tmp_path, joined, redis_server):
    a_trail, b_trail = trail(tmp_path, "a"), trail(tmp_path, "b")
    a = AuditShip(await joined("a"), a_trail.path, 90 * DAY)
    b = AuditShip(await joined("b"), b_trail.path, 90 * DAY)
    a_trail.append("ann", "login", "", "10.0.0.1")
    b_trail.append("bob", "login", "", "10.0.0.2")
    a_trail.append("ann", "stream_open", "cam-1", "10.0.0.1", reason="incident 7")
    await copied(a, 2)
    await copied(b, 1)
    sync = redis.Redis.from_url(redis_server.url)
    assert verify_cluster(sync) == [
        ("a", True, f"2 entries (entries 1-2), chain whole; head 2:{a_trail.rows_after(1, 1)[0][8]}"),
        ("b", True, f"1 entries (entries 1-1), chain whole; head 1:{b_trail.rows_after(0, 1)[0][8]}"),
    ]
    rows = list(export_cluster(sync, None))
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [("a", 1, "ann", "login"), ("b", 1, "bob", "login"),
                                                        ("a", 2, "ann", "stream_open")]  # fmt: skip
    assert json.loads(rows[2][7]) == {"reason": "incident 7"}
    assert [r[1] for r in export_cluster(sync, time.time() + 60)] == []
    # someone with Redis access rewrites a's first entry: the chain no longer holds
    copy = [fields for _, fields in sync.xrange("hub:audit:a")]
    entry = json.loads(copy[0][b"e"])
    entry["who"] = "mallory"
    copy[0][b"e"] = json.dumps(entry)
    sync.delete("hub:audit:a")
    for fields in copy:
        sync.xadd("hub:audit:a", fields)
    found = dict((node, (whole, finding)) for node, whole, finding in verify_cluster(sync))
    assert found["a"] == (False, "entry 1 was changed after it was written")
    assert found["b"][0]
    last_id = sync.xrevrange("hub:audit:b", count=1)[0][0]
    sync.xdel("hub:audit:b", last_id)  # the newest entry removed: the copy ends before what b copied
    found = dict((node, (whole, finding)) for node, whole, finding in verify_cluster(sync))
    assert found["b"] == (False, "the copy is empty, though the node copied up to entry 1 (cut by the retention, or removed)")
    sync.close()
    for each in (a, b):
        each.close()
    a_trail.close()
    b_trail.close()


async def test_a_node_that_stopped_before_copying_copies_the_rest_when_it_starts_again(tmp_path, joined, redis_server):
    own = trail(tmp_path, "a")
    store = await joined("a")
    first = AuditShip(store, own.path, 90 * DAY)
    own.append("ann", "login", "", "10.0.0.1")
    await copied(first, 1)
    first.close()  # the node is killed: what it writes now is on its disk only
    for n in range(600):  # more than one batch
        own.append("ann", "snapshot", f"cam-{n}", "10.0.0.1")
    again = AuditShip(store, own.path, 90 * DAY)
    await asyncio.wait_for(again.ship_batch(), 10)  # where the record says it stopped
    await copied(again, 601)
    sync = redis.Redis.from_url(redis_server.url)
    [(node, whole, finding)] = verify_cluster(sync)
    assert (node, whole) == ("a", True) and finding.startswith("601 entries"), finding
    sync.close()
    again.close()
    own.close()


async def test_a_stale_epoch_copies_nothing(tmp_path, joined, redis_server):
    own = trail(tmp_path, "a")
    store = await joined("a")
    await store.client.delete("hub:node:a")  # its heartbeat gone (paused past its lease) and its name taken again
    await joined("a")
    ship = AuditShip(store, own.path, 90 * DAY)
    own.append("ann", "login", "", "10.0.0.1")
    assert await ship.ship_batch() is False and ship.shipped == 0
    assert await store.client.xlen("hub:audit:a") == 0
    ship.close()
    own.close()


async def test_nodes_sharing_one_trail_on_one_machine_export_each_entry_once(tmp_path, joined, redis_server):
    shared = trail(tmp_path, "one-machine")
    ships = [AuditShip(await joined(name), shared.path, 90 * DAY) for name in ("a", "b")]
    for n in range(3):
        shared.append("ann", "snapshot", f"cam-{n}", "10.0.0.1")
    for ship in ships:
        await copied(ship, 3)
    sync = redis.Redis.from_url(redis_server.url)
    assert [(r[0], r[5]) for r in export_cluster(sync, None)] == [("a", "cam-0"), ("a", "cam-1"), ("a", "cam-2")]
    assert all(whole for _, whole, _ in verify_cluster(sync))
    sync.close()
    for ship in ships:
        ship.close()
    shared.close()


async def test_a_node_whose_trail_was_replaced_keeps_its_old_copy_and_copies_the_new_trail(tmp_path, joined, redis_server):
    old = trail(tmp_path, "old-disk")
    store = await joined("a")
    first = AuditShip(store, old.path, 90 * DAY)
    for _ in range(3):
        old.append("ann", "login", "", "10.0.0.1")
    await copied(first, 3)
    first.close()
    new = trail(tmp_path, "new-disk")  # the node comes back on a new disk: its trail starts at 1 again
    new.append("bob", "login", "", "10.0.0.2")
    again = AuditShip(store, new.path, 90 * DAY)
    await copied(again, 1)
    sync = redis.Redis.from_url(redis_server.url)
    found = {node.split("@")[0] + ("@" if "@" in node else ""): (whole, finding) for node, whole, finding in verify_cluster(sync)}
    assert found["a"][0] and found["a"][1].startswith("1 entries"), found
    assert found["a@"][0] and found["a@"][1].startswith("3 entries"), found
    assert sorted(r[3] for r in export_cluster(sync, None)) == ["ann", "ann", "ann", "bob"]
    sync.close()
    again.close()
    old.close()
    new.close()


async def test_each_node_lists_the_others_entries_with_its_own_filtered_and_merged_by_time(tmp_path, joined, redis_server):
    a_trail, b_trail = trail(tmp_path, "a"), trail(tmp_path, "b")
    a_store = await joined("a")
    b_ship = AuditShip(await joined("b"), b_trail.path, 90 * DAY)
    a_trail.append("ann", "login", "", "10.0.0.1")
    for n in range(1500):  # more than one read of the Stream
        b_trail.append("bob", "snapshot", f"cam-{n % 7}", "10.0.0.2")
    a_trail.append("ann", "stream_open", "cam-3", "10.0.0.1", reason="incident 7")
    await copied(b_ship, 1500)
    copies = OtherTrails(audit_copies_db_for(tmp_path / "a" / "hub.toml"))
    follow = AuditFollow(a_store, copies, 90 * DAY)
    await follow.step()
    assert copies.followed().keys() == {"b"}, "a reads the others' Streams, never its own"

    def listed(limit=5000, **filters):
        keys = dict.fromkeys(("since", "until", "who", "action", "stream"))
        own = [dataclasses.replace(e, node="a") for e in a_trail.entries(**{**keys, **filters}, limit=limit)]
        return merged(own, copies.entries(*{**keys, **filters}.values(), limit=limit), limit)

    everything = listed()
    assert len(everything) == 1502 and [e.at for e in everything] == sorted((e.at for e in everything), reverse=True)
    assert (everything[0].node, everything[0].action, everything[0].detail) == ("a", "stream_open", {"reason": "incident 7"})
    assert {e.node for e in everything} == {"a", "b"} and everything[-1].who == "ann"
    assert everything[1].to_json()["node"] == "b" and "hash" not in everything[1].to_json()
    on_cam3 = listed(stream="cam-3")
    assert [e.node for e in on_cam3] == ["a"] + ["b"] * sum(1 for n in range(1500) if n % 7 == 3)
    assert [e.who for e in listed(limit=3, who="bob")] == ["bob"] * 3
    b_trail.append("bob", "logout", "", "10.0.0.2")  # a later entry is read where the last read stopped
    await copied(b_ship, 1501)
    await follow.step()
    assert [(e.node, e.action) for e in listed(limit=2)] == [("b", "logout"), ("a", "stream_open")]
    await follow.step()  # read again: nothing is listed twice
    assert len(listed()) == 1503
    follow.close()
    b_ship.close()
    a_trail.close()
    b_trail.close()
