"""The cluster's shared state in Redis: members, fencing epochs and claims; every write fenced.

Who runs where: one `ClusterStore` per node, used by its cluster loop on the event loop (redis-py's
asyncio client). Keys, under a prefix (default "hub:"):
- `epoch`: a counter; each node takes a new fencing epoch (`INCR`) when it joins;
- `node:<name>`: the node's heartbeat, JSON with its epoch, weight, capacity and internal address,
  renewed about every 2 s, expiring after 6 s (`hub.cluster.lease`);
- `nodes`: a set of the names ever joined (expired heartbeats are skipped when read);
- `claims`: a hash, camera -> "node|epoch"; `claims:log`, a Stream of what each claim, release and
  handover changed (`h`: "node|epoch", empty for a release; `c`: the cameras, comma-separated); `generation`, a
  token set by the first join, new when Redis lost its data;
- `records`: a hash, camera -> its record's JSON as its holder last shared it (`hub.cluster.estate`);
- `changes`: a Stream of the same writes (`c`: camera, `r`: JSON), trimmed to about `maxlen`, which the
  other nodes follow.

Every write is a Lua script that checks, atomically, that the writer's heartbeat is alive with its own
epoch, so a node that was paused, partitioned or replaced can write nothing once its epoch is stale.
A claim is valid only while its holder's heartbeat lives with the claim's epoch: a dead node's claims
lapse with its heartbeat, and another node may then take them. A node name already alive cannot
join again until that heartbeat expires (a restarted node waits out its old self).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from hub.cluster.assign import NodeShare

ALIVE = """
local function alive(key, epoch)
  local raw = redis.call('GET', key)
  if not raw then return false end
  return tonumber(cjson.decode(raw)['epoch']) == tonumber(epoch)
end
"""
# KEYS: my heartbeat. ARGV: epoch, heartbeat JSON, ttl ms. -> 1 renewed, 0 replaced by a newer epoch, -1 gone
RENEW = """
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
if tonumber(cjson.decode(raw)['epoch']) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""
# KEYS: epoch counter, my heartbeat, the members set, generation. ARGV: name, heartbeat JSON without epoch,
# ttl ms, a new generation token (kept only if Redis has none: it changes when Redis loses its data).
# -> the new epoch, or 0 while a heartbeat of that name still lives
JOIN = """
redis.call('SET', KEYS[4], ARGV[4], 'NX')
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local epoch = redis.call('INCR', KEYS[1])
local beat = cjson.decode(ARGV[2])
beat['epoch'] = epoch
redis.call('SET', KEYS[2], cjson.encode(beat), 'PX', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
return epoch
"""
# KEYS: claims hash, my heartbeat, claims log. ARGV: node, epoch, node-key prefix, cameras...
# -> the cameras now mine (already mine included); none when my own epoch is stale
CLAIM = (
    ALIVE
    + """
if not alive(KEYS[2], ARGV[2]) then return {} end
local mine = ARGV[1] .. '|' .. ARGV[2]
local got = {}
local changed = {}
for i = 4, #ARGV do
  local camera = ARGV[i]
  local cur = redis.call('HGET', KEYS[1], camera)
  local free = true
  if cur and cur ~= mine then
    local bar = string.find(cur, '|', 1, true)
    free = not alive(ARGV[3] .. string.sub(cur, 1, bar - 1), string.sub(cur, bar + 1))
  end
  if free then
    if cur ~= mine then
      redis.call('HSET', KEYS[1], camera, mine)
      table.insert(changed, camera)
    end
    table.insert(got, camera)
  end
end
if #changed > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 10000, '*', 'h', mine, 'c', table.concat(changed, ','))
end
return got
"""
)
# KEYS: claims hash, my heartbeat, claims log. ARGV: node, epoch, cameras... -> how many released
RELEASE = (
    ALIVE
    + """
if not alive(KEYS[2], ARGV[2]) then return 0 end
local mine = ARGV[1] .. '|' .. ARGV[2]
local gone = {}
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == mine then
    redis.call('HDEL', KEYS[1], ARGV[i])
    table.insert(gone, ARGV[i])
  end
end
if #gone > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 10000, '*', 'h', '', 'c', table.concat(gone, ','))
end
return #gone
"""
)
# KEYS: claims hash, my heartbeat, claims log, the goal's heartbeat. ARGV: node, epoch, goal node, cameras...
# -> {the goal's epoch (0: its heartbeat is gone, and the cameras were released instead), cameras moved...};
# {-1} when my own epoch is stale
HANDOVER = (
    ALIVE
    + """
if not alive(KEYS[2], ARGV[2]) then return {-1} end
local mine = ARGV[1] .. '|' .. ARGV[2]
local raw = redis.call('GET', KEYS[4])
local goal_epoch = 0
if raw then goal_epoch = tonumber(cjson.decode(raw)['epoch']) end
local to = ''
if goal_epoch > 0 then to = ARGV[3] .. '|' .. goal_epoch end
local result = {goal_epoch}
local moved = {}
for i = 4, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == mine then
    if to == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], to) end
    table.insert(moved, ARGV[i])
    table.insert(result, ARGV[i])
  end
end
if #moved > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 10000, '*', 'h', to, 'c', table.concat(moved, ','))
end
return result
"""
)
# KEYS: records hash, claims hash, my heartbeat, changes stream. ARGV: node, epoch, maxlen, camera, JSON, ...
# -> how many written: only records of cameras whose live claim is mine
SHARE = (
    ALIVE
    + """
if not alive(KEYS[3], ARGV[2]) then return 0 end
local mine = ARGV[1] .. '|' .. ARGV[2]
local n = 0
for i = 4, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == mine then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 'c', ARGV[i], 'r', ARGV[i + 1])
    n = n + 1
  end
end
return n
"""
)


