"""The other nodes' audit entries, copied beside this node's trail, so that `GET /api/audit` lists the whole cluster.

Who runs where: `AuditFollow.run` is a task on each cluster node's event loop (started by the app): it
reads what the other nodes copied to Redis (`hub.cluster.audit`: a Stream per node, `audit:<node>`,
and the retired copies `<node>@<time>`) into `OtherTrails`, a SQLite file beside the node's own trail
(`streams.audit-nodes.sqlite`), within about a second. `GET /api/audit` then filters both databases
with the same SQL on the event loop and merges them newest first (`merged`): no Redis in a request's way,
and the list stays whole while Redis is away (it lacks only what the others wrote meanwhile). The copy
is a reading aid, not evidence: `hub audit verify` walks the chains in Redis, and each node's own
trail stays the record. Entries older than the retention are dropped, as on the nodes.
"""

from __future__ import annotations

import heapq
import json
import logging
import time
from pathlib import Path

from hub.auth.audit import FIELDS, MAX_QUERY, Entry, entry_of, where_clause
from hub.auth.sqlite_file import SqliteFile
from hub.cluster.store import field_of, text_of
from hub.safe.tasks import Repeating

log = logging.getLogger("hub.cluster")
FOLLOW_EVERY_S = 1.0
BATCH = 1000
PRUNE_EVERY_S = 3600.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    node TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    stream TEXT NOT NULL,
    address TEXT NOT NULL,
    detail TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (node, seq)
);
CREATE INDEX IF NOT EXISTS entries_at ON entries(at);
CREATE TABLE IF NOT EXISTS followed (node TEXT PRIMARY KEY, last_id TEXT NOT NULL);
"""


def audit_copies_db_for(state: Path) -> Path:
    """`streams.toml` keeps the other nodes' entries in `streams.audit-nodes.sqlite`."""
    return state.with_name(state.stem + ".audit-nodes.sqlite")


class OtherTrails(SqliteFile):
    """The other nodes' entries as copied from Redis, and how far each node's Stream was read."""

    def __init__(self, path: Path):
        super().__init__(path, SCHEMA)

    def followed(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT node, last_id FROM followed").fetchall())

    def add(self, node: str, entries: list[tuple[int, dict]], last_id: str) -> None:
        """`entries`: (sequence number, fields as the node copied them); an entry seen before is kept once."""
        rows = [(node, seq, e["at"], e["who"], e["action"], e["stream"], e["address"], e["detail"], e["hash"])
                for seq, e in entries]  # fmt: skip
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._db.execute("INSERT OR REPLACE INTO followed (node, last_id) VALUES (?, ?)", (node, last_id))

    def entries(self, since, until, who, action, stream, limit: int = MAX_QUERY) -> list[Entry]:
        """Newest first, filtered as `AuditTrail.entries`, each with its node."""
        where, args = where_clause(since, until, who, action, stream)
        sql = "SELECT " + ", ".join(FIELDS) + ", hash, node FROM entries" + where + " ORDER BY at DESC LIMIT ?"
        rows = self._db.execute(sql, (*args, min(limit, MAX_QUERY)))
        return [entry_of(row) for row in rows]

    def prune(self, older_than_s: float) -> int:
        with self._db:
            return self._db.execute("DELETE FROM entries WHERE at < ?", (time.time() - older_than_s,)).rowcount


def merged(own: list[Entry], others: list[Entry], limit: int) -> list[Entry]:
    """This node's entries and the others', newest first, at most `limit`; an entry in both (nodes on one
    machine sharing one trail) is listed once."""
    seen: set[str] = set()
    found = []
    for entry in heapq.merge(own, others, key=lambda e: -e.at):
        if entry.hash in seen:
            continue
        seen.add(entry.hash)
        found.append(entry)
        if len(found) == limit:
            break
    return found


class AuditFollow(Repeating):
    """`store`: the node's `ClusterStore`; `copies`: its `OtherTrails`; `retention_s`: how long entries stay."""

    every_s = FOLLOW_EVERY_S
    what = "cluster: the other nodes' audit entries not read (Redis away?)"
    log = log

    def __init__(self, store, copies: OtherTrails, retention_s: float):
        super().__init__()
        self.store, self.copies, self.retention_s = store, copies, retention_s
        self._pruned_at = 0.0

    async def step(self) -> None:
        client, me = self.store.client, self.store.node
        nodes = [text_of(n) for n in await client.hkeys(self.store.key("audit:shipped"))]
        followed = self.copies.followed()
        wanted = {self.store.key(f"audit:{n}"): followed.get(n, "0-0") for n in nodes if n != me}
        while wanted:
            read = await client.xread(wanted, count=BATCH)
            for key, chunk in read:
                key = text_of(key)
                entries = [(int(text_of(field_of(f, "s"))), json.loads(field_of(f, "e"))) for _, f in chunk]
                wanted[key] = last = text_of(chunk[-1][0])
                self.copies.add(key[len(self.store.key("audit:")) :], entries, last)
            wanted = {text_of(key): wanted[text_of(key)] for key, chunk in read if len(chunk) == BATCH}
        if time.time() - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = time.time()
            self.copies.prune(self.retention_s)

    def close(self) -> None:
        self.copies.close()
