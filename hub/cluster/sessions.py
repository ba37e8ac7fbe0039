"""Signed-in sessions shared by every node: made on one, they work on all; ended on one, they end on all.

Who runs where: `SessionsSync.run` is a task on each cluster node's event loop (started by the app); the
session store (`hub.auth.sessions`) calls `begun`, `ended` and `seen` as sessions begin, end and are
used, and the task writes them to Redis at its next turn (a fraction of a second) and brings the other
nodes' here. A session is known beyond its node only by the SHA-256 of its id: the id, which is the
browser's secret, is never written anywhere.

Keys, under the cluster's prefix: `session:<digest>` (JSON: user, CSRF token, created, last seen, address
and the sensitive streams a reason was given for, with when; it expires with the session's absolute
lifetime), `token-opened:<token id>` (a hash: the sensitive streams a reason was given for with that API
token, with when; it expires a session's absolute lifetime after the last) and `sessions:log` (a Stream
of begins, ends, uses and reasons given, which the nodes follow). Writes are one Lua script per batch,
fenced by the node's epoch; a node that is not joined keeps its batch until it is. A browser that reaches
a node before that node has followed the log (it signed in on another node a moment ago) is looked up in
Redis directly (`lookup`). Idle expiry stays each node's own decision, on a clock the others' uses
restart.
"""

from __future__ import annotations

import asyncio
import json
import logging

from hub.auth.sessions import TOKEN_PREFIX, Session, SessionStore, digest
from hub.cluster.store import ALIVE, field_of, stream_order, text_of
from hub.safe.tasks import Repeating

log = logging.getLogger("hub.cluster")
SYNC_EVERY_S = 0.2
LOG_MAXLEN = 100_000
MAX_PENDING = 100_000  # writes kept while Redis is away (beyond: the oldest uses are dropped first)
BEGIN, END, SEEN, OPEN = "begin", "end", "seen", "open"

# KEYS: my heartbeat, sessions log. ARGV: node, epoch, session key prefix, maxlen, token openings' key
# prefix, then (op, key, value, ttl ms) for each write -> 1 written, -1 my epoch is stale (nothing written)
WRITE = (
    ALIVE
    + """
if not alive(KEYS[1], ARGV[2]) then return -1 end
for i = 6, #ARGV, 4 do
  local op, key, value, ttl = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local name = ARGV[3] .. key
  if op == 'open' and string.sub(key, 1, 6) == 'token:' then
    local opening = cjson.decode(value)
    name = ARGV[5] .. string.sub(key, 7)
    redis.call('HSET', name, opening['stream'], tostring(opening['at']))
    redis.call('PEXPIRE', name, ttl)
  elseif op == 'begin' then
    redis.call('SET', name, value, 'PX', ttl)
  elseif op == 'end' then
    redis.call('DEL', name)
  else
    local raw = redis.call('GET', name)
    if raw then
      local session = cjson.decode(raw)
      if op == 'seen' then
        session['seen_at'] = tonumber(value)
      else
        local opening = cjson.decode(value)
        if type(session['opened']) ~= 'table' then session['opened'] = {} end
        session['opened'][opening['stream']] = opening['at']
      end
      redis.call('SET', name, cjson.encode(session), 'KEEPTTL')
    end
  end
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'n', ARGV[1], 'o', op, 'k', key, 'v', value)
end
return 1
"""
)


