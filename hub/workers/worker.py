"""One ingest worker process: reader threads and patrol visits for the streams the hub gives it.

Who runs where, inside the worker process: an asyncio loop runs the same `StreamSupervisor`s and
`run_visit`s as a single-process hub; a thread `commands` blocks on the command pipe and hands each
command to the loop; a thread `results` blocks on the result pipe's writes. Every `BUNDLE_S` the loop
gathers what the readers observed into one `Bundle`. While the hub process is slow to read, bundles
accumulate here, bounded per feed: the oldest packet batches and video chunks are dropped first and
counted (an `Opened`, `Picture` or `Closed` is never dropped). The worker exits on `Quit`, or when
the hub process goes away (its command pipe closes).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import signal
import threading
from multiprocessing.connection import Connection

from hub import health as h
from hub import logs
from hub.diagnostics.measurer import Measurer
from hub.ingest.live_tap import LiveTap
from hub.ingest.observations import Observation, PacketBatch
from hub.ingest.remux import INIT, Chunk
from hub.ingest.shared import ReaderShared
from hub.ingest.supervisor import StreamSupervisor
from hub.patrol.visit import run_visit
from hub.workers.frames import write_frame
from hub.workers.protocol import (
    BUNDLE_S,
    MAX_PENDING_PER_FEED,
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

log = logging.getLogger("hub.worker")


def worker_main(commands: Connection, results: Connection, log_level: int = logging.INFO, log_format: str = "text") -> None:
    """Entry point of a worker process (spawned, not forked). Ctrl-C is the hub's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.setup(log_level, log_format, role="worker")
    asyncio.run(Worker(commands, results).run())


