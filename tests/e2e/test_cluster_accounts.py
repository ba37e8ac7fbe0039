"""Accounts kept alike on every node through a real `redis-server` (loopback, a free port): users, rights,
tokens and layouts changed on one node reach the others' own databases, where their stores read them.
Two nodes' syncs run as tasks; waits are on conditions with deadlines."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from support.cluster_member import Member

from hub.auth.account_rows import AccountRows
from hub.auth.tokens import TokenStore
from hub.auth.users import UserStore, users_db_for
from hub.cluster.accounts import AccountsSync, LayoutRows, may_found_accounts
from hub.config.cluster import ClusterSettings

redis_asyncio = pytest.importorskip("redis.asyncio")
pytestmark = pytest.mark.redis
TTL_S = 1.0  # short heartbeats: a stopped node's name is free again soon
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"  # a stored hash as the stores keep it (never checked here)


class Node:
    """One node's account database, layouts file and sync, in a folder of its own."""

    def __init__(self, folder: Path, name: str, url: str):
        folder.mkdir(exist_ok=True)
        self.config = folder / "streams.toml"
        self.layouts = folder / "streams.layouts.json"
        self.member = Member(url, name, ttl_s=TTL_S)
        self.store = self.member.store
        self.rows = AccountRows(users_db_for(self.config))
        self.sync = AccountsSync(self.store, self.rows, LayoutRows(self.layouts))

    async def start(self) -> Node:
        """Join (once a stopped self's heartbeat has expired), keep the heartbeat alive, and sync."""
        await self.member.start(self.sync)
        return self

    def users(self) -> UserStore:
        return UserStore(users_db_for(self.config))

    def tokens(self) -> TokenStore:
        return TokenStore(users_db_for(self.config))

    async def stop(self) -> None:
        await self.member.stop()
        self.rows.close()


@pytest.fixture
async def node(tmp_path, redis_server):
    made: list[Node] = []

    async def make(name: str, start: bool = True) -> Node:
        made.append(Node(tmp_path / name, name, redis_server.url))  # a name seen before: its folder again
        return await made[-1].start() if start else made[-1]

    yield make
    for each in made:
        await each.stop()


async def until(condition, deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, "deadline passed"
        await asyncio.sleep(0.05)


def user(node: Node, name: str):
    with node.users() as users:
        return users.get(name)


async def test_a_user_made_changed_and_deleted_on_one_node_is_so_on_the_others(node):
    a, b = await node("a"), await node("b")
    with a.users() as users:  # as the API or `hub user add` writes it: the store's own connection
        users.add("ann", "viewer", HASH)
        users.grant("ann", "category", "property")
    await until(lambda: user(b, "ann") is not None)
    assert user(b, "ann") == user(a, "ann"), "the same row: role, hash, times and rights"
    with b.users() as users:
        users.set_role("ann", "operator")
        users.revoke("ann", "category", "property")
        users.set_password("ann", HASH.replace("aGFzaA", "bmV3"))
    await until(lambda: user(a, "ann").role == "operator")
    assert user(a, "ann") == user(b, "ann") and user(a, "ann").grants == ()
    with a.users() as users:
        users.add("root2", "admin", HASH)  # the last admin may not go; a second one lets "ann" stay the test's
        users.delete("ann")
    # two rows, written one after the other: each reaches b (not necessarily in the same step)
    await until(lambda: user(b, "ann") is None and user(b, "root2") is not None)


async def test_a_token_made_on_one_node_opens_the_others_and_revoked_on_another_opens_none(node):
    a, b, c = await node("a"), await node("b"), await node("c")
    with a.tokens() as tokens:
        token, text = tokens.create("scraper", "viewer", [("site", "north")], "tests")

    def found(n: Node):
        with n.tokens() as tokens:
            return tokens.find(text)

    await until(lambda: found(b) is not None and found(c) is not None)
    assert found(c).grants == (("site", "north"),)
    with b.tokens() as tokens:
        assert tokens.revoke(token.id)
    await until(lambda: found(a) is None and found(c) is None)


async def test_layouts_saved_on_one_node_appear_on_the_others(node):
    a, b = await node("a"), await node("b")
    wall = {"size": 4, "tiles": ["cam-1", None], "tour_s": None}
    a.layouts.write_text(json.dumps({"lobby": wall}))
    await until(lambda: b.layouts.exists() and json.loads(b.layouts.read_text()).get("lobby") == wall)
    b.layouts.write_text(json.dumps({}))
    await until(lambda: json.loads(a.layouts.read_text()) == {})


async def test_a_node_that_starts_later_gets_the_clusters_accounts_and_gives_its_own_new_ones(node):
    a = await node("a")
    with a.users() as users:
        users.add("admin", "admin", HASH)
    await until(lambda: a.sync.written >= 1)
    late = await node("late", start=False)
    with late.users() as users:  # made here before it ever joined: its own first admin, and one of its own
        users.add("admin", "admin", HASH.replace("aGFzaA", "bGF0ZQ"))
        users.add("bob", "viewer", HASH)
    await late.start()
    await until(lambda: user(a, "bob") is not None)
    assert user(late, "admin") == user(a, "admin"), "the cluster's admin, not the one the late node made alone"
    assert user(late, "admin").password_hash == HASH


async def test_a_change_made_while_the_node_was_stopped_is_written_when_it_comes_back(node):
    a, b = await node("a"), await node("b")
    with a.users() as users:
        users.add("carol", "viewer", HASH)
    await until(lambda: user(b, "carol") is not None)
    await b.stop()
    with b.users() as users:  # `hub user passwd carol` on b's host while b is down
        users.set_role("carol", "operator")
    again = await node("b")  # b again, on the same folder (its heartbeat gone: a new epoch)
    await until(lambda: user(a, "carol").role == "operator")
    assert user(again, "carol") == user(a, "carol")


async def test_only_the_first_node_of_an_empty_cluster_makes_the_first_admin(redis_server, node):
    assert may_found_accounts(ClusterSettings(redis=redis_server.url, node="a"))
    assert not may_found_accounts(ClusterSettings(redis=redis_server.url, node="b")), "a founds, b waits for a's"
    assert may_found_accounts(ClusterSettings(redis=redis_server.url, node="a")), "a restarted before sharing"
    a = await node("a")
    with a.users() as users:
        users.add("admin", "admin", HASH)
    await until(lambda: a.sync.written >= 1)
    assert not may_found_accounts(ClusterSettings(redis=redis_server.url, node="a")), "accounts exist now"
    assert not may_found_accounts(ClusterSettings(redis="redis://127.0.0.1:1/0", node="c")), "Redis away: no"
