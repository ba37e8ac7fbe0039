"""The hub process's side of its ingest worker processes: who pulls which feed, and what comes back.

Who runs where: everything here runs on the hub's event loop, the reading of the workers' result
pipes too (`FrameReader`, a reader callback per pipe: no thread competes with the loop for the
interpreter lock). What a bundle brings is handed on feed by feed in slices of `DISPATCH_SLICE_S`,
so a request waits for one slice, not for a whole bundle of a thousand feeds. A pipe is read only when
the loop gets to it, and not while earlier bundles wait to be handed on, so a slow loop slows the
worker's sends, and the worker drops and counts, never this process's memory. Feeds go to the worker with
the fewest; visits to the one with the fewest under way. A worker that dies is started again at
once and given its feeds back; its unfinished visits fail (the patroller tries them again). Streams
on the other workers never notice.

`RemoteSupervisor` has the interface of `StreamSupervisor`, so the monitor does not care where a
reader runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from hub import health as h
from hub.ingest.live_tap import LiveTap
from hub.ingest.observations import Observation, ReaderLost
from hub.ingest.reader import ReaderSettings
from hub.patrol.verdict import ProbeOutcome, VisitOutcome
from hub.patrol.visit import Visit
from hub.workers.frames import FrameError, FrameReader
from hub.workers.protocol import (
    Bundle,
    Command,
    FeedState,
    Live,
    Quit,
    SetLease,
    SetThrottle,
    Start,
    Stop,
    VisitDone,
    VisitRequest,
)
from hub.workers.worker import worker_main

log = logging.getLogger("hub.workers")

STOP_WAIT_S = 12.0  # a worker's reader can take THREAD_JOIN_S to notice a stop
QUIT_WAIT_S = 10.0
DISPATCH_SLICE_S = 0.002  # the loop answers requests between slices of the workers' results


class WorkerLost(Exception):
    """The worker process running this work died; the work was not done."""


@dataclass
class WorkerHandle:
    number: int
    process: BaseProcess
    commands: Connection  # hub end
    results: Connection  # hub end
    feeds: set[str] = field(default_factory=set)
    visits: dict[int, asyncio.Future] = field(default_factory=dict)
    alive: bool = True

    def send(self, command: Command) -> None:
        if not self.alive:
            return
        try:
            self.commands.send(command)
        except (OSError, ValueError):  # it died; the results thread notices and restarts it
            self.alive = False


class RemoteSupervisor:
    """A stream's reader in a worker process, seen from the hub process."""

    def __init__(
        self,
        pool: WorkerPool,
        key: str,
        settings: ReaderSettings,
        deliver: Callable[[list[Observation]], None],
        tap: LiveTap | None,
    ):
        self.pool = pool
        self.stream_id = key
        self.settings = settings
        self.live = tap
        self._deliver = deliver
        self.handle: WorkerHandle | None = None
        self.state = FeedState(0, None)
        self._stopped: asyncio.Event | None = None

    @property
    def dropped(self) -> int:
        return self.state.dropped

    @property
    def retry_at(self) -> float | None:
        return self.state.retry_at

    def start(self) -> None:
        if self.live is not None:
            self.live.on_wanted = lambda wanted, pictures: self._send(Live(self.stream_id, wanted, pictures))
        self.pool.assign(self)

    def _send(self, command: Command) -> None:
        if self.handle is not None:
            self.handle.send(command)

    def start_command(self) -> Start:
        return Start(
            self.stream_id, self.settings, bool(self.live and self.live.wanted), bool(self.live and self.live.pictures_wanted)
        )

    def stop(self) -> Awaitable[None]:
        """Stop the reader: told at once (a new feed with the same key may start right after), and the
        returned awaitable finishes once the worker says the reader thread has exited (bounded)."""
        if self.live is not None:
            self.live.on_wanted = None
        handle = self.handle
        self.pool.release(self)
        if handle is None or not handle.alive:
            return asyncio.sleep(0)
        self._stopped = asyncio.Event()
        ticket = self.pool.stopping(self)
        handle.send(Stop(self.stream_id, ticket))
        return self._confirmed(handle, ticket)

    async def _confirmed(self, handle: WorkerHandle, ticket: int) -> None:
        stopped = self._stopped
        assert stopped is not None  # set by `stop` before it awaits this
        try:
            await asyncio.wait_for(stopped.wait(), STOP_WAIT_S)
        except TimeoutError:
            log.warning("stream %s: worker %d did not confirm the stop within %.0f s", self.stream_id, handle.number, STOP_WAIT_S)
        finally:
            self.pool.stop_settled(ticket)

    def received(self, items: list[Observation]) -> None:
        self._deliver(items)

    def stopped(self) -> None:
        if self._stopped is not None:
            self._stopped.set()


