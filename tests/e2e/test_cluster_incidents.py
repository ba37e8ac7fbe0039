"""Incidents kept alike on every node through a real `redis-server` (loopback, a free port): a report filed on
one node, triaged on another, with steps made on two nodes at the same moment, evidence kept by the node
that pulls the camera, and a node that was away from Redis catching up. Each node is an incident service
with its own store and its own sync task; waits are on conditions with deadlines."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hub.cluster.assign import NodeShare
from hub.cluster.incidents import IncidentSync
from hub.cluster.store import ClusterStore
from hub.config.incidents import IncidentSettings
from hub.incidents.estate import Estate
from hub.incidents.geo import Camera
from hub.incidents.reports import NewReport
from hub.incidents.service import IncidentService
from hub.incidents.store import IncidentStore

redis_asyncio = pytest.importorskip("redis.asyncio")
redis_exceptions = pytest.importorskip("redis.exceptions")
pytestmark = pytest.mark.redis
SHARE = NodeShare(1.0, 100)
TTL_S = 1.0
SPOT = (31.77, 117.30)
CAMERAS = {"gate": (SPOT[0] - 0.0003, SPOT[1]), "lobby": (SPOT[0], SPOT[1] + 0.0002)}
PICTURE = b"\xff\xd8 a camera's latest picture \xff\xd9"


class Node:
    """One node's incident store, service and sync; `pulls`: the cameras it pulls (it has their pictures)."""

    def __init__(self, folder: Path, name: str, url: str, pulls: set[str]):
        folder.mkdir(exist_ok=True)
        self.name, self.pulls, self.events = name, pulls, []
        self.store = ClusterStore(redis_asyncio.Redis.from_url(url), name, ttl_s=TTL_S)
        cameras = [(Camera(i, lat, lon), "North") for i, (lat, lon) in CAMERAS.items()]
        estate = Estate(
            cameras=lambda online_only: cameras,
            snapshot=lambda i: (PICTURE + i.encode(), time.time()) if i in self.pulls else None,
            sensitive=lambda i: False,
            keep_live=lambda wanted: None,
            pulled_here=lambda i: i in self.pulls,
        )
        self.incidents = IncidentStore(folder / "hub.incidents.sqlite")
        publish = lambda kind, data: self.events.append((kind, data))  # noqa: E731 - what the event stream is told
        self.service = IncidentService(IncidentSettings(), self.incidents, estate, publish, lambda *a, **k: None)
        self.sync = IncidentSync(self.store, self.service)
        self.tasks: list[asyncio.Task] = []
        self.stopping = False

    async def start(self) -> Node:
        await until_async(lambda: self.store.join(SHARE), deadline_s=5 * TTL_S)
        await self.service.start()
        self.tasks = [asyncio.create_task(self._beat()), asyncio.create_task(self.sync.run())]
        return self

    async def _beat(self) -> None:
        while not self.stopping:
            await asyncio.sleep(TTL_S / 4)
            try:
                if await self.store.renew(SHARE) <= 0:  # Redis restarted without its data: join again
                    await self.store.join(SHARE)
            except redis_exceptions.RedisError:  # Redis away: try again at the next beat
                continue

    async def stop(self) -> None:
        self.stopping = True
        self.sync.stop()
        if self.tasks:
            _, running = await asyncio.wait(self.tasks, timeout=10)
            assert not running
            self.tasks = []
        self.incidents.close()
        await self.store.client.aclose()

    async def incident(self, incident_id: str):
        return await self.service.get(incident_id)


@pytest.fixture
async def node(tmp_path, redis_server):
    made: list[Node] = []

    async def make(name: str, pulls: set[str]) -> Node:
        made.append(Node(tmp_path / name, name, redis_server.url, pulls))
        return await made[-1].start()

    yield make
    for each in made:
        if not each.stopping:
            await each.stop()


async def until_async(condition, deadline_s: float = 15.0) -> None:
    end = time.monotonic() + deadline_s
    while not await condition():
        assert time.monotonic() < end, "deadline passed"
        await asyncio.sleep(0.05)


