"""The cluster's shared state on a real `redis-server` (loopback, a free port): joins, heartbeats,
fencing epochs and claims, as several nodes see them. Waits are on Redis's own expiry with deadlines."""

from __future__ import annotations

import asyncio
import time

import pytest

from hub.cluster.assign import NodeShare
from hub.cluster.store import ClusterStore

redis_asyncio = pytest.importorskip("redis.asyncio")
pytestmark = pytest.mark.redis
SHARE = NodeShare(1.0, 100)
TTL_S = 1.0  # short heartbeats, so that expiry is quick to wait for


@pytest.fixture
async def nodes(redis_server):
    clients = []

    def node(name: str) -> ClusterStore:
        client = redis_asyncio.Redis.from_url(redis_server.url)
        clients.append(client)
        return ClusterStore(client, name, ttl_s=TTL_S)

    yield node
    for client in clients:
        await client.aclose()


async def until(condition, deadline_s: float = 10.0):
    end = time.monotonic() + deadline_s
    while not await condition():
        assert time.monotonic() < end, "deadline passed"
        await asyncio.sleep(0.05)


async def test_each_camera_has_one_holder_and_a_live_holder_keeps_it(nodes):
    a, b = nodes("a"), nodes("b")
    assert await a.join(SHARE) == 1 and await b.join(SHARE) == 2, "each join takes a new fencing epoch"
    assert await a.claim(["c1", "c2"]) == {"c1", "c2"}
    assert await b.claim(["c1", "c2", "c3"]) == {"c3"}, "a live holder's cameras are not free"
    view = await b.view()
    assert view.holders == {"c1": "a", "c2": "a", "c3": "b"}
    assert set(view.members) == {"a", "b"} and view.members["a"].epoch == 1


async def test_a_dead_nodes_claims_lapse_with_its_heartbeat_and_another_node_takes_them(nodes):
    a, b = nodes("a"), nodes("b")
    await a.join(SHARE)
    await b.join(SHARE)
    await a.claim(["c1"])
    for _ in range(3):  # b keeps renewing; a stops (killed)
        await asyncio.sleep(TTL_S / 2)
        assert await b.renew(SHARE) == 1
    await until(lambda: _holder_gone(b, "c1"))
    assert await b.claim(["c1"]) == {"c1"}


async def _holder_gone(store: ClusterStore, camera: str) -> bool:
    await store.renew(SHARE)
    return camera not in (await store.view()).holders


async def test_a_stale_epoch_can_write_nothing_and_a_live_name_cannot_join_twice(nodes):
    old, b = nodes("a"), nodes("b")
    await old.join(SHARE)
    await b.join(SHARE)
    again = nodes("a")
    assert await again.join(SHARE) == 0, "the old heartbeat still lives"
    await until(lambda: _expired(old), deadline_s=5 * TTL_S)
    assert await again.join(SHARE) > 0
    assert await old.renew(SHARE) == 0, "replaced by a newer epoch of its own name"
    assert await old.claim(["c9"]) == set() and await old.release(["c9"]) == 0
    assert await again.claim(["c9"]) == {"c9"}


async def _expired(store: ClusterStore) -> bool:
    return await store.client.exists(f"hub:node:{store.node}") == 0


async def test_a_node_releases_only_its_own_claims(nodes):
    a, b = nodes("a"), nodes("b")
    await a.join(SHARE)
    await b.join(SHARE)
    await a.claim(["c1"])
    await b.claim(["c2"])
    assert await b.release(["c1", "c2"]) == 1
    assert (await a.view()).holders == {"c1": "a"}


