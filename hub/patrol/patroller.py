"""The patroller: runs the visits and probes that the `PatrolPlan` says are due.

Runs on the event loop as one task (`run`); each visit and each probe is its own task, bounded by
`patrol_concurrency` visits and `PROBE_CONCURRENCY` probes at once, and keeps the plan's period in step
with the visits' measured length (`PatrolPlan.pace`). Results go to the monitor
through the two callbacks, which return whether the camera needs an urgent visit. A visit or probe
that raises is logged and counted, never allowed to stop the rotation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from hub import health as h
from hub.ingest.observations import STALLED, UNREACHABLE
from hub.ingest.reader import ReaderSettings
from hub.patrol.probe import probe
from hub.patrol.schedule import PatrolPlan, PatrolTiming
from hub.patrol.verdict import ProbeOutcome
from hub.patrol.visit import Visit, run_visit

log = logging.getLogger("hub.patrol")

VisitRunner = Callable[[str, ReaderSettings, h.StreamHealth, ProbeOutcome | None], Awaitable[Visit]]
PROBE_CONCURRENCY = 64
PROBE_TIMEOUT_S = 5.0
STEP_S = 0.2


@dataclass(frozen=True)
class PatrolTarget:
    """What a visit or probe of one camera needs, from the monitor."""

    reader: ReaderSettings
    health: h.StreamHealth  # fresh, for the visit to fill in
    last_probe: ProbeOutcome | None


class Patroller:
    def __init__(
        self,
        timing: PatrolTiming,
        target: Callable[[str], PatrolTarget | None],
        on_visit: Callable[[str, Visit], bool],
        on_probe: Callable[[str, ProbeOutcome], bool],
        visit: VisitRunner = run_visit,
    ):
        self.plan = PatrolPlan(timing)
        self._run_visit = visit  # here, or in an ingest worker process
        self._target = target
        self._on_visit = on_visit
        self._on_probe = on_probe
        self._tasks: set[asyncio.Task] = set()
        self.visits = self.probes = self.failures = 0
        self.mean_visit_s: float | None = None  # moving average of how long a visit takes
        self.concurrency_share = 1.0  # lowered by the load governor when the hub is overloaded
        self._visiting = 0
        self._probing = 0

    @property
    def concurrency(self) -> int:
        return max(1, int(self.plan.timing.concurrency * self.concurrency_share))

    def add(self, stream_ids: list[str], checked: bool = False) -> None:
        """Patrol these cameras from now; `checked`: a live connection has just judged them."""
        self.plan.add(stream_ids, asyncio.get_running_loop().time(), checked)

    def remove(self, stream_id: str) -> None:
        self.plan.remove(stream_id)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                now = loop.time()
                self._pace(now)
                for stream_id in self.plan.due_visits(now, self.concurrency - self._visiting):
                    self.plan.visit_started(stream_id, now)  # marked before the task runs: never picked twice
                    self._visiting += 1
                    self._start(self._visit(stream_id), f"visit-{stream_id}")
                for stream_id in self.plan.due_probes(now)[: max(0, PROBE_CONCURRENCY - self._probing)]:
                    self.plan.probe_started(stream_id)
                    self._probing += 1
                    self._start(self._probe(stream_id), f"probe-{stream_id}")
                await asyncio.sleep(STEP_S)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _pace(self, now: float) -> None:
        """The period kept (`PatrolPlan.pace`), logged when it starts to stretch and when it is back."""
        configured, before = self.plan.timing.period_s, self.plan.period_s
        kept = self.plan.pace(now, self.mean_visit_s, self.concurrency)
        if before <= configured < kept:
            log.warning(
                "patrol: %d cameras, visits of %.1f s, %d at once: each is visited every %.0f s instead of %.0f s "
                "until the load falls (hub_patrol_period_seconds)",
                len(self.plan.slots), self.mean_visit_s or 0.0, self.concurrency, kept, configured,
            )  # fmt: skip
        elif before > configured >= kept:
            log.info("patrol: back to a visit every %.0f s", kept)

    def _start(self, work, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _visit(self, stream_id: str) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            target = self._target(stream_id)
            if target is None:
                return
            visit = await self._run_visit(stream_id, target.reader, target.health, target.last_probe)
            if visit.outcome.verdict.reasons == (UNREACHABLE,) and "refused" not in visit.message.lower():
                # An open that timed out: a hung camera looks the same to FFmpeg; a probe tells them apart.
                fresh = await probe(target.reader.url, PROBE_TIMEOUT_S)
                if fresh.outcome == STALLED:
                    visit.outcome = replace(visit.outcome, verdict=h.Verdict(h.OFFLINE, (STALLED,)))
            self.visits += 1
            took = loop.time() - started
            log.debug(
                "visit %s: %.1f s, %s %s", stream_id, took, visit.outcome.verdict.state, ",".join(visit.outcome.verdict.reasons)
            )
            self.mean_visit_s = took if self.mean_visit_s is None else self.mean_visit_s + 0.05 * (took - self.mean_visit_s)
            if self._on_visit(stream_id, visit):
                self.plan.urge(stream_id)
        except Exception as exc:  # noqa: BLE001 - one camera must not stop the rotation
            self.failures += 1
            log.warning("visit to %s failed (%s: %s); the next one comes in turn", stream_id, type(exc).__name__, exc)
        finally:
            self._visiting -= 1
            self.plan.visited(stream_id, loop.time())

    async def _probe(self, stream_id: str) -> None:
        loop = asyncio.get_running_loop()
        needs_visit = False
        try:
            target = self._target(stream_id)
            if target is None:
                return
            result = await probe(target.reader.url, PROBE_TIMEOUT_S)
            self.probes += 1
            log.debug("probe %s: %s", stream_id, result.outcome)
            needs_visit = self._on_probe(stream_id, ProbeOutcome(result.outcome, loop.time()))
        except Exception:  # noqa: BLE001
            self.failures += 1
            log.exception("probe of %s failed", stream_id)
        finally:
            self._probing -= 1
            self.plan.probed(stream_id, loop.time(), needs_visit)