def report(kind: str = "fire", severity: int = 3) -> NewReport:
    return NewReport(kind, severity, SPOT[0], SPOT[1], "smoke by the gate", "phone-1")


async def test_a_report_on_one_node_is_triaged_on_another_and_both_see_it_whole(node):
    a, b = await node("a", {"gate"}), await node("b", {"lobby"})
    made, created, _ = await a.service.report("grid-3", report(), time.time())
    assert created

    async def on_b():
        return (found := await b.incident(made.id)) is not None and found.state == "new"

    await until_async(on_b)
    assert [e for e in b.events if e[0] == "incident"][0][1]["change"] == "reported", "b's pages told of it"
    assert made.id in b.service.open, "open on b: its cameras held live there, on its walls and map"

    # Each node keeps a picture of the camera it pulls: both pictures reach both nodes.
    async def both_pictures(n: Node):
        names = {f.name for f in await n.service.listed_files(made.id)}
        return {"snapshot-gate.jpg", "snapshot-lobby.jpg"} <= names

    await until_async(lambda: both_pictures(a))
    await until_async(lambda: both_pictures(b))
    lobby = await a.service.file(made.id, "snapshot-lobby.jpg")
    assert lobby is not None and lobby.body == PICTURE + b"lobby", "b's picture, byte for byte, on a"

    # Acknowledged on b: on a too, with the time it took.
    await b.service.change(made.id, "duty-b", {"state": "acknowledged"}, time.time())

    async def acknowledged_on_a():
        return (await a.incident(made.id)).state == "acknowledged"

    await until_async(acknowledged_on_a)
    assert sum(a.service.ack_counts) == 1, "a counts the acknowledgement in its histogram"

    # At the same moment, a comment and a team on a, a higher severity on b: both histories end the same.
    now = time.time()
    await asyncio.gather(
        a.service.change(made.id, "duty-a", {"team": "fire brigade", "comment": "on the way"}, now),
        b.service.change(made.id, "duty-b", {"severity": 4}, now + 0.001),
    )

    async def alike():
        one, two = await a.incident(made.id), await b.incident(made.id)
        return one.history == two.history and (one.severity, one.team) == (two.severity, two.team) == (4, "fire brigade")

    await until_async(alike)
    whole = await a.incident(made.id)
    actions = [s.action for s in whole.history if s.action != "evidence"]
    assert sorted(actions) == ["comment", "reported", "severity", "state", "team"], "every step once, none lost"
    assert whole.acknowledged_at is not None and whole.state == "acknowledged"


async def test_a_node_away_from_redis_shares_what_it_did_meanwhile(node, redis_server):
    a, b = await node("a", {"gate"}), await node("b", {"lobby"})
    redis_server.kill()
    made, _, _ = await a.service.report("grid-3", report("dispute", 2), time.time())
    await a.service.change(made.id, "duty-a", {"state": "acknowledged"}, time.time())
    assert await b.incident(made.id) is None
    redis_server.restart()

    async def shared():
        found = await b.incident(made.id)
        return found is not None and found.state == "acknowledged"

    await until_async(shared, deadline_s=30.0)
    assert not await a.service.locked(a.incidents.unshared, 10), "a has nothing left to share"


async def test_a_grid_worker_on_duty_is_on_every_nodes_map_and_off_duty_on_none(node):
    a, b = await node("a", {"gate"}), await node("b", {"lobby"})
    a.service.staff.report_position("grid-3", SPOT[0], SPOT[1], 8.0, time.time())

    async def on(n: Node, present: bool):
        return ("grid-3" in n.service.staff.positions) == present

    await until_async(lambda: on(b, True))
    assert b.service.staff.positions["grid-3"].accuracy_m == 8.0
    assert b.service.staff.listed(time.time())[0]["position"] == [SPOT[0], SPOT[1]]
    b.service.staff.off_duty("grid-3", time.time())  # the phone's next request reached b
    await until_async(lambda: on(a, False))
    assert [e for e in a.events if e[0] == "staff"][-1][1] == {"who": "grid-3", "off_duty": True}, "a's map told"