async def test_a_handover_gives_only_ones_own_cameras_to_the_goals_live_claim_or_releases_them(nodes):
    a, b, c = nodes("a"), nodes("b"), nodes("c")
    await a.join(SHARE)
    b_epoch = await b.join(SHARE)
    await c.join(SHARE)
    await a.claim(["c1", "c2"])
    await c.claim(["c3"])
    assert await a.handover("b", ["c1", "c3"]) == (b_epoch, {"c1"}), "c3 is c's: not a's to give"
    assert await b.claim(["c1"]) == {"c1"}, "b finds c1 already its own"
    assert await c.claim(["c1"]) == set(), "c1 has a live holder: b"
    view = await c.view()  # followed from the claims log
    assert view.holders == {"c1": "b", "c2": "a", "c3": "c"}
    assert await a.handover("nobody", ["c2"]) == (0, {"c2"}), "no live goal: released instead"
    assert "c2" not in (await c.view()).holders and await c.claim(["c2"]) == {"c2"}
    stale = nodes("a")  # a's heartbeat gone and taken again by a new epoch: the old one may give nothing
    await a.client.delete("hub:node:a")
    await stale.join(SHARE)
    await stale.claim(["c4"])
    assert await a.handover("b", ["c4"]) == (0, set())
    assert (await b.view()).holders["c4"] == "a"


async def test_after_redis_loses_its_data_a_node_finds_its_heartbeat_gone_and_joins_again(nodes, redis_server):
    a = nodes("a")
    await a.join(SHARE)
    await a.claim(["c1"])
    redis_server.restart()
    await until(lambda: _answers(a))
    assert await a.renew(SHARE) == -1, "gone: the node must join again before it writes"
    assert await a.join(SHARE) >= 1
    assert await a.claim(["c1"]) == {"c1"}


async def _answers(store: ClusterStore) -> bool:
    try:
        return bool(await store.client.ping())
    except Exception:
        return False


async def test_a_holder_shares_only_its_own_cameras_records_and_the_others_read_them_in_order(nodes):
    a, b = nodes("a"), nodes("b")
    await a.join(SHARE)
    await b.join(SHARE)
    await a.claim(["c1"])
    await b.claim(["c2"])
    assert await a.share([("c1", b'{"v":1}'), ("c2", b'{"v":"not mine"}')], 1000) == 1
    assert await a.share([("c1", b'{"v":2}')], 1000) == 1
    last_id, records = await b.records()
    assert records == {"c1": b'{"v":2}'} and last_id != "0-0"
    changes, missed = await b.changes("0-0", 100)
    assert [(camera, body) for _, camera, body in changes] == [("c1", b'{"v":1}'), ("c1", b'{"v":2}')] and not missed
    assert (await b.changes(last_id, 100))[0] == []  # nothing after the last one read
    await b.share([("c2", b'{"v":3}')], 1000)
    assert [body for _, _, body in (await a.changes(last_id, 100))[0]] == [b'{"v":3}']


async def test_a_stale_epoch_shares_nothing_and_a_reader_left_behind_the_trim_is_told(nodes):
    a, b = nodes("a"), nodes("b")
    await a.join(SHARE)
    await a.claim(["c1"])
    await a.share([("c1", b"first")], 1000)
    (first_id, _, _), *_ = (await b.changes("0-0", 1))[0]
    for n in range(300):  # far past a Stream trimmed to about 100 entries
        await a.share([("c1", f"{n}".encode())], 100)
    changes, missed = await b.changes(first_id, 1000)
    assert missed, "a reader whose last change was trimmed away must read every record again"
    stale = ClusterStore(a.client, "a", ttl_s=TTL_S)
    stale.epoch = a.epoch - 1
    assert await stale.share([("c1", b"stale")], 1000) == 0
    assert (await b.records())[1]["c1"] == b"299"


async def test_a_view_follows_the_claims_log_and_reads_everything_again_after_redis_lost_its_data(nodes):
    a, b = nodes("a"), nodes("b")
    await a.join(SHARE)
    await b.join(SHARE)
    await a.claim(["c1", "c2", "c3"])
    assert (await b.view()).holders == {"c1": "a", "c2": "a", "c3": "a"}
    await a.release(["c2"])
    await b.claim(["c2"])
    assert (await b.view()).holders == {"c1": "a", "c2": "b", "c3": "a"}, "claims and releases come from the log"
    await a.client.flushall()  # Redis lost its data: epochs, heartbeats, claims, the log
    await a.join(SHARE)
    await b.join(SHARE)
    await a.claim(["c1"])
    assert (await b.view()).holders == {"c1": "a"}, "a new generation: nothing stale is kept"