class SessionsSync(Repeating):
    """`store`: the node's `ClusterStore` (client, name, epoch); `sessions`: the hub's session store."""

    every_s = SYNC_EVERY_S
    what = "cluster: sessions not synced (Redis away?)"
    log = log

    def __init__(self, store, sessions: SessionStore):
        super().__init__()
        self.store, self.sessions = store, sessions
        self._write = store.client.register_script(WRITE)
        self._pending: list[tuple[str, str, str, int]] = []
        self._log_id: str | None = None
        self._flushing = asyncio.Lock()  # the task and a sign-in's answer write one batch at a time
        sessions.shared = self

    # what the session store tells (on the event loop, no I/O: written at the task's next turn)
    def begun(self, session: Session) -> None:
        value = {"user": session.user, "csrf": session.csrf, "created_at": session.created_at,
                 "seen_at": session.seen_at, "address": session.address, "opened": session.opened}  # fmt: skip
        ttl_ms = max(1, int((session.created_at + self.sessions.max_s - session.seen_at) * 1000))
        self._queue((BEGIN, digest(session.id), json.dumps(value), ttl_ms))

    def ended(self, key: str, why: str) -> None:
        self._queue((END, key, why, 0))

    def seen(self, key: str, at: float) -> None:
        self._queue((SEEN, key, repr(at), 0))

    def opened(self, key: str, stream_id: str, at: float) -> None:
        ttl_ms = int(self.sessions.max_s * 1000) if key.startswith(TOKEN_PREFIX) else 0  # a token's openings' key
        self._queue((OPEN, key, json.dumps({"stream": stream_id, "at": at}), ttl_ms))

    def _queue(self, write: tuple[str, str, str, int]) -> None:
        self._pending.append(write)
        if len(self._pending) > MAX_PENDING:
            uses = [i for i, w in enumerate(self._pending) if w[0] == SEEN][: len(self._pending) - MAX_PENDING]
            for i in reversed(uses or [0]):
                del self._pending[i]

    async def step(self) -> None:
        if self._log_id is None:
            await self._read_all()
        else:
            await self._follow()
        await self._flush()

    async def written(self, timeout_s: float = 1.0) -> None:
        """Write what is pending now (a sign-in or sign-out answers once the other nodes can know of it);
        if Redis does not answer in time, the task writes it later and the session works here meanwhile."""
        flush = asyncio.ensure_future(self._flush())  # never cancelled mid-command: it finishes in its own time
        done, _ = await asyncio.wait({flush}, timeout=timeout_s)
        if not done:
            log.debug("cluster: session change not written within %g s; written when Redis answers", timeout_s)
            flush.add_done_callback(_quiet)
        elif flush.exception() is not None:  # Redis away: nothing lost, the task writes it later
            log.debug("cluster: session change not written yet (%s)", type(flush.exception()).__name__)

    async def _flush(self) -> None:
        async with self._flushing:
            if self._pending and self.store.epoch:
                await self._write_batch()

    async def _write_batch(self) -> None:
        batch = self._pending[:500]
        args = [self.store.node, self.store.epoch, self.store.key("session:"), LOG_MAXLEN, self.store.key("token-opened:")]
        for write in batch:
            args.extend(write)
        keys = [self.store.key(f"node:{self.store.node}"), self.store.key("sessions:log")]
        if int(await self._write(keys=keys, args=args)) == 1:
            del self._pending[: len(batch)]

    async def _read_all(self) -> None:
        """Every live session in Redis (at start, and when the log was trimmed past what this node read)."""
        client = self.store.client
        last = await client.xrevrange(self.store.key("sessions:log"), count=1)
        prefix = self.store.key("session:")
        names = [name async for name in client.scan_iter(match=prefix + "*", count=1000)]
        for start in range(0, len(names), 500):
            part = names[start : start + 500]
            for name, raw in zip(part, await client.mget(part), strict=True):
                if raw is not None:
                    self._begin(text_of(name)[len(prefix) :], raw)
        await self._read_token_openings()
        self._log_id = text_of(last[0][0]) if last else "0-0"

    async def _read_token_openings(self) -> None:
        client, prefix = self.store.client, self.store.key("token-opened:")
        async for name in client.scan_iter(match=prefix + "*", count=1000):
            token_key = TOKEN_PREFIX + text_of(name)[len(prefix) :]
            for stream_id, at in (await client.hgetall(name)).items():
                self.sessions.token_opened_elsewhere(token_key, text_of(stream_id), float(text_of(at)))

    def _begin(self, key: str, raw) -> None:
        value = json.loads(raw)
        opened = value.get("opened") or {}  # cjson writes an empty table as [] (and older nodes wrote none)
        self.sessions.begun_elsewhere(key, value["user"], value["csrf"], value["created_at"], value["seen_at"],
                                      value["address"], opened if isinstance(opened, dict) else {})  # fmt: skip

    async def _follow(self) -> None:
        key = self.store.key("sessions:log")
        async with self.store.client.pipeline(transaction=False) as pipe:
            pipe.xrange(key, count=1)
            pipe.xrange(key, min=f"({self._log_id}", count=5000)
            first, entries = await pipe.execute()
        read = self._log_id or "0-0"
        if first and read != "0-0" and stream_order(text_of(first[0][0])) > stream_order(read):
            self._log_id = None  # trimmed past what this node read
            return await self._read_all()
        for entry_id, fields in entries:
            self._log_id = text_of(entry_id)
            if text_of(field_of(fields, "n")) == self.store.node:
                continue
            op, key, value = text_of(field_of(fields, "o")), text_of(field_of(fields, "k")), field_of(fields, "v")
            if op == BEGIN:
                self._begin(key, value)
            elif op == END:
                self.sessions.ended_elsewhere(key, text_of(value))
            elif op == SEEN:
                self.sessions.seen_elsewhere(key, float(text_of(value)))
            elif op == OPEN:
                opening = json.loads(value)
                opened = self.sessions.token_opened_elsewhere if key.startswith(TOKEN_PREFIX) else self.sessions.opened_elsewhere
                opened(key, opening["stream"], float(opening["at"]))

    async def lookup(self, session_id: str) -> bool:
        """A browser shows a session this node does not know (begun on another node a moment ago, not
        followed yet): look it up in Redis. True when found (it works here now)."""
        try:
            raw = await self.store.client.get(self.store.key("session:" + digest(session_id)))
        except Exception as error:
            log.debug("cluster: session lookup failed (%s)", type(error).__name__)
            return False
        if raw is None:
            return False
        self._begin(digest(session_id), raw)
        return True


def _quiet(task: asyncio.Future) -> None:
    """A late write's outcome, read so that asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()
