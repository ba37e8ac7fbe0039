"""Incidents shared by every node: a report filed or triaged on any node is on every node's map, list and wall.

Who runs where: `IncidentSync.run` is a task on each cluster node's event loop (started by the app). Each
node keeps its own SQLite incident store, which its requests read as on a single node (the list's filters
stay local and fast); this task keeps the stores alike:
- what changes here (a report, a triage step, evidence, an escalation) is marked in the store as not yet
  shared and written to Redis: the report's own fields once, each history step and file under its own
  field (written once, never overwritten), then a log entry naming the incident;
- the other nodes' log entries are followed: the incident is read back whole from Redis and merged with
  this node's copy by its history (`hub.incidents.model.replay`: steps of two nodes made at the same
  moment both count; the later state wins, severity only rises, an escalation counts once), and the
  node's pages hear of it on the event stream (a serious new one brings their walls to its cameras).

Keys, under the cluster's prefix: `incident:<id>` (a hash: `base` -> the report's fields, `s:<digest>` ->
a step), `incident-files:<id>` (`m:<name>` -> a file's description, `b:<name>` -> its bytes),
`incidents:index` (a sorted set: id -> the time it last changed, for a node that starts or lost the log),
`incidents:log` (a Stream: `i` the incident, `n` the node) and `staff` (a hash: a grid worker -> the last
fix any node heard of, or when they went off duty; read whole at every turn, it holds tens of entries).
Every write is a Lua script fenced by the writer's epoch (`hub.cluster.store`). A node away from Redis
keeps filing and triaging on its own; what it did meanwhile is shared when Redis answers again (the
store remembers what is not shared yet; staff positions are sent again at their next fix).
"""

from __future__ import annotations

import json
import logging
import time

from hub.cluster.store import ALIVE, field_of, stream_order, text_of
from hub.incidents.model import Incident, Step, step_key
from hub.incidents.service import IncidentService
from hub.incidents.store import StoredFile
from hub.safe.tasks import Repeating

log = logging.getLogger("hub.cluster")
SYNC_EVERY_S = 0.5
LOG_MAXLEN = 10_000
BATCH = 200
SEEN = "cluster_incidents_seen"  # the store's setting: the index time this node has read up to
BASE_FIELDS = ("id", "kind", "severity", "lat", "lon", "text", "reporter", "reported_at", "client_id", "site", "photos")

# KEYS: my heartbeat, the incident's hash, its files' hash, the index, the log. ARGV: node, epoch, id, base
# JSON, now, maxlen, the number of steps, then (field, step JSON) per step, then (name, description, bytes
# or "" when sent before) per file -> the number of fields new to Redis, -1 my epoch is stale
PUT = (
    ALIVE
    + """
if not alive(KEYS[1], ARGV[2]) then return -1 end
local added = redis.call('HSETNX', KEYS[2], 'base', ARGV[4])
local steps = tonumber(ARGV[7])
local i = 8
for _ = 1, steps do
  added = added + redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HSETNX', KEYS[3], 'm:' .. ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] ~= '' then added = added + redis.call('HSETNX', KEYS[3], 'b:' .. ARGV[i], ARGV[i + 2]) end
  i = i + 3
end
if added > 0 then
  redis.call('ZADD', KEYS[4], ARGV[5], ARGV[3])
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[6], '*', 'i', ARGV[3], 'n', ARGV[1])
end
return added
"""
)

# KEYS: my heartbeat, the staff hash. ARGV: node, epoch, who, entry JSON, its time -> 1 written, 0 a newer one is
# there, -1 my epoch is stale
PUT_STAFF = (
    ALIVE
    + """
if not alive(KEYS[1], ARGV[2]) then return -1 end
local current = redis.call('HGET', KEYS[2], ARGV[3])
if current and tonumber(cjson.decode(current)['at']) >= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
return 1
"""
)


def base_of(incident: Incident, cameras: list[dict]) -> str:
    """What a report fixes, as JSON (the rest comes from the steps)."""
    fields = {name: getattr(incident, name) for name in BASE_FIELDS}
    first = next((s for s in incident.history if s.action == "reported"), None)
    if first is not None:  # the severity it was reported with: later raises are steps
        fields["severity"] = first.detail.get("severity", incident.severity)
    return json.dumps({**fields, "photos": list(incident.photos), "cameras": cameras}, sort_keys=True)


