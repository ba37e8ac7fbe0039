"""The supervisor: owns one stream's reader threads for the hub's whole life.

Runs on the event loop. Each connection attempt gets a new generation id and
a new reader thread; observations from any older generation are ignored, so
a reader that is slow to die can never publish over its successor. After a
connection ends the supervisor waits through a tiered backoff (1, 5, 10, 30,
60 s), which starts over after a healthy run. `stop()` returns once the
reader thread has exited.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from hub.ingest.live_tap import LiveTap
from hub.ingest.mailbox import Mailbox
from hub.ingest.observations import Closed, Observation, Opened, PacketBatch
from hub.ingest.reader import Reader, ReaderSettings
from hub.ingest.shared import ReaderShared

log = logging.getLogger("hub.ingest")

BACKOFF_S = (1.0, 5.0, 10.0, 30.0, 60.0)
HEALTHY_RUN_S = 30.0  # a connection that delivered frames this long resets the backoff
THREAD_JOIN_S = 8.0  # longest a reader can take to notice `stop` (an open in progress)

Deliver = Callable[[list[Observation]], None]


def backoff_delay(failures: int) -> float:
    """Delay before the next attempt after `failures` consecutive failed runs (0 -> first step)."""
    return BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]


class StreamSupervisor:
    def __init__(
        self,
        stream_id: str,
        settings: ReaderSettings,
        deliver: Deliver,
        live: LiveTap | None = None,
        shared: ReaderShared | None = None,
    ):
        self.stream_id = stream_id
        self.shared = shared  # what the process's readers share: throttle, measurer, keyframe decoders
        self.settings = settings
        self.live = live
        self._deliver = deliver
        self.generation = 0
        self.failures = 0
        self.retry_at: float | None = None  # loop time of the next attempt while backing off
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._thread: threading.Thread | None = None
        self._thread_stop = threading.Event()
        self._closed: asyncio.Future | None = None
        self._mailbox: Mailbox | None = None
        self._dropped_before = 0  # observations dropped by earlier generations' mailboxes
        self._run_started = 0.0
        self._first_frame_at: float | None = None

    @property
    def dropped(self) -> int:
        """Observations the bounded hand-over had to drop because the loop fell behind."""
        return self._dropped_before + (self._mailbox.dropped if self._mailbox is not None else 0)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"supervise-{self.stream_id}")

    async def stop(self) -> None:
        """Stop the reader and wait (bounded) for its thread to exit."""
        self._stop.set()
        self._thread_stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        thread = self._thread
        if thread is not None and thread.is_alive():
            await asyncio.to_thread(thread.join, THREAD_JOIN_S)
            if thread.is_alive():
                log.warning("stream %s: reader thread still busy after %.0f s", self.stream_id, THREAD_JOIN_S)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            closed = await self._connect_once(loop)
            if self._stop.is_set():
                break
            healthy = self._first_frame_at is not None and loop.time() - self._first_frame_at >= HEALTHY_RUN_S
            self.failures = 0 if healthy else self.failures + 1
            delay = backoff_delay(0 if healthy else self.failures - 1)
            log.info("stream %s: %s (%s); retrying in %.0f s", self.stream_id, closed.reason, closed.message, delay)
            self.retry_at = loop.time() + delay
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
            except TimeoutError:
                pass
            self.retry_at = None

    async def _connect_once(self, loop: asyncio.AbstractEventLoop) -> Closed:
        self.generation += 1
        generation = self.generation
        self._closed = loop.create_future()
        self._first_frame_at = None
        self._thread_stop = threading.Event()
        if self._stop.is_set():
            self._thread_stop.set()
        if self._mailbox is not None:
            self._dropped_before += self._mailbox.dropped
        mailbox = self._mailbox = Mailbox(loop, lambda items: self._receive(generation, items))
        reader = Reader(self.settings, generation, mailbox, self._thread_stop, self.live, self.shared)
        self._thread = threading.Thread(target=reader.run, name=f"ingest-{self.stream_id}-{generation}", daemon=True)
        # Thread.start() waits until the new thread runs; under GIL contention that can take milliseconds,
        # which would stall every other stream and request, so it waits on a helper thread instead.
        await asyncio.to_thread(self._thread.start)
        stop_wait = loop.create_task(self._stop.wait())
        try:
            await asyncio.wait({self._closed, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop_wait.cancel()
        if self._closed.done():
            return self._closed.result()
        self._thread_stop.set()
        return Closed(generation, "ended", "stopped", False)

    def _receive(self, generation: int, items: list[Observation]) -> None:
        """Event loop: pass a reader's observations on, unless that reader is stale."""
        if generation != self.generation:
            return
        delivered = []
        for item in items:
            if isinstance(item, Opened) and item.transport and item.transport != self.settings.transport:
                # The camera refused RTP over TCP and the reader fell back: reconnections go straight to UDP.
                log.warning("stream %s: the camera refused RTP over TCP; reading it over UDP", self.stream_id)
                self.settings = replace(self.settings, transport=item.transport)
            if isinstance(item, PacketBatch) and item.packets and self._first_frame_at is None:
                self._first_frame_at = asyncio.get_running_loop().time()
            if isinstance(item, Closed):
                if self._closed is not None and not self._closed.done():
                    self._closed.set_result(item)
            delivered.append(item)
        self._deliver(delivered)
