"""A cluster member in a test's own process: a `ClusterStore` joined to a real `redis-server`, its heartbeat
kept alive, and the sync tasks the test runs beside it (accounts, sessions). Waits have deadlines; the
loops end at their next turn when stopped, so a Redis call is never cancelled halfway."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as redis_asyncio

from hub.cluster.assign import NodeShare
from hub.cluster.store import ClusterStore

SHARE = NodeShare(1.0, 100)


class Member:
    """`ttl_s`: short heartbeats, so that a stopped member's name is free again soon."""

    def __init__(self, url: str, name: str, ttl_s: float = 1.0):
        self.ttl_s = ttl_s
        self.store = ClusterStore(redis_asyncio.Redis.from_url(url), name, ttl_s=ttl_s)
        self.syncs: list = []
        self.tasks: list[asyncio.Task] = []
        self.stopping = False

    async def start(self, *syncs) -> None:
        """Join (once a stopped member of this name has expired), keep the heartbeat alive, run `syncs`."""
        deadline = time.monotonic() + 5 * self.ttl_s
        while not await self.store.join(SHARE):
            assert time.monotonic() < deadline, f"{self.store.node} could not join"
            await asyncio.sleep(0.05)
        self.syncs = list(syncs)
        self.tasks = [asyncio.create_task(self._beat()), *(asyncio.create_task(s.run()) for s in syncs)]

    async def _beat(self) -> None:
        while not self.stopping:
            await asyncio.sleep(self.ttl_s / 4)
            await self.store.renew(SHARE)

    async def stop(self) -> None:
        self.stopping = True
        for sync in self.syncs:
            sync.stop()
        if self.tasks:
            _, running = await asyncio.wait(self.tasks, timeout=10)
            assert not running, f"tasks that did not stop: {[t.get_stack() for t in running]}"
        await self.store.client.aclose()
