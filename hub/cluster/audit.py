"""The cluster's audit trail: every node's hash chain copied to Redis as it is written, checked and exported whole.

Who runs where: `AuditShip.run` is a task on each cluster node's event loop (started by the app): each
node keeps appending to its own hash-chained SQLite trail (`hub.auth.audit`), durable at each entry,
and this task copies what is new to Redis within a second, oldest first, through a Lua script fenced
by the node's epoch that also records how far the node's chain was copied. A node that dies loses no
entry: what it wrote is on its disk, and what it copied is in Redis; a node that restarts goes on
copying where the record says it stopped. `verify_cluster` and `export_cluster` run in `hub audit`
(a terminal, with Redis's synchronous client): each node's chain is walked in Redis (sequence, link to
the entry before, and each entry's hash recomputed), and the export merges the nodes by time.

Keys, under the cluster's prefix: `audit:<node>` (a Stream per node: `s` the entry's sequence number,
`e` its fields as JSON) and `audit:shipped` (a hash, node -> the last sequence number copied). The
Streams are trimmed to the configured retention, as the nodes' own trails are.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from hub.auth.audit import AuditTrail, row_hash
from hub.cluster.store import ALIVE, field_of, text_of
from hub.safe.tasks import Repeating

log = logging.getLogger("hub.cluster")
SHIP_EVERY_S = 0.5
BATCH = 500
TRIM_EVERY_S = 3600.0
ROW = ("seq", "at", "who", "action", "stream", "address", "detail", "prev", "hash")

# KEYS: my heartbeat, my audit Stream, the shipped hash, the Stream's new name. ARGV: node, epoch, the
# retired copy's name -> 1 (the old copy keeps its own name and record; this node copies from 1 again),
# -1 my epoch is stale
RETIRE = (
    ALIVE
    + """
if not alive(KEYS[1], ARGV[2]) then return -1 end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[4]) end
redis.call('HSET', KEYS[3], ARGV[3], redis.call('HGET', KEYS[3], ARGV[1]) or '0', ARGV[1], 0)
return 1
"""
)
# KEYS: my heartbeat, my audit Stream, the shipped hash. ARGV: node, epoch, then (seq, entry JSON) for each
# row, oldest first -> the last sequence number copied (-1: my epoch is stale, nothing written)
SHIP = (
    ALIVE
    + """
if not alive(KEYS[1], ARGV[2]) then return -1 end
local shipped = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
for i = 3, #ARGV, 2 do
  local seq = tonumber(ARGV[i])
  if seq > shipped then
    redis.call('XADD', KEYS[2], '*', 's', ARGV[i], 'e', ARGV[i + 1])
    shipped = seq
  end
end
redis.call('HSET', KEYS[3], ARGV[1], shipped)
return shipped
"""
)


class AuditShip(Repeating):
    """`store`: the node's `ClusterStore`; `path`: its audit database; `retention_s`: how long entries stay."""

    every_s = SHIP_EVERY_S
    what = "cluster: audit entries not copied yet (Redis away?)"
    log = log

    def __init__(self, store, path: Path, retention_s: float):
        super().__init__()
        self.store, self.retention_s = store, retention_s
        self.trail = AuditTrail(path)
        self._ship = store.client.register_script(SHIP)
        self._retire = store.client.register_script(RETIRE)
        self.shipped: int | None = None  # the last sequence number copied, as Redis says
        self._trimmed_at = 0.0

    async def step(self) -> None:
        """Copy what is new, batch after batch (a backlog after Redis was away)."""
        while await self.ship_batch():
            await asyncio.sleep(0)

    async def ship_batch(self) -> bool:
        """Copy the next batch; True when there may be more."""
        if not self.store.epoch:
            return False
        client, node = self.store.client, self.store.node
        if self.shipped is None:
            self.shipped = int(await client.hget(self.store.key("audit:shipped"), node) or 0)
        if self.shipped > self.trail.head_seq():  # this node's trail was replaced (a new disk, say)
            return await self._retire_copy()
        rows = self.trail.rows_after(self.shipped, BATCH)
        if not rows:
            await self._trim()
            return False
        args: list = [node, self.store.epoch]
        for row in rows:
            args.extend((row[0], json.dumps(dict(zip(ROW[1:], row[1:], strict=True)))))
        keys = [self.store.key(f"node:{node}"), self.store.key(f"audit:{node}"), self.store.key("audit:shipped")]
        shipped = int(await self._ship(keys=keys, args=args))
        if shipped < 0:
            return False  # copied once the node has joined again
        self.shipped = shipped
        return len(rows) == BATCH

    async def _retire_copy(self) -> bool:
        """The copy so far keeps its own name (`<node>@<time>`, verified and exported as a node of its own),
        and the new trail is copied from its start."""
        node = self.store.node
        retired = f"{node}@{int(time.time())}"
        keys = [self.store.key(f"node:{node}"), self.store.key(f"audit:{node}"), self.store.key("audit:shipped"),
                self.store.key(f"audit:{retired}")]  # fmt: skip
        if int(await self._retire(keys=keys, args=[node, self.store.epoch, retired])) < 0:
            return False
        log.warning("cluster: this node's audit trail starts again below what it copied (%d): the copy so far is kept as %s",
                    self.shipped, retired)  # fmt: skip
        self.shipped = 0
        return True

    async def _trim(self) -> None:
        now = time.time()
        if now - self._trimmed_at < TRIM_EVERY_S:
            return
        self._trimmed_at = now
        oldest_ms = int((now - self.retention_s) * 1000)
        await self.store.client.xtrim(self.store.key(f"audit:{self.store.node}"), minid=oldest_ms, approximate=False)

    def close(self) -> None:
        self.trail.close()


