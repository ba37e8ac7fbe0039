"""The supervisor: owns one stream's reader threads for the hub's whole life.

Runs on the event loop. Each connection attempt gets a new generation id and
a new reader thread; observations from any older generation are ignored, so
a reader that is slow to die can never publish over its successor. After a
connection ends the supervisor waits as `hub.ingest.retry.RetryPolicy` says
(a tiered backoff; a stream that played and then ended, a server looping a
file, is opened again at once). `stop()` returns once the reader thread has exited.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from hub.ingest.live_tap import LiveTap
from hub.ingest.mailbox import Mailbox
from hub.ingest.observations import ENDED, Closed, Observation, Opened, PacketBatch
from hub.ingest.pull_lease import STOPPED
from hub.ingest.reader import Reader, ReaderSettings
from hub.ingest.retry import RetryPolicy
from hub.ingest.shared import ReaderShared

log = logging.getLogger("hub.ingest")

LEASE_POLL_S = 0.2  # how often a supervisor held back by its node's lease looks again
THREAD_JOIN_S = 8.0  # longest a reader can take to notice `stop` (an open in progress)

Deliver = Callable[[list[Observation]], None]


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
        self.retries = RetryPolicy()
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
            if self.shared is not None and self.shared.lease.over():
                await self._lease_renewed()
                continue
            closed = await self._connect_once(loop)
            if self._stop.is_set():
                break
            now = loop.time()
            played = None if self._first_frame_at is None else now - self._first_frame_at
            delay = self.retries.delay(closed.reason, played, now)
            log.info("stream %s: %s (%s); retrying in %.1f s", self.stream_id, closed.reason, closed.message, delay)
            self.retry_at = loop.time() + delay
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
            except TimeoutError:
                pass
            self.retry_at = None

    async def _lease_renewed(self) -> None:
        """A cluster node past its lease connects to nothing until its lease is renewed or this stream
        is stopped (which the cluster loop does first, when it finds the lease over)."""
        try:
            await asyncio.wait_for(self._stop.wait(), LEASE_POLL_S)
        except TimeoutError:
            pass

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
        return Closed(generation, ENDED, STOPPED, False)

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
