"""A bounded hand-over from a reader thread to the event loop.

Who runs where: `put` runs on the reader thread (and on the process's picture
measurer, whose results wait for the reader's next batch); `_drain` runs on the
event loop, scheduled with `call_soon_threadsafe` at most once per batch. When the
loop falls behind, the oldest observations are dropped and counted, so a
stuck loop never makes a reader thread grow memory without bound.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable

from hub.ingest.observations import Observation


class Mailbox:
    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[list[Observation]], None], capacity: int = 256):
        self._loop = loop
        self._deliver = deliver
        self._items: deque[Observation] = deque()
        self._capacity = capacity
        self._lock = threading.Lock()
        self._scheduled = False
        self.dropped = 0

    def put(self, item: Observation, wake: bool = True) -> None:
        """Reader thread (or the measurer): queue one observation and make sure the loop will collect it.
        `wake=False` for one that can wait: it leaves with the reader's next observation (within `BATCH_S`
        while the stream flows, or with its `Closed`), and saves the loop a wake-up of its own."""
        with self._lock:
            if len(self._items) >= self._capacity:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            if self._scheduled or not wake:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop is closed: the hub is shutting down
            pass

    def _drain(self) -> None:
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._scheduled = False
        if items:
            self._deliver(items)
