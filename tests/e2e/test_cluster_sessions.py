"""Sessions shared by two nodes through a real `redis-server` (loopback, a free port): a reason given on one
node to watch a sensitive camera counts for the session (or the API token) on the other, whether that node already knew the
session, learns of it later, or starts afterwards. Each node's session store and sync run in this process;
waits are on conditions with deadlines."""

from __future__ import annotations

import pytest
from support.cluster_member import Member
from support.hubrun import until

from hub.auth.sessions import SessionStore
from hub.cluster.sessions import SessionsSync

redis_asyncio = pytest.importorskip("redis.asyncio")
pytestmark = pytest.mark.redis


class Node:
    """One node's session store and its sync, joined to the cluster with a live heartbeat."""

    def __init__(self, name: str, url: str):
        self.member = Member(url, name)
        self.sessions = SessionStore(idle_s=3600, max_s=8 * 3600)
        self.sync = SessionsSync(self.member.store, self.sessions)

    async def start(self) -> Node:
        await self.member.start(self.sync)
        return self


@pytest.fixture
async def nodes(redis_server):
    made: list[Node] = []

    async def make(name: str) -> Node:
        made.append(await Node(name, redis_server.url).start())
        return made[-1]

    yield make
    for node in made:
        await node.member.stop()


async def test_a_reason_given_on_one_node_counts_for_the_session_on_every_node(nodes):
    a, b = await nodes("a"), await nodes("b")
    early = a.sessions.create("olga", "127.0.0.1")
    await until(lambda: b.sessions.peek(early.id), 10, "b hearing of the session begun on a")
    a.sessions.open(a.sessions.get(early.id), "cc-nursery")  # b already serves this browser
    await until(lambda: "cc-nursery" in b.sessions.peek(early.id).opened, 10, "the reason reaching b")
    assert "cc-lobby" not in b.sessions.peek(early.id).opened

    late = a.sessions.create("olga", "127.0.0.1")  # b has not seen this browser yet when the reason is given
    a.sessions.open(late, "cc-lobby")
    await a.sync.written()
    await until(lambda: b.sessions.peek(late.id), 10, "b knowing the second session")
    assert set(b.sessions.peek(late.id).opened) == {"cc-lobby"}

    c = await nodes("c")  # a node started afterwards reads both sessions with their reasons from Redis
    await until(lambda: c.sessions.peek(early.id) and c.sessions.peek(late.id), 10, "c reading the sessions")
    assert set(c.sessions.peek(early.id).opened) == {"cc-nursery"}
    assert set(c.sessions.peek(late.id).opened) == {"cc-lobby"}

    b.sessions.drop(early.id)  # signed out on b: the reason goes with the session everywhere
    await until(lambda: a.sessions.peek(early.id) is None and c.sessions.peek(early.id) is None, 10, "the sign-out")


async def test_a_reason_given_with_an_api_token_counts_for_the_token_on_every_node(nodes):
    a, b = await nodes("a"), await nodes("b")
    a.sessions.open_token("token:t-night", "cc-nursery")  # a script behind a balancer gave its reason on a
    await until(lambda: b.sessions.token_open("token:t-night", "cc-nursery"), 10, "the token's reason reaching b")
    assert not b.sessions.token_open("token:t-night", "cc-lobby")
    assert not b.sessions.token_open("token:t-other", "cc-nursery")  # another token gave none
    await a.sync.written()
    c = await nodes("c")  # a node started afterwards reads it from Redis
    await until(lambda: c.sessions.token_open("token:t-night", "cc-nursery"), 10, "c reading the token's reason")
    assert not c.sessions.token_open("token:t-night", "cc-lobby")
