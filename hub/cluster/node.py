"""One hub node in a cluster: its heartbeat, its claims, and the cameras its monitor pulls.

Who runs where: `ClusterNode.run` is a task on the hub's event loop (started with the monitor, in
`hub.web.app`) with three loops. The heartbeat (`_beats`) renews the node's heartbeat every
`RENEW_EVERY_S` and nothing else, so that planning or a slow monitor never delays it; by its own clock
(`hub.cluster.lease`) it stops every reader before the heartbeat could expire in Redis, and while Redis
does not answer it keeps what the node holds and moves nothing. The planner (`_converging`), as often,
reads the cluster's view, works out the assignment (`hub.cluster.assign`, in a thread) and this step's
moves (`hub.cluster.plan`), hands over what the node must give up (after its readers stopped; the new
holder is told over the internal channel and pulls them at once), claims what it gets, and has the
monitor pull exactly the cameras it holds (`Monitor.apply` with those streams: the same path as a hot
reload). The third shares records (`hub.cluster.estate`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

from hub.cluster.assign import Assigner, NodeShare, meaningful_change
from hub.cluster.capacity import CapacityFloor
from hub.cluster.estate import EstateSync
from hub.cluster.lease import GAP_S, RENEW_EVERY_S, TTL_S, Lease
from hub.cluster.plan import plan, releases
from hub.cluster.sharing import SHARE_EVERY_S
from hub.cluster.store import ClusterStore, View
from hub.config import Config
from hub.safe.tasks import stop_if_cancelled

log = logging.getLogger("hub.cluster")
COOLDOWN_S = 10.0  # a node that (re)joined takes no camera from a live holder before this
MOVES_PER_STEP = 20  # cameras handed over from live holders per step (orphans move at once)
NO_CAP = 1_000_000  # a node's capacity before it has measured its patrol
REDIS_TIMEOUT_S = 1.0  # a Redis call that takes longer counts as Redis not answering


class ClusterNode:
    """This node's part in the cluster (`monitor`: a `hub.monitor.Monitor` started with no streams)."""

    def __init__(self, config: Config, monitor, client=None, estate=None):
        self.config, self.monitor = config, monitor
        settings = config.cluster
        if client is None:
            import redis.asyncio as redis_asyncio  # only a cluster node needs the client

            client = redis_asyncio.Redis.from_url(
                settings.redis, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
            )
        self.store = ClusterStore(client, settings.node, ttl_s=TTL_S)
        monitor.keep_records = True  # a camera handed over stays listed, as its new holder shares it
        # `estate`: how records are shared (`hub.cluster.estate`); the scale simulation passes its own
        self.estate = estate if estate is not None else EstateSync(self.store, monitor.index, config)
        self.name, self.secret = settings.node, settings.secret
        self.address = ""  # this node's base URL for the others' internal requests (set by whoever serves it)
        self.addresses: dict[str, str] = {}  # live members' base URLs, from the last view
        self.lease = Lease()
        self.joined = False
        self.held: set[str] = set()
        self._shares: dict[str, NodeShare] = {}
        self._target: dict[str, str | None] = {}
        self._target_for: tuple[str, ...] = ()
        self._assigner = Assigner()  # `assign`, from its last answer when only membership changed
        self._settled: tuple | None = None  # the inputs of the last step that had nothing to do
        self._moving = asyncio.Lock()  # epochs change, and cameras are claimed, handed over and released, one at a time
        self._cameras_of: Config | None = None  # the config `_camera_ids` were read from
        self._camera_ids: tuple[str, ...] = ()
        self._camera_set: frozenset[str] = frozenset()
        self._substreams: frozenset[str] = frozenset()
        self._first_seen: dict[tuple[str, int], float] = {}  # (member, epoch) -> when this node first saw it
        self.reassignments = 0
        self.joined_at = 0.0
        self.members = 0  # live members in the last view
        self.unheld = 0  # configured cameras with no live holder in the last view
        self.moving = 0  # cameras the last step's plan had not yet where the assignment puts them
        self.redis_latency_s = 0.0  # the last heartbeat renewal's round trip
        self.redis_errors = 0
        self.share_errors = 0
        self.capacity = NO_CAP  # cameras this node offers: the lowest it measured of itself in the last minutes
        self._floor = CapacityFloor()
        # asks the other nodes how long ago each renewed its heartbeat (set by the app: the internal channel)
        self.peer_renewals: Callable[[], Awaitable[list[float]]] | None = None
        # tells a node the cameras just handed to its claims (set by the app: the internal channel)
        self.tell_taken: Callable[[str, int, list[str]], Awaitable[None]] | None = None

    def share(self) -> NodeShare:
        """What this node offers: its cores as weight; as capacity, its live budget plus what its patrol can
        visit once a period (`Monitor.capacity`), the lowest of the last minutes (`CapacityFloor`; no cap
        until it has measured its patrol)."""
        report = self.monitor.capacity()
        patrol = report.get("patrol_capacity")
        self.capacity = self._floor(NO_CAP if patrol is None else int(report["live_budget"]) + int(patrol))
        return NodeShare(float(max(self.monitor.meter.cores, 1)), self.capacity)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        helpers = [
            loop.create_task(self._converging(), name="cluster-assign"),
            loop.create_task(self._share(), name="cluster-estate"),
        ]
        try:
            await self._beats()
        finally:
            for helper in helpers:
                helper.cancel()

    async def _share(self) -> None:
        """The whole estate on this node: share its records, read the others' (`hub.cluster.estate`)."""
        while True:
            started = time.monotonic()
            if self.joined and self.lease.may_pull(started):
                try:
                    await self.estate.step()
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # Redis away: the records shown stay as last read; tried again
                    stop_if_cancelled(error)
                    self.share_errors += 1
                    log.debug("cluster: sharing records failed (%s)", type(error).__name__)
            await asyncio.sleep(max(0.0, SHARE_EVERY_S - (time.monotonic() - started)))

    async def _beats(self) -> None:
        """The heartbeat, in a loop of its own: it never waits behind planning or the monitor."""
        while True:
            started = time.monotonic()
            try:
                await self.beat(started)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis away or answering nonsense: keep what is held, move nothing
                stop_if_cancelled(error)
                self.lease.failed(started)
                self.redis_errors += 1
                log.warning("cluster: Redis did not answer (%s); keeping %d cameras, assignment frozen",
                            type(error).__name__, len(self.held))  # fmt: skip
                await self._ask_peers()
            now = time.monotonic()
            self._tell_pages()
            self.monitor.set_pull_until(self._pull_until(now))  # readers stop by themselves past it
            if not self.lease.may_pull(now) and self.held:
                log.error("cluster: lease over; stopping all %d readers", len(self.held))
                async with self._moving:
                    await self._hold(set())
            await asyncio.sleep(max(0.0, RENEW_EVERY_S - (time.monotonic() - started)))

    async def beat(self, now: float) -> None:
        """One heartbeat: join or renew; a lapsed, replaced or lost heartbeat takes a new epoch."""
        self.lease.tick(now)
        if self.lease.lapsed:  # did not run: stop first, talk to Redis after
            log.error("cluster: this node did not run past its lease; stopping its readers and joining again")
            async with self._moving:
                await self._drop_epoch(stop=True)
        if not self.joined:
            async with self._moving:
                await self._join()
            return
        sent = time.monotonic()
        renewed = await self.store.renew(self.share(), self.address)
        if renewed == 0:  # a newer process took this node's name: it pulls now, this one stops
            log.error("cluster: heartbeat replaced by a newer epoch of %s; stopping every reader", self.name)
            async with self._moving:
                await self._drop_epoch(stop=True)
            return
        if renewed == -1:  # expired, or Redis lost its data: a new epoch at once, then claim again what is held
            log.warning("cluster: heartbeat gone from Redis; joining again and claiming the %d cameras held", len(self.held))
            async with self._moving:
                await self._drop_epoch(stop=False)
                if not await self._join():
                    await self._hold(set())
                    return
        else:
            self.lease.renewed(sent)  # the heartbeat loop hands the new deadline to the readers
        self.redis_latency_s = time.monotonic() - sent

    async def _converging(self) -> None:
        """Every `RENEW_EVERY_S`, while this node holds a live lease and Redis answers: read the cluster,
        assign, move. Under `_moving`, so that a new epoch never meets a plan made under the old one."""
        while True:
            started = time.monotonic()
            if self.joined and self.lease.may_pull(started) and not self.lease.frozen:
                try:
                    async with self._moving:
                        if self.joined and self.lease.may_pull(time.monotonic()):
                            await self._converge(await self.store.view())
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # Redis away: the heartbeat loop counts it and freezes
                    stop_if_cancelled(error)
                    log.debug("cluster: could not read the cluster (%s)", type(error).__name__)
            await asyncio.sleep(max(0.0, RENEW_EVERY_S - (time.monotonic() - started)))

    def _pull_until(self, now: float) -> float:
        """Until when this node's readers may pull, by their own clock (`hub.ingest.pull_lease`): its
        lease's deadline; while Redis is away and the node keeps running, a little past each step (so a
        node that stops running stops pulling by itself all the same); past, when it holds no lease."""
        deadline = self.lease.deadline()
        if deadline is None or self.lease.lapsed:
            return now
        return max(deadline, now + GAP_S) if self.lease.frozen and not self.lease.cut_off else deadline

    async def _drop_epoch(self, stop: bool) -> None:
        """This epoch may write nothing more: join again (`stop`: with every reader stopped first)."""
        if stop:
            await self._hold(set())
        self.lease.rejoined()
        self.joined = False

    async def _join(self) -> bool:
        sent = time.monotonic()
        epoch = await self.store.join(self.share(), self.address)
        if not epoch:
            log.info("cluster: node name %s still alive in Redis; waiting for its heartbeat to expire", self.name)
            return False
        self.lease.renewed(sent)  # the heartbeat loop hands the new deadline to the readers
        self.joined, self.joined_at = True, sent
        log.info("cluster: joined as %s, epoch %d", self.name, epoch)
        return True

    async def _converge(self, view: View) -> None:
        cameras, configured = self._configured()
        shares = self._eligible(view)
        if cameras != self._target_for or meaningful_change(self._shares, shares):
            target = await asyncio.to_thread(self._assigner, cameras, shares)  # off the loop: a big estate's takes ms
            self._target, self._shares, self._target_for = target, shares, cameras
            self.reassignments += 1
        # Nothing changed since a step that had nothing to do (same claims, members, assignment): a steady
        # node of a 100,000-camera cluster spends no time planning.
        patient = time.monotonic() - self.joined_at >= TTL_S
        inputs = (view.claims_version, tuple(sorted((n, m.epoch) for n, m in view.members.items())), id(self._target), patient)
        if inputs == self._settled:
            return
        self._settled = None
        self.addresses = {name: m.address for name, m in view.members.items() if m.address}
        holders = view.holders  # camera -> live holder, read only
        self.estate.holders_alive(set(view.members))
        self.members, self.unheld = len(view.members), sum(1 for c in cameras if c not in holders)
        await asyncio.sleep(0)  # a turn for the loop between the heavy steps of a big estate
        moves = plan(holders, self._target, set(view.members), MOVES_PER_STEP)
        self.moving = moves.pending
        await asyncio.sleep(0)
        mine = {c for c, n in holders.items() if n == self.name and c in configured} | (self.held & configured)
        give = set(releases(holders, moves, self.name)) & mine
        if give:
            await self._hold(mine - give)  # readers stopped before the claims go
            await self._hand_over(give, moves.rebalance)
        # Cameras nobody holds are taken only by a node joined for a heartbeat's life: after Redis lost
        # its data, every holder claims again what it pulls before anyone may take it as an orphan.
        wanted = {c for c in moves.claims(self.name) if patient or c not in moves.orphans}
        keep = mine - give
        confirmed = {c for c in keep if holders.get(c) == self.name}  # live claims of this epoch: nothing to write
        claimed = (wanted | keep) - confirmed
        got = confirmed | await self.store.claim(sorted(claimed))
        await self._hold(got)
        if not give and not claimed and not moves.orphans and not moves.rebalance:
            self._settled = inputs

    async def _hand_over(self, give: set[str], goals: dict[str, str]) -> None:
        """Give cameras (their readers stopped) straight to their new holders' claims, and tell each new
        holder at once over the internal channel: it pulls them within a round trip, not at its next step,
        and a camera on its way is never left with no holder should Redis go away meanwhile."""
        by_goal: dict[str, list[str]] = {}
        for camera in sorted(give):
            by_goal.setdefault(goals[camera], []).append(camera)
        told = []
        for goal, cameras in by_goal.items():
            epoch, handed = await self.store.handover(goal, cameras)
            if epoch and handed and self.tell_taken is not None:
                told.append(self.tell_taken(goal, epoch, sorted(handed)))
        await asyncio.gather(*told)

    async def taken_over(self, epoch: int, cameras: list[str]) -> int:
        """Another node handed us `cameras` under our `epoch` (the internal channel): pull them now. Redis
        confirms which claims are ours; while it does not answer, the giver's word (signed) is enough, as
        it wrote the claims before telling. Returns how many this node now pulls of them."""
        async with self._moving:
            wanted = (set(cameras) & self._configured()[1]) - self.held
            if not self.joined or epoch != self.store.epoch or not wanted:
                return 0
            try:
                got = await self.store.claim(sorted(wanted))  # already ours: confirmed, nothing written
            except Exception as error:  # Redis away: trust the signed word of the node that wrote the claims
                log.info("cluster: taking %d handed-over cameras unconfirmed (%s)", len(wanted), type(error).__name__)
                got = wanted
            await self._hold(self.held | got)
            return len(got)

    def _eligible(self, view: View) -> dict[str, NodeShare]:
        """The members cameras are assigned over: those past their cool-down since (re)joining, as this
        node has watched them (all members while none is: a cluster starting up)."""
        now = time.monotonic()
        seen = {(name, m.epoch): self._first_seen.get((name, m.epoch), now) for name, m in view.members.items()}
        self._first_seen = seen
        settled = {name: view.members[name].share for (name, _), since in seen.items() if now - since >= COOLDOWN_S}
        return settled or {name: m.share for name, m in view.members.items()}

    async def _hold(self, cameras: set[str]) -> None:
        """Have the monitor pull exactly `cameras` (of the configured streams)."""
        if cameras == self.held:
            return
        streams = tuple(s for s in self.config.streams if s.id in cameras)
        self.estate.taking(cameras)
        await self.monitor.apply(dataclasses.replace(self.config, streams=streams))
        self.estate.holding(cameras)
        added, dropped = len(cameras - self.held), len(self.held - cameras)
        self.held = set(cameras)
        log.info("cluster: now pulling %d cameras (+%d, -%d)", len(cameras), added, dropped)

    async def _ask_peers(self) -> None:
        """Redis did not answer: do the other nodes still reach it? (`Lease.peers_renewed`)"""
        if self.peer_renewals is None or self.lease.cut_off or not set(self.addresses) - {self.name}:
            return
        try:
            ages = await self.peer_renewals()
        except Exception as error:  # the peers are no evidence either way
            log.debug("cluster: could not ask the other nodes (%s)", type(error).__name__)
            return
        if self.lease.peers_renewed(ages, time.monotonic()):
            log.error(
                "cluster: Redis answers the other nodes but not this one; stopping all %d readers at the lease's end, "
                "before the others take them over",
                len(self.held),
            )

    def renewed_ago(self) -> float | None:
        """Seconds since this node's last successful heartbeat renewal was sent (None: not joined)."""
        sent = self.lease.sent_at
        return None if sent is None or not self.joined else time.monotonic() - sent

    def _tell_pages(self) -> None:
        """What the pages show of this node (a banner while it cannot reach Redis), sent when it changes."""
        shown = {"node": self.name, "redis_up": not self.lease.frozen and self.joined, "members": self.members,
                 "pulling": len(self.held)}  # fmt: skip
        index = self.monitor.index
        if shown != index.cluster:
            index.cluster = shown
            index.publish("cluster", shown)

    def pulls(self, record) -> bool:
        """Whether this node pulls the record's camera (its series are this node's to export)."""
        return self.holds(record.id)

    def holds(self, stream_id: str) -> bool:
        return stream_id in self.held

    def address_of(self, node: str) -> str | None:
        """A live member's base URL for the internal channel, as its heartbeat says."""
        return self.addresses.get(node)

    def status(self) -> dict:
        """What `/metrics` says of this node's part in the cluster (read on the event loop)."""
        return {
            "node": self.name,
            "epoch": self.store.epoch,
            "members": self.members,
            "held": len(self.held),
            "capacity": self.capacity,
            "unheld": self.unheld,
            "moving": self.moving,
            "reassignments": self.reassignments,
            "redis_up": not self.lease.frozen and self.joined,
            "redis_latency_s": self.redis_latency_s,
            "redis_errors": self.redis_errors + self.share_errors,
        }

    def _configured(self) -> tuple[tuple[str, ...], frozenset[str]]:
        """The configured cameras' ids, in the config's order and as a set (worked out again after a reload)."""
        if self._cameras_of is not self.config:
            self._cameras_of, self._camera_ids = self.config, tuple(s.id for s in self.config.streams)
            self._camera_set = frozenset(self._camera_ids)
            self._substreams = frozenset(s.id for s in self.config.streams if s.has_substream)
        return self._camera_ids, self._camera_set

    def has_substream(self, stream_id: str) -> bool:
        """Whether a configured camera, this node's or another's, has a substream (big tiles play its main)."""
        self._configured()  # worked out again after a reload
        return stream_id in self._substreams

    async def reload(self, config: Config):
        """A new config (SIGHUP, the API): the node keeps its held cameras that remain; the next step assigns.
        The cluster settings stay as the node started with them (its name, Redis: a restart changes those)."""
        config = dataclasses.replace(config, cluster=self.config.cluster)
        self.config = config
        streams = tuple(s for s in config.streams if s.id in self.held)
        self.held &= {s.id for s in streams}
        result = await self.monitor.apply(dataclasses.replace(config, streams=streams))
        self.estate.configure(config)
        self.estate.holding(self.held)
        return result

    async def leave(self) -> None:
        """On a clean stop: release every claim, so the others take over without waiting for expiry."""
        try:
            await self.store.release(sorted(self.held))
        except Exception as error:
            log.warning("cluster: could not release claims on leaving (%s); they lapse with the heartbeat", error)
        await self.store.client.aclose()
