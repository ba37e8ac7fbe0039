"""One patrol visit: connect, read until the verdict is settled, disconnect.

Who runs where: `run_visit` runs on the event loop; the reader is the same `Reader` that live streams
use, in its own thread `visit-<id>`, handing observations over through a `Mailbox`. The loop folds
them into a fresh `StreamHealth` and checks `visit_settled` after each batch; once settled (or at the
deadline) it takes the verdict, tells the reader to stop and waits for its thread (bounded). The
`Closed` that our own stop causes is not a camera fault and is not folded in.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from hub import health as h
from hub.config import HealthSettings
from hub.ingest.mailbox import Mailbox
from hub.ingest.observations import AUTH_FAILED, STALLED, Closed, Observation, Picture
from hub.ingest.pull_lease import STOPPED
from hub.ingest.reader import OPEN_TIMEOUT_S, Reader, ReaderSettings
from hub.ingest.shared import ReaderShared
from hub.patrol.verdict import ProbeOutcome, VisitOutcome, visit_failure, visit_settled

VISIT_MARGIN_S = 4.0  # beyond the longest a settled verdict can need
THREAD_JOIN_S = 8.0


@dataclass
class Visit:
    """What a visit saw: the health it built (kept by the monitor for rates, sizes and pictures) and its verdict."""

    health: h.StreamHealth
    outcome: VisitOutcome
    pictures: list[Picture]
    message: str = ""


def visit_deadline_s(settings: HealthSettings) -> float:
    """The longest one visit may take: two open phases, then the frozen rule's wait or the fps window."""
    return 2 * OPEN_TIMEOUT_S + max(settings.frozen_after_s, h.FLOW_WINDOW_S + h.BURST_S) + VISIT_MARGIN_S


async def run_visit(
    stream_id: str,
    reader_settings: ReaderSettings,
    health: h.StreamHealth,
    last_probe: ProbeOutcome | None,
    shared: ReaderShared | None = None,
) -> Visit:
    """Visit one camera; `health` is fresh (settings and nominal fps set) and is filled in here."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    stop = threading.Event()
    pictures: list[Picture] = []
    closed: list[Closed] = []

    def receive(items: list[Observation]) -> None:
        if stop.is_set():
            return  # the verdict is taken: what arrives while the reader winds down must not change the rates
        for item in items:
            if isinstance(item, Closed):
                closed.append(item)
                if item.message.startswith(STOPPED):
                    continue  # our own stop, not the camera's doing
            h.observe(health, item, loop.time())
            if isinstance(item, Picture):
                pictures.append(item)
        changed.set()

    reader = Reader(reader_settings, 1, Mailbox(loop, receive), stop, shared=shared)
    thread = threading.Thread(target=reader.run, name=f"visit-{stream_id}", daemon=True)
    await asyncio.to_thread(thread.start)
    deadline = loop.time() + visit_deadline_s(health.settings)
    try:
        while not _settled(health, pictures, _judged_at(health, loop.time())) and loop.time() < deadline:
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), max(0.05, deadline - loop.time()))
            except TimeoutError:
                pass
        now = _judged_at(health, loop.time())
        verdict, message = _verdict(health, closed, last_probe, now)
    finally:
        stop.set()
    await asyncio.to_thread(thread.join, THREAD_JOIN_S)
    first = pictures[0].at if pictures else None
    return Visit(health, VisitOutcome(verdict, now, first), pictures, message)


def _judged_at(health: h.StreamHealth, now: float) -> float:
    """A visit is judged as of its newest packet: packets are stamped when they should have arrived
    (`ArrivalClock`), which can trail the loop's clock by a fraction of a second, and rates measured up
    to `now` would count that gap as missing frames."""
    last = health.flow.last_at
    return now if last is None or health.close_reason is not None else min(now, last)


def _settled(health: h.StreamHealth, pictures: list[Picture], now: float) -> bool:
    return visit_settled(health, pictures[0].at if pictures else None, now)


def _verdict(health: h.StreamHealth, closed: list[Closed], last_probe: ProbeOutcome | None, now: float) -> tuple[h.Verdict, str]:
    failure = next((c for c in closed if not c.message.startswith(STOPPED)), None)
    if failure is not None and not health.had_frame:
        reason = visit_failure(failure.reason, failure.message, last_probe)
        state = h.UNAUTHORIZED if reason == AUTH_FAILED else h.OFFLINE
        return h.Verdict(state, (reason,)), failure.message
    if not health.had_frame:
        return h.Verdict(h.OFFLINE, (STALLED,)), "no video before the visit's deadline"
    return h.evaluate(health, now), failure.message if failure else ""