def incident_of(base: dict) -> tuple[Incident, list[dict]]:
    fields = {name: base[name] for name in BASE_FIELDS}
    return Incident(**{**fields, "photos": tuple(base["photos"])}), base.get("cameras", [])


def step_json(step: Step) -> str:
    return json.dumps({"at": step.at, "by": step.by, "action": step.action, "detail": step.detail}, sort_keys=True)


class IncidentSync(Repeating):
    """`store`: the node's `ClusterStore` (its client, name and epoch); `service`: its incidents."""

    every_s = SYNC_EVERY_S
    what = "cluster: incidents not synced (Redis away?)"
    log = log

    def __init__(self, store, service: IncidentService):
        super().__init__()
        self.store, self.service, self.incidents = store, service, service.store
        self._put = store.client.register_script(PUT)
        self._put_staff = store.client.register_script(PUT_STAFF)
        self.staff_dirty: set[str] = set()  # grid workers whose fix (or end of duty) this node heard of
        self._log_id: str | None = None  # the last log entry read (None: read the index first)
        self.dirty: set[str] = set()  # changed here since the last turn (the store marks them too)
        self._sent_bodies: set[tuple[str, str]] = set()  # files whose bytes this process has written
        self.applied = 0  # other nodes' changes merged here
        self.written = 0  # this node's changes written to Redis
        service.on_change = self.dirty.add
        service.staff.on_change = self.staff_dirty.add

    def key(self, name: str) -> str:
        return self.store.key(name)

    async def step(self) -> None:
        if self._log_id is None:
            await self._read_index()
        else:
            await self._follow()
        await self._follow_staff()
        if self.store.epoch:
            await self._write_own()
            await self._write_staff()

    async def _read_index(self) -> None:
        """At start (and when the log was trimmed past what this node read, or Redis lost its data): every
        incident changed since this node last read, from the index; then the log from now on."""
        seen = float(self.incidents.setting(SEEN) or 0.0)
        async with self.store.client.pipeline(transaction=True) as pipe:
            pipe.xrevrange(self.key("incidents:log"), count=1)
            pipe.zrangebyscore(self.key("incidents:index"), max(0.0, seen - 60.0), "+inf", withscores=True)
            last, changed = await pipe.execute()
        if not changed and not last:  # an empty Redis (new, or restarted without its data): share everything again
            await self._run(self.incidents.unshare_all)
        for start in range(0, len(changed), BATCH):
            await self._merge([text_of(i) for i, _ in changed[start : start + BATCH]])
        if changed:
            await self._run(self.incidents.set_setting, SEEN, repr(max(score for _, score in changed)))
        self._log_id = text_of(last[0][0]) if last else "0-0"

    async def _follow(self) -> None:
        key = self.key("incidents:log")
        async with self.store.client.pipeline(transaction=False) as pipe:
            pipe.xrange(key, count=1)
            pipe.xrange(key, min=f"({self._log_id}", count=1000)
            first, entries = await pipe.execute()
        read = self._log_id or "0-0"
        gone = not first and read != "0-0"  # Redis lost the log (restarted without its data)
        if gone or (first and read != "0-0" and stream_order(text_of(first[0][0])) > stream_order(read)):
            self._log_id = None  # trimmed past what this node read, or lost: the index again
            return await self._read_index()
        theirs = [text_of(field_of(f, "i")) for _, f in entries if text_of(field_of(f, "n")) != self.store.node]
        await self._merge(list(dict.fromkeys(theirs)))
        if entries:
            self._log_id = text_of(entries[-1][0])
            await self._run(self.incidents.set_setting, SEEN, repr(stream_order(self._log_id)[0] / 1000))

    async def _merge(self, ids: list[str]) -> None:
        """Read these incidents whole from Redis and merge each with this node's copy."""
        if not ids:
            return
        async with self.store.client.pipeline(transaction=False) as pipe:
            for incident_id in ids:
                pipe.hgetall(self.key(f"incident:{incident_id}"))
                pipe.hkeys(self.key(f"incident-files:{incident_id}"))
            replies = await pipe.execute()
        for incident_id, fields, names in zip(ids, replies[::2], replies[1::2], strict=True):
            fields = {text_of(k): v for k, v in fields.items()}
            if "base" not in fields:
                continue
            reported, cameras = incident_of(json.loads(fields["base"]))
            steps = [Step(d["at"], d["by"], d["action"], d["detail"]) for k, v in fields.items() if k.startswith("s:")
                     for d in (json.loads(v),)]  # fmt: skip
            files = await self._files_missing(incident_id, [text_of(n)[2:] for n in names if text_of(n).startswith("m:")])
            if await self.service.merge_remote(reported, steps, cameras, files):
                self.dirty.add(incident_id)  # this node has steps the cluster has not: shared at this turn
            self.applied += 1

    async def _files_missing(self, incident_id: str, names: list[str]) -> list[StoredFile]:
        kept = {f.name for f in await self._run(self.incidents.files, incident_id)}
        wanted = [n for n in names if n not in kept]
        if not wanted:
            return []
        key = self.key(f"incident-files:{incident_id}")
        values = await self.store.client.hmget(key, [f"m:{n}" for n in wanted] + [f"b:{n}" for n in wanted])
        files = []
        for name, meta, body in zip(wanted, values[: len(wanted)], values[len(wanted) :], strict=True):
            if meta is None or body is None:
                continue
            m = json.loads(meta)
            files.append(StoredFile(name, m["kind"], m["media"], m["at"], m["sha256"], bytes(body)))
        return files

    async def _write_own(self) -> None:
        """Write every incident changed here and not yet shared (those of a time away from Redis too)."""
        pending = dict(await self._run(self.incidents.unshared, BATCH))
        for incident_id in sorted(self.dirty | set(pending)):
            self.dirty.discard(incident_id)
            incident = await self._run(self.incidents.get, incident_id)
            if incident is None:
                continue
            if incident_id not in pending:  # changed and shared again in one turn: its time as it is now
                pending[incident_id] = await self._run(self.incidents.updated_at, incident_id)
            result = await self._write(incident)
            if result < 0:
                self.dirty.add(incident_id)
                return  # this epoch is stale: written once the node has joined again
            await self._run(self.incidents.mark_shared, incident_id, pending[incident_id])
            self.written += 1

    async def _write(self, incident: Incident) -> int:
        cameras = await self._run(self.incidents.cameras_at_report, incident.id)
        files = await self._run(self.incidents.files, incident.id, True)
        args: list = [self.store.node, self.store.epoch, incident.id, base_of(incident, cameras), time.time(), LOG_MAXLEN]
        args.append(len(incident.history))
        for step in incident.history:
            args += [f"s:{step_key(step)}", step_json(step)]
        for f in files:
            sent = (incident.id, f.name) in self._sent_bodies
            meta = json.dumps({"kind": f.kind, "media": f.media, "at": f.at, "sha256": f.sha256})
            args += [f.name, meta, b"" if sent else f.body]
        keys = [self.key(f"node:{self.store.node}"), self.key(f"incident:{incident.id}"),
                self.key(f"incident-files:{incident.id}"), self.key("incidents:index"), self.key("incidents:log")]  # fmt: skip
        result = int(await self._put(keys=keys, args=args))
        if result >= 0:
            self._sent_bodies.update((incident.id, f.name) for f in files)
        return result

    async def _follow_staff(self) -> None:
        for value in (await self.store.client.hgetall(self.key("staff"))).values():
            entry = json.loads(value)
            if entry.pop("node", None) != self.store.node:
                self.service.staff.merge_remote(entry)

    async def _write_staff(self) -> None:
        keys = [self.key(f"node:{self.store.node}"), self.key("staff")]
        for who in sorted(self.staff_dirty):
            entry = self.service.staff.shared(who)
            if entry is not None:
                value = json.dumps({**entry, "node": self.store.node})
                if int(await self._put_staff(keys=keys, args=[self.store.node, self.store.epoch, who, value, entry["at"]])) < 0:
                    return  # this epoch is stale: written once the node has joined again
            self.staff_dirty.discard(who)

    async def _run(self, call, *args):
        """A store call in a worker thread, one at a time with the service's own (its lock)."""
        return await self.service.locked(call, *args)
