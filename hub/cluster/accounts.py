"""Accounts shared by every node: users, rights and tokens (and the wall layouts), kept alike through Redis.

Who runs where: `AccountsSync.run` is a task on each cluster node's event loop (started by the app). Each
node keeps its own SQLite account database and layouts file, which its requests read as on a single
node (short local reads, no Redis in a request's way); this task keeps them the same everywhere:
- a change made on this node (the API, or `hub user|token ...` in a terminal) is found by comparing the
  rows with those last agreed with the cluster (`hub.auth.account_rows`), and written to Redis;
- the other nodes' changes are followed from a Stream and written into the local database, where the
  hub's stores see them as they see a change from a terminal: a deleted user's sessions end, a changed
  password ends the older sessions, a revoked token stops working, on every node.

Keys, under the cluster's prefix: `accounts` (a hash, field -> JSON `{"row", "at", "by"}`: a row is null
once deleted) and `accounts:log` (a Stream of the same writes, which the nodes follow). Every write is
a Lua script fenced by the writer's epoch (`hub.cluster.store`), and the later change of a field wins
(`at`, the writer's clock): two admins editing one user on two nodes at the same moment end with one of
the two edits everywhere, never a mix. A node away from Redis keeps its accounts as they were, and its
own changes meanwhile are written when Redis answers again.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from hub.auth.account_rows import AccountRows, digest
from hub.cluster.store import ALIVE, field_of, stream_order, text_of
from hub.safe.files import private_dir, write_private
from hub.safe.tasks import Repeating

log = logging.getLogger("hub.cluster")
SYNC_EVERY_S = 0.5
LOG_MAXLEN = 10_000
LOG_READ = 1_000
LAYOUT = "l:"

# KEYS: accounts hash, my heartbeat, accounts log. ARGV: node, epoch, field, value JSON, at, maxlen
# -> 1 written, 0 a later change of the field is there already, -1 my epoch is stale
PUT = (
    ALIVE
    + """
