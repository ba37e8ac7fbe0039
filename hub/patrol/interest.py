"""Who is looking at which stream: a patrolled stream somebody opens goes live while watched, plus a grace.

Runs on the event loop, no I/O. Continuing looks (a wall tile, a live WebSocket) `hold` and `release`
a stream; one-off looks (a map popup fetching a snapshot) `look` at it. `wants_live` answers for a
given time, so tests drive it with made-up times. `began(stream_id)` is called when a stream nobody
looked at is looked at, so the monitor connects it at once rather than at its next tick.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable


class Interest:
    def __init__(self, grace_s: float, began: Callable[[str], None] = lambda stream_id: None):
        self.grace_s = grace_s
        self._holds: Counter[str] = Counter()
        self._last_look: dict[str, float] = {}
        self._began = began

    def hold(self, stream_id: str, now: float) -> None:
        new = not self.wants_live(stream_id, now)
        self._holds[stream_id] += 1
        self._last_look[stream_id] = now
        if new:
            self._began(stream_id)

    def release(self, stream_id: str, now: float) -> None:
        if self._holds[stream_id] > 0:
            self._holds[stream_id] -= 1
        if self._holds[stream_id] <= 0:
            del self._holds[stream_id]
        self._last_look[stream_id] = now  # the grace starts when the last viewer leaves

    def look(self, stream_id: str, now: float) -> None:
        new = not self.wants_live(stream_id, now)
        self._last_look[stream_id] = now
        if new:
            self._began(stream_id)

    def wants_live(self, stream_id: str, now: float) -> bool:
        if self._holds.get(stream_id, 0) > 0:
            return True
        last = self._last_look.get(stream_id)
        if last is None:
            return False
        if now - last > self.grace_s:
            del self._last_look[stream_id]
            return False
        return True

    def looked_at(self, now: float) -> set[str]:
        """Every stream `wants_live` is true for at `now`: held, or looked at within the grace (read from
        the looks themselves, so a tick does not ask about each of 1,555 streams)."""
        return {stream_id for stream_id in [*self._holds, *self._last_look] if self.wants_live(stream_id, now)}

    def watched(self) -> set[str]:
        """Streams held right now (not counting the grace after a look)."""
        return set(self._holds)
