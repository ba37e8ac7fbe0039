"""Reloads that reach every node: a config reloaded on one node (SIGHUP, `POST /api/reload`) is reloaded
on all, each from its own copy of the file.

Who runs where: `ReloadSync.run` is a task on each cluster node's event loop (started by the app). A
node that reloaded its config by hand tells the others through a Redis Stream (`reloads`, fenced by the
node's epoch like every write), with the SHA-256 of the file it read; each other node reloads its own
file (`reload`, the app's same path as SIGHUP), and says so in its log, or warns when its file differs
from the one the first node read: the nodes must read the same config (copy it to every machine first).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from hub.cluster.store import ALIVE, field_of, text_of
from hub.safe.tasks import Repeating

log = logging.getLogger("hub.cluster")
FOLLOW_EVERY_S = 0.5

# KEYS: my heartbeat, reloads Stream. ARGV: node, epoch, the config's digest -> 1 written, -1 stale epoch
ANNOUNCE = (
    ALIVE
    + """
if not alive(KEYS[1], ARGV[2]) then return -1 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 1000, '*', 'n', ARGV[1], 'd', ARGV[3])
return 1
"""
)


def file_digest(path: str | Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


class ReloadSync(Repeating):
    """`store`: the node's `ClusterStore`; `config_path`: its config file; `reload`: reloads it from disk
    (the app's own reload, answering as `POST /api/reload` does)."""

    every_s = FOLLOW_EVERY_S
    what = "cluster: reloads not followed (Redis away?)"
    log = log

    def __init__(self, store, config_path: str, reload: Callable[[], Awaitable[dict]]):
        super().__init__()
        self.store, self.config_path, self._reload = store, config_path, reload
        self._announce = store.client.register_script(ANNOUNCE)
        self._pending: list[str] = []  # digests of reloads made here, not yet told
        self._log_id: str | None = None
        self.followed = 0  # reloads made here because another node reloaded

    def reloaded_here(self) -> None:
        """This node reloaded its config by hand: tell the others (at the task's next turn)."""
        self._pending.append(file_digest(self.config_path))

    async def step(self) -> None:
        key = self.store.key("reloads")
        if self._log_id is None:  # reloads before this node started are in the config it read
            last = await self.store.client.xrevrange(key, count=1)
            self._log_id = text_of(last[0][0]) if last else "0-0"
        while self._pending and self.store.epoch:
            keys = [self.store.key(f"node:{self.store.node}"), key]
            if int(await self._announce(keys=keys, args=[self.store.node, self.store.epoch, self._pending[0]])) < 0:
                break
            self._pending.pop(0)
        entries = await self.store.client.xrange(key, min=f"({self._log_id}", count=100)
        for entry_id, fields in entries:
            self._log_id = text_of(entry_id)
            node = text_of(field_of(fields, "n"))
            if node != self.store.node:
                await self._follow(node, text_of(field_of(fields, "d")))

    async def _follow(self, node: str, digest: str) -> None:
        mine = file_digest(self.config_path)
        if mine != digest:
            log.warning("cluster: %s reloaded a config that differs from this node's %s: copy the same file to every node",
                        node, self.config_path)  # fmt: skip
        result = await self._reload()
        self.followed += 1
        if "error" in result:
            log.error("cluster: reload after %s's refused here: %s", node, "; ".join(result.get("problems", [])))
        else:
            log.info("cluster: reloaded the config after %s did", node)