@contextlib.contextmanager
def _sigint_ignored_by_children():
    """Ctrl-C is the hub's to handle: a worker started meanwhile inherits "ignore SIGINT" across its exec, so
    a terminal's Ctrl-C to the whole process group cannot interrupt it while it imports (a traceback on
    the console, or one not in JSON). The worker's own entry point ignores SIGINT from then on. Only the
    main thread may change signal handling; elsewhere (a test's own loop) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class WorkerPool:
    def __init__(self, count: int, log_level: int = logging.INFO, log_format: str = "text"):
        self.count = count
        self._log_level = log_level
        self._log_format = log_format
        self.handles: list[WorkerHandle] = []
        self._feeds: dict[str, RemoteSupervisor] = {}
        self._stopping: dict[int, RemoteSupervisor] = {}  # by the ticket of their Stop, until the worker confirms it
        self._visit_ids = itertools.count(1)
        self._stop_tickets = itertools.count(1)
        self._context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self.restarts = 0
        self.picture_factor = 1.0
        self.lease_until: float | None = None  # a cluster node's pull deadline (`set_lease`)
        self._pending: deque[Iterator[None]] = deque()  # bundles being handed on, a feed per step
        self._paused: dict[int, tuple[WorkerHandle, FrameReader]] = {}  # pipes not read until those are done

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "the pool is started"
        return self._loop

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for number in range(self.count):
            self.handles.append(await self._spawn(number))

    async def _spawn(self, number: int) -> WorkerHandle:
        commands_out, commands_in = self._context.Pipe(duplex=False)  # (receive end, send end)
        results_out, results_in = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=worker_main,
            args=(commands_out, results_in, self._log_level, self._log_format),
            name=f"hub-ingest-{number}",
            daemon=True,
        )
        with _sigint_ignored_by_children():
            await asyncio.to_thread(process.start)
        commands_out.close()  # the child's ends: this process keeps only its own
        results_in.close()
        handle = WorkerHandle(number, process, commands_in, results_out)
        reader = FrameReader(results_out.fileno())
        self.loop.add_reader(reader.fd, self._readable, handle, reader)
        return handle

    def _readable(self, handle: WorkerHandle, reader: FrameReader) -> None:
        """The loop's callback when a worker's result pipe has data: dispatch every whole bundle."""
        try:
            frames = reader.read()
        except FrameError as exc:  # not our framing: treat the worker as lost, start a new one
            log.error("ingest worker %d wrote something that is not a result (%s): restarting it", handle.number, exc)
            handle.process.kill()
            frames = None
        if frames is None:  # the worker is gone
            self.loop.remove_reader(reader.fd)
            handle.results.close()
            self._lost(handle)
            return
        idle = not self._pending
        for frame in frames:  # read in the drain's slices too: a big estate's bundle takes milliseconds to unpickle
            self._pending.append(self._dispatch(handle, frame))
        if self._pending:
            self.loop.remove_reader(reader.fd)  # read on once what came is handed on
            self._paused[reader.fd] = (handle, reader)
            if idle:  # else the drain under way gets to these too
                self._drain()

    def _drain(self) -> None:
        """Hand on pending results for at most `DISPATCH_SLICE_S`, then let the loop answer others."""
        deadline = time.perf_counter() + DISPATCH_SLICE_S
        while self._pending:
            for _ in self._pending[0]:
                if time.perf_counter() > deadline:
                    self.loop.call_soon(self._drain)
                    return
            self._pending.popleft()
        paused, self._paused = self._paused, {}
        for fd, (handle, reader) in paused.items():
            if handle.alive and not self._closing:
                self.loop.add_reader(fd, self._readable, handle, reader)

    def _dispatch(self, handle: WorkerHandle, frame: bytes) -> Iterator[None]:
        """Read one bundle and hand it on, a step per feed (`_drain` decides when to pause)."""
        try:
            bundle: Bundle = pickle.loads(frame)
        except Exception:  # noqa: BLE001 - a garbled bundle costs its results, never the hub
            log.exception("ingest worker %d sent a bundle that could not be read", handle.number)
            return
        yield
        for key, items in bundle.observations.items():
            feed = self._feeds.get(key)
            if feed is not None and feed.handle is handle:
                feed.received(items)
            yield
        for key, chunks in bundle.chunks.items():
            feed = self._feeds.get(key)
            if feed is not None and feed.handle is handle and feed.live is not None:
                for chunk in chunks:
                    feed.live.deliver(chunk)
            yield
        for key, state in bundle.states.items():
            if (feed := self._feeds.get(key)) is not None and feed.handle is handle:
                feed.state = state
        for ticket in bundle.stopped:
            if (feed := self._stopping.pop(ticket, None)) is not None:
                feed.stopped()
        for done in bundle.visits:
            future = handle.visits.pop(done.visit_id, None)
            if future is not None and not future.done():
                future.set_result(done)

    def _lost(self, handle: WorkerHandle) -> None:
        handle.alive = False
        for future in handle.visits.values():
            if not future.done():
                future.set_exception(WorkerLost(f"ingest worker {handle.number} died during the visit"))
        handle.visits.clear()
        for ticket in [t for t, feed in self._stopping.items() if feed.handle is handle]:
            self._stopping.pop(ticket).stopped()
        if self._closing:
            return
        for key in handle.feeds:  # their silence until the new worker's readers open is the hub's, not theirs
            if (feed := self._feeds.get(key)) is not None and feed.handle is handle:
                feed.received([ReaderLost(0)])
        handle.process.join(0)
        log.warning(
            "ingest worker %d died (exit code %s); starting it again with its %d feeds",
            handle.number,
            handle.process.exitcode,
            len(handle.feeds),
        )
        self.restarts += 1
        self.loop.create_task(self._restart(handle), name=f"restart-worker-{handle.number}")

    async def _restart(self, old: WorkerHandle) -> None:
        new = await self._spawn(old.number)
        self.handles[self.handles.index(old)] = new
        if self.picture_factor != 1.0:
            new.send(SetThrottle(self.picture_factor))
        if self.lease_until is not None:
            new.send(SetLease(self.lease_until))
        for key in old.feeds:
            feed = self._feeds.get(key)
            if feed is not None and feed.handle is old:
                feed.handle = new
                new.feeds.add(key)
                new.send(feed.start_command())

    def pids(self) -> list[int]:
        return [h.process.pid for h in self.handles if h.process.pid is not None]

    def set_throttle(self, picture_factor: float) -> None:
        self.picture_factor = picture_factor
        for handle in self.handles:
            handle.send(SetThrottle(picture_factor))

    def set_lease(self, until: float | None) -> None:
        """A cluster node's pull deadline, to every worker's readers (`hub.ingest.pull_lease`)."""
        self.lease_until = until
        for handle in self.handles:
            handle.send(SetLease(until))

    def assign(self, feed: RemoteSupervisor) -> None:
        """Give a feed to the live worker with the fewest feeds."""
        handle = min((h for h in self.handles if h.alive), key=lambda h: len(h.feeds), default=None)
        self._feeds[feed.stream_id] = feed
        if handle is None:  # every worker is being restarted: the restart hands it over
            handle = min(self.handles, key=lambda h: len(h.feeds))
        feed.handle = handle
        handle.feeds.add(feed.stream_id)
        handle.send(feed.start_command())

    def release(self, feed: RemoteSupervisor) -> None:
        if self._feeds.get(feed.stream_id) is feed:
            del self._feeds[feed.stream_id]
        if feed.handle is not None:
            feed.handle.feeds.discard(feed.stream_id)

    def stopping(self, feed: RemoteSupervisor) -> int:
        """A Stop is about to be sent for `feed`: the ticket its confirmation will carry. Stops are told
        apart by ticket, not key: a tile toggled main, sub, main has two stops of `<id>/main` under way."""
        ticket = next(self._stop_tickets)
        self._stopping[ticket] = feed
        return ticket

    def stop_settled(self, ticket: int) -> None:
        """The stop was confirmed or given up on: its ticket is forgotten either way."""
        self._stopping.pop(ticket, None)

    async def visit(
        self, stream_id: str, settings: ReaderSettings, health: h.StreamHealth, last_probe: ProbeOutcome | None
    ) -> Visit:
        """One patrol visit, run in the worker with the fewest visits under way."""
        handle = min((h for h in self.handles if h.alive), key=lambda h: len(h.visits), default=None)
        if handle is None:
            raise WorkerLost("no ingest worker is running (restarting)")
        visit_id = next(self._visit_ids)
        future = self.loop.create_future()
        handle.visits[visit_id] = future
        handle.send(VisitRequest(visit_id, stream_id, settings, health.settings, health.nominal_fps, last_probe))
        done: VisitDone = await future
        if done.health is None:
            raise RuntimeError(done.message)
        assert isinstance(done.outcome, VisitOutcome)
        return Visit(done.health, done.outcome, list(done.pictures), done.message)

    async def close(self) -> None:
        self._closing = True
        for handle in self.handles:
            handle.send(Quit())
        for handle in self.handles:
            await asyncio.to_thread(handle.process.join, QUIT_WAIT_S)
            if handle.process.is_alive():
                log.warning("ingest worker %d did not quit in %.0f s; terminating it", handle.number, QUIT_WAIT_S)
                handle.process.terminate()
                await asyncio.to_thread(handle.process.join, 2.0)