if not alive(KEYS[2], ARGV[2]) then return -1 end
local current = redis.call('HGET', KEYS[1], ARGV[3])
if current and tonumber(cjson.decode(current)['at']) > tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'f', ARGV[3], 'v', ARGV[4])
return 1
"""
)


def may_found_accounts(settings, prefix: str = "hub:") -> bool:
    """Whether this node may make the cluster's first admin (`hub serve` on a node with no users yet):
    only while Redis holds no accounts, and only the first node to ask (a node that started before with
    the same name may again). When Redis does not answer, no: the accounts come from the cluster."""
    import redis  # only a cluster node needs the client

    client = redis.Redis.from_url(settings.redis, socket_timeout=2.0, socket_connect_timeout=2.0)
    try:
        if client.hlen(prefix + "accounts"):
            return False
        if client.set(prefix + "accounts:founder", settings.node, nx=True):
            return True
        return text_of(client.get(prefix + "accounts:founder") or b"") == settings.node
    except redis.RedisError as error:
        log.warning("cluster: no first admin made here: Redis did not answer (%s); accounts come from the cluster", error)
        return False
    finally:
        client.close()


class LayoutRows:
    """The wall layouts file as rows (`l:<name>` -> the layout), for the sync; its agreed digests are kept
    in the account database's `synced` table with the accounts'."""

    def __init__(self, path: Path):
        self.path = path

    def version(self) -> tuple[int, int]:
        try:
            stat = self.path.stat()
        except OSError:
            return (0, 0)
        return (stat.st_mtime_ns, stat.st_size)

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def rows(self) -> dict[str, dict]:
        return {LAYOUT + name: layout for name, layout in self._load().items() if isinstance(layout, dict)}

    def apply(self, field: str, row: dict | None) -> None:
        layouts = self._load()
        name = field[len(LAYOUT) :]
        if row is None:
            layouts.pop(name, None)
        else:
            layouts[name] = row
        write_private(private_dir(self.path.parent) / self.path.name, json.dumps(layouts, indent=1, ensure_ascii=False))


class AccountsSync(Repeating):
    """`store`: the node's `ClusterStore` (its client, name and epoch); `rows`: its account database;
    `layouts`: its layouts file (None: not shared)."""

    every_s = SYNC_EVERY_S
    what = "cluster: accounts not synced (Redis away?)"
    log = log

    def __init__(self, store, rows: AccountRows, layouts: LayoutRows | None = None):
        super().__init__()
        self.store, self.rows, self.layouts = store, rows, layouts
        self._put = store.client.register_script(PUT)
        self._log_id: str | None = None  # the last log entry applied (None: read everything first)
        self._seen: tuple | None = None  # the local versions last compared
        self.applied = 0  # changes of other nodes written here
        self.written = 0  # changes of this node written to Redis

    async def step(self) -> None:
        """Follow the others' changes, then write this node's own (once it holds an epoch)."""
        if self._log_id is None:
            await self._read_all()
        else:
            await self._follow()
        if self.store.epoch:
            await self._write_own()

    def _local(self) -> dict[str, dict]:
        rows = self.rows.rows()
        if self.layouts is not None:
            rows.update(self.layouts.rows())
        return rows

    def _versions(self) -> tuple:
        return (self.rows.version(), self.layouts.version() if self.layouts is not None else None)

    def _apply(self, field: str, row: dict | None) -> None:
        if field.startswith(LAYOUT):
            if self.layouts is None:
                return
            self.layouts.apply(field, row)
            self.rows.mark(field, row)
        else:
            self.rows.apply(field, row)
        self.applied += 1

    async def _read_all(self) -> None:
        """Everything Redis holds, at start (and when the log was trimmed past what this node read): the
        cluster's rows replace those this node has not changed since it last agreed with the cluster."""
        async with self.store.client.pipeline(transaction=True) as pipe:
            pipe.xrevrange(self.store.key("accounts:log"), count=1)
            pipe.hgetall(self.store.key("accounts"))
            last, everything = await pipe.execute()
        local, agreed = self._local(), self.rows.synced()
        for field, raw in everything.items():
            field, row = text_of(field), json.loads(raw)["row"]
            mine = local.get(field)
            if digest(mine) == digest(row):
                if agreed.get(field) != digest(row):
                    self.rows.mark(field, row)
            elif field not in agreed or agreed[field] == digest(mine):  # unchanged here (or never agreed): theirs
                self._apply(field, row)
        self._log_id = text_of(last[0][0]) if last else "0-0"
        self._seen = None  # compare the local rows with what was agreed, now

    async def _follow(self) -> None:
        key = self.store.key("accounts:log")
        async with self.store.client.pipeline(transaction=False) as pipe:
            pipe.xrange(key, count=1)
            pipe.xrange(key, min=f"({self._log_id}", count=LOG_READ)
            first, entries = await pipe.execute()
        read = self._log_id or "0-0"
        if first and read != "0-0" and stream_order(text_of(first[0][0])) > stream_order(read):
            self._log_id = None  # trimmed past what this node read: read everything again
            return await self._read_all()
        local = None
        for entry_id, fields in entries:
            value = json.loads(field_of(fields, "v"))
            field = text_of(field_of(fields, "f"))
            if value["by"] != self.store.node:
                local = self._local() if local is None else local
                if digest(local.get(field)) != digest(value["row"]):
                    self._apply(field, value["row"])
                    local[field] = value["row"]
            self._log_id = text_of(entry_id)

    async def _write_own(self) -> None:
        """Write to Redis every field that changed here since it was last agreed (a delete writes null)."""
        versions = self._versions()
        if versions == self._seen:
            return
        local, agreed = self._local(), self.rows.synced()
        changed: dict[str, dict | None] = {f: r for f, r in local.items() if agreed.get(f) != digest(r)}
        changed.update({f: None for f, d in agreed.items() if f not in local and d != digest(None)})
        if self.layouts is None:
            changed = {f: r for f, r in changed.items() if not f.startswith(LAYOUT)}
        keys = [self.store.key("accounts"), self.store.key(f"node:{self.store.node}"), self.store.key("accounts:log")]
        for field, row in sorted(changed.items()):
            at = time.time()
            value = json.dumps({"row": row, "at": at, "by": self.store.node}, sort_keys=True)
            result = int(await self._put(keys=keys, args=[self.store.node, self.store.epoch, field, value, at, LOG_MAXLEN]))
            if result < 0:
                return  # this epoch is stale: written once the node has joined again
            if result == 1:
                self.rows.mark(field, row)
                self.written += 1
            # 0: a later change is there; the log brings it here
        self._seen = versions