class Worker:
    def __init__(self, commands: Connection, results: Connection):
        self._commands = commands
        self._results = results
        self._supervisors: dict[str, StreamSupervisor] = {}
        self._taps: dict[str, LiveTap] = {}
        self._pending = Bundle()
        self._pipe_dropped: dict[str, int] = {}
        self._skipping: set[str] = set()  # feeds whose video overflowed: wait for a keyframe
        self._outbox: queue.Queue = queue.Queue(maxsize=1)
        self._sending = False
        self._tasks: set[asyncio.Task] = set()
        self._quit: asyncio.Event | None = None
        # what all this worker's readers and visits share: picture throttle, measurer, keyframe decoders
        self._measurer = Measurer()
        self._shared = ReaderShared(measurer=self._measurer)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._quit = asyncio.Event()
        threading.Thread(target=self._read_commands, args=(loop,), name="commands", daemon=True).start()
        sender = threading.Thread(target=self._send_results, args=(loop,), name="results", daemon=True)
        sender.start()
        while not self._quit.is_set():
            try:
                await asyncio.wait_for(self._quit.wait(), BUNDLE_S)
            except TimeoutError:
                pass
            self._flush()
        await asyncio.gather(*(s.stop() for s in self._supervisors.values()))
        await asyncio.to_thread(self._measurer.close)
        for task in self._tasks:
            task.cancel()
        self._outbox.put(None)

    def _read_commands(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                command = self._commands.recv()
            except (EOFError, OSError):  # the hub process is gone
                command = Quit()
            loop.call_soon_threadsafe(self._handle, command)
            if isinstance(command, Quit):
                return

    def _send_results(self, loop: asyncio.AbstractEventLoop) -> None:
        while (bundle := self._outbox.get()) is not None:
            try:
                write_frame(self._results.fileno(), bundle)
            except (OSError, ValueError):  # the hub process is gone
                loop.call_soon_threadsafe(self._handle, Quit())
                return
            loop.call_soon_threadsafe(self._sent)

    def _sent(self) -> None:
        self._sending = False

    def _handle(self, command: Command) -> None:
        if isinstance(command, Start):
            self._start(command)
        elif isinstance(command, Stop):
            # Taken out at once, so that a Start for the same feed right behind this Stop starts a new reader.
            supervisor = self._supervisors.pop(command.key, None)
            self._taps.pop(command.key, None)
            self._spawn(self._stop(command, supervisor))
        elif isinstance(command, Live):
            if command.key in self._taps:
                tap = self._taps[command.key]
                tap.wanted, tap.pictures_wanted = command.wanted, command.pictures
        elif isinstance(command, SetThrottle):
            self._shared.throttle.factor = command.picture_factor
        elif isinstance(command, SetLease):
            self._shared.lease.until = command.until
        elif isinstance(command, VisitRequest):
            self._spawn(self._visit(command))
        elif isinstance(command, Quit) and self._quit is not None:
            self._quit.set()
        else:
            log.error("unknown command %r", type(command).__name__)

    def _spawn(self, work) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start(self, command: Start) -> None:
        key = command.key
        if key in self._supervisors:  # started twice (a restart racing a stop): keep the running one
            return
        tap = self._taps[key] = LiveTap(asyncio.get_running_loop(), key, self._on_chunk)
        tap.wanted, tap.pictures_wanted = command.live_wanted, command.pictures_wanted
        supervisor = StreamSupervisor(
            key, command.settings, lambda items: self._observed(key, supervisor, items), tap, self._shared
        )
        self._supervisors[key] = supervisor
        supervisor.start()

    async def _stop(self, command: Stop, supervisor: StreamSupervisor | None) -> None:
        key = command.key
        if supervisor is not None:
            await supervisor.stop()
        if key not in self._supervisors:  # not started again meanwhile: what it left behind is stale
            self._pending.observations.pop(key, None)
            self._pending.chunks.pop(key, None)
        self._pending.stopped.append(command.ticket)

    async def _visit(self, request: VisitRequest) -> None:
        try:
            health = h.StreamHealth(request.health, request.nominal_fps)
            visit = await run_visit(request.stream_id, request.settings, health, request.last_probe, self._shared)
            done = VisitDone(request.visit_id, visit.health, visit.outcome, tuple(visit.pictures), visit.message)
        except Exception as exc:  # noqa: BLE001 - reported to the hub, which logs it and moves on
            log.exception("visit to %s failed", request.stream_id)
            done = VisitDone(request.visit_id, None, None, (), f"{type(exc).__name__}: {exc}")
        self._pending.visits.append(done)

    def _observed(self, key: str, supervisor: StreamSupervisor, items: list[Observation]) -> None:
        if self._supervisors.get(key) is not supervisor:  # stopped (and maybe started again): its last words are stale
            return
        held = self._pending.observations.setdefault(key, [])
        held.extend(items)
        if len(held) > MAX_PENDING_PER_FEED:
            self._pending.observations[key] = self._trim(key, held)

    def _trim(self, key: str, held: list[Observation]) -> list[Observation]:
        """Drop the oldest packet batches beyond the bound; everything else is kept."""
        excess = len(held) - MAX_PENDING_PER_FEED
        kept = []
        for item in held:
            if excess > 0 and isinstance(item, PacketBatch):
                excess -= 1
                self._pipe_dropped[key] = self._pipe_dropped.get(key, 0) + 1
                continue
            kept.append(item)
        return kept

    def _on_chunk(self, key: str, chunk: Chunk) -> None:
        held = self._pending.chunks.setdefault(key, [])
        if len(held) >= MAX_PENDING_PER_FEED:  # viewers skip to the next keyframe, as for a slow browser
            held.clear()
            self._skipping.add(key)
            self._pipe_dropped[key] = self._pipe_dropped.get(key, 0) + 1
        if key in self._skipping:
            if not (chunk.keyframe or chunk.kind == INIT):
                return
            self._skipping.discard(key)
        held.append(chunk)

    def _flush(self) -> None:
        if self._sending:
            return
        for key, supervisor in self._supervisors.items():
            self._pending.states[key] = FeedState(supervisor.dropped + self._pipe_dropped.get(key, 0), supervisor.retry_at)
        if not self._pending:
            return
        bundle, self._pending = self._pending, Bundle()
        self._sending = True
        self._outbox.put(bundle)