def _entries(client, key: str) -> Iterator[tuple[int, dict]]:
    """A node's copied entries, oldest first: (sequence number, fields)."""
    after = "-"
    while True:
        chunk = client.xrange(key, min=after, count=1000)
        if not chunk:
            return
        for _, fields in chunk:
            yield int(text_of(field_of(fields, "s"))), json.loads(field_of(fields, "e"))
        after = "(" + text_of(chunk[-1][0])


def _nodes(client, prefix: str) -> dict[str, int]:
    return {text_of(n): int(s) for n, s in client.hgetall(prefix + "audit:shipped").items()}


def verify_cluster(client, prefix: str = "hub:") -> list[tuple[str, bool, str]]:
    """Each node's copied chain, walked: (node, whole?, a readable finding with its head)."""
    found = []
    for node, shipped in sorted(_nodes(client, prefix).items()):
        found.append((node, *_verify_node(_entries(client, prefix + f"audit:{node}"), shipped)))
    return found


def _verify_node(entries: Iterator[tuple[int, dict]], shipped: int) -> tuple[bool, str]:
    seq = first = count = 0
    prev = ""
    for number, entry in entries:
        if count and number != seq + 1:
            return False, f"entry {seq + 1} is missing (the next copied is {number})"
        if count and entry["prev"] != prev:
            return False, f"entry {number} does not follow entry {seq}: an entry before it was changed or replaced"
        fields = (entry["at"], entry["who"], entry["action"], entry["stream"], entry["address"], entry["detail"])
        if row_hash(entry["prev"], number, *fields) != entry["hash"]:
            return False, f"entry {number} was changed after it was written"
        first, seq, prev, count = first or number, number, entry["hash"], count + 1
    if not count and shipped:
        return False, f"the copy is empty, though the node copied up to entry {shipped} (cut by the retention, or removed)"
    if seq != shipped:
        return False, f"the node copied up to entry {shipped}, but the copy ends at {seq}: entries were removed"
    span = f"entries {first}-{seq}" if count else "no entries"
    return True, f"{count} entries ({span}), chain whole; head {seq}:{prev}"


def export_cluster(client, since: float | None, prefix: str = "hub:") -> Iterator[list]:
    """Every node's copied entries at or after `since`, merged by time: rows of node, seq, time, who,
    action, stream, address, detail, hash (the CSV's columns after its header). An entry copied by
    several nodes (nodes on one machine, sharing the trail beside one config) is written once."""

    def timed(node: str) -> Iterator[tuple]:
        for seq, entry in _entries(client, prefix + f"audit:{node}"):
            if entry["at"] >= (since or 0.0):
                yield entry["at"], node, seq, entry

    streams = [timed(node) for node in sorted(_nodes(client, prefix))]
    moment: float | None = None
    hashes: set[str] = set()  # nodes on one machine share one trail: its entries are written once
    for at, node, seq, e in heapq.merge(*streams, key=lambda item: (item[0], item[1], item[2])):
        if at != moment:
            moment, hashes = at, set()
        if e["hash"] in hashes:
            continue
        hashes.add(e["hash"])
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}Z"
        yield [node, seq, stamp, e["who"], e["action"], e["stream"], e["address"], e["detail"], e["hash"]]