LOG_READ = 10_000  # claims-log entries read per view; a node this far behind reads the whole hash


@dataclass(frozen=True)
class Member:
    """A live node as its heartbeat describes it."""

    name: str
    epoch: int
    share: NodeShare
    address: str = ""  # where the other nodes reach its internal channel


@dataclass(frozen=True)
class View:
    """The cluster as one read sees it: live members, and each claimed camera's live holder."""

    members: dict[str, Member]
    holders: dict[str, str]  # camera -> node, only claims whose holder's heartbeat lives with their epoch
    claims_version: object = None  # which claims this view read (the same value: the same claims)
    # `holders` is the store's own map, brought up to date in place by the next `view`: read it before


class ClusterStore:
    """One node's handle on the shared state (`client`: a `redis.asyncio.Redis`)."""

    def __init__(self, client, node: str, prefix: str = "hub:", ttl_s: float = 6.0):
        self.client, self.node, self.prefix = client, node, prefix
        self.ttl_ms = int(ttl_s * 1000)
        self.epoch = 0
        self._renew, self._join = client.register_script(RENEW), client.register_script(JOIN)
        self._claim, self._release = client.register_script(CLAIM), client.register_script(RELEASE)
        self._handover = client.register_script(HANDOVER)
        self._share = client.register_script(SHARE)
        self._claims: dict[str, str] = {}  # the claims hash, as read and brought up to date from its log
        self._generation: bytes | None = None  # Redis's data generation they are of
        self._log_id: str | None = None  # the last log entry applied (None: never read)
        self._claims_key: tuple | None = None  # (generation, log id): the same key, the same claims
        self._holders: dict[str, str] = {}  # the live holders worked out from them, for these members
        self._holders_of: tuple | None = None
        self._dirty: set[str] | None = None  # cameras the log changed since (None: all of them)

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def _beat(self, share: NodeShare, address: str, epoch: int | None = None) -> str:
        beat = {"weight": share.weight, "capacity": share.capacity, "address": address}
        return json.dumps(beat if epoch is None else {**beat, "epoch": epoch})

    async def join(self, share: NodeShare, address: str = "") -> int:
        """Take a new fencing epoch and start the heartbeat; 0 while this node name still lives elsewhere."""
        keys = [self.key("epoch"), self.key(f"node:{self.node}"), self.key("nodes"), self.key("generation")]
        args = [self.node, self._beat(share, address), self.ttl_ms, secrets.token_hex(8)]
        epoch = int(await self._join(keys=keys, args=args))
        if epoch:
            self.epoch = epoch
        return epoch

    async def renew(self, share: NodeShare, address: str = "") -> int:
        """1 renewed; 0 a newer epoch of this node name replaced it; -1 the heartbeat is gone (expired,
        or Redis lost its data): either way the node must join again before it writes anything."""
        beat = self._beat(share, address, self.epoch)
        return int(await self._renew(keys=[self.key(f"node:{self.node}")], args=[self.epoch, beat, self.ttl_ms]))

    async def claim(self, cameras: list[str]) -> set[str]:
        """Claim what is free (unclaimed, or its holder's heartbeat is gone); returns what is now ours."""
        if not cameras:
            return set()
        keys = [self.key("claims"), self.key(f"node:{self.node}"), self.key("claims:log")]
        got = await self._claim(keys=keys, args=[self.node, self.epoch, self.key("node:"), *cameras])
        return {text_of(c) for c in got}

    async def release(self, cameras: list[str]) -> int:
        """Give up cameras (only claims that are ours, under our epoch)."""
        if not cameras:
            return 0
        keys = [self.key("claims"), self.key(f"node:{self.node}"), self.key("claims:log")]
        return int(await self._release(keys=keys, args=[self.node, self.epoch, *cameras]))

    async def handover(self, goal: str, cameras: list[str]) -> tuple[int, set[str]]:
        """Hand cameras that are ours straight to `goal`'s live claim (released instead when its heartbeat
        is gone): (the goal's epoch, 0 if gone or ours is stale; the cameras that left us)."""
        if not cameras:
            return 0, set()
        keys = [self.key("claims"), self.key(f"node:{self.node}"), self.key("claims:log"), self.key(f"node:{goal}")]
        result = await self._handover(keys=keys, args=[self.node, self.epoch, goal, *cameras])
        return max(int(result[0]), 0), {text_of(c) for c in result[1:]}

    async def _read_claims(self) -> None:
        """The whole claims hash, with the generation and the log's last entry read with it."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self.key("generation"))
            pipe.xrevrange(self.key("claims:log"), count=1)
            pipe.hgetall(self.key("claims"))
            generation, last, raw = await pipe.execute()
        self._claims = {text_of(c): text_of(v) for c, v in raw.items()}
        self._dirty = None  # every holder worked out again
        self._generation, self._log_id = generation, (text_of(last[0][0]) if last else "0-0")

    def _apply_change(self, holder: str, cameras: str) -> None:
        changed = cameras.split(",")
        if self._dirty is not None:
            self._dirty.update(changed)
        for camera in changed:
            if holder:
                self._claims[camera] = holder
            else:
                self._claims.pop(camera, None)

    async def share(self, records: list[tuple[str, bytes]], maxlen: int) -> int:
        """Write the records of cameras this node holds under its epoch (others' are skipped)."""
        if not records:
            return 0
        keys = [self.key("records"), self.key("claims"), self.key(f"node:{self.node}"), self.key("changes")]
        args = [self.node, self.epoch, maxlen, *(part for camera, body in records for part in (camera, body))]
        return int(await self._share(keys=keys, args=args))

    async def records(self) -> tuple[str, dict[str, bytes]]:
        """Every shared record, and the id of the last change they include ("0-0": none yet)."""
        async with self.client.pipeline(transaction=True) as pipe:  # one atomic read: no change falls between
            pipe.xrevrange(self.key("changes"), count=1)
            pipe.hgetall(self.key("records"))
            last, records = await pipe.execute()
        return (text_of(last[0][0]) if last else "0-0"), {text_of(c): r for c, r in records.items()}

    async def changes(self, after: str, count: int) -> tuple[list[tuple[str, str, bytes]], bool]:
        """Up to `count` changes after `after`: (id, camera, JSON), and whether some were trimmed away
        unread (the reader must then read every record again)."""
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.xrange(self.key("changes"), count=1)
            pipe.xread({self.key("changes"): after}, count=count)
            first, read = await pipe.execute()
        # the oldest entry left is newer than the last one read: the trim took entries this node never read
        missed = bool(first) and after != "0-0" and stream_order(text_of(first[0][0])) > stream_order(after)
        entries = [(text_of(i), text_of(field_of(f, "c")), field_of(f, "r")) for _, found in read for i, f in found]
        return entries, missed

    async def view(self) -> View:
        """Live members and the live claims. The claims are kept here and brought up to date from the
        claims log (what each claim and release changed): a steady cluster of 100,000 cameras reads a few
        keys a step, and a failover reads what moved. The whole hash is read at first, when the log was
        trimmed past what this node read, and when Redis lost its data (a new generation)."""
        log = self.key("claims:log")
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.smembers(self.key("nodes"))
            pipe.get(self.key("generation"))
            pipe.xrange(log, min=f"({self._log_id}" if self._log_id else "-", count=LOG_READ)
            pipe.xrange(log, count=1)
            names, generation, changes, first = await pipe.execute()
        oldest = stream_order(text_of(first[0][0])) if first else None
        trimmed = oldest is not None and self._log_id not in (None, "0-0") and oldest > stream_order(self._log_id)
        if generation != self._generation or self._log_id is None or trimmed or len(changes) == LOG_READ:
            await self._read_claims()
        else:
            for change_id, fields in changes:
                self._apply_change(text_of(field_of(fields, "h")), text_of(field_of(fields, "c")))
                self._log_id = text_of(change_id)
        claims = self._claims
        names = sorted(text_of(n) for n in names)
        beats = await self.client.mget([self.key(f"node:{n}") for n in names]) if names else []
        members = {}
        for name, raw in zip(names, beats, strict=True):
            if raw is None:
                continue
            beat = json.loads(raw)
            members[name] = Member(name, int(beat["epoch"]), NodeShare(beat["weight"], beat["capacity"]), beat["address"])
        self._claims_key = (self._generation, self._log_id)
        epochs = tuple((n, m.epoch) for n, m in members.items())
        if epochs == self._holders_of and self._dirty is not None:  # same members: only what the log changed
            _live_holders(claims, members, self._dirty, self._holders)
        else:
            self._holders = {}
            _live_holders(claims, members, claims, self._holders)
        self._holders_of, self._dirty = epochs, set()
        return View(members, self._holders, self._claims_key)


def _live_holders(claims: dict[str, str], members: dict[str, Member], cameras, holders: dict[str, str]) -> None:
    """Set in `holders` the live holder of each of `cameras` (a claim whose node lives with its epoch)."""
    for camera in cameras:
        value = claims.get(camera)
        node, _, epoch = value.rpartition("|") if value else ("", "", "")
        member = members.get(node)
        if member is not None and member.epoch == int(epoch):
            holders[camera] = node
        else:
            holders.pop(camera, None)


def stream_order(text: str) -> tuple[int, int]:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def field_of(fields: dict, name: str):
    return fields[name.encode()] if name.encode() in fields else fields[name]


def text_of(value: bytes | str) -> str:
    """A Redis reply as text, whether the client decodes replies or not."""
    return value.decode() if isinstance(value, bytes) else value
