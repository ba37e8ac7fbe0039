"""Failed-login limits: at most 5 failures a minute and 20 an hour per user name and per address.

Runs on the event loop (the login handler); no I/O. Only failures count; while a key is over
a limit every attempt for it is refused, right password or not, until the oldest failure in
that window ages out. Memory is bounded: the least recently failing keys are forgotten first.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOWS = ((60.0, 5), (3600.0, 20))  # (seconds, failures allowed in them)
MAX_KEYS = 50_000


class FailureLimiter:
    def __init__(self, windows: tuple[tuple[float, int], ...] = WINDOWS, clock: Callable[[], float] = time.monotonic):
        self.windows = windows
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._longest = max(seconds for seconds, _ in windows)

    def wait_s(self, key: str) -> float:
        """0 if `key` may try now, else the seconds until it may."""
        failures = self._failures.get(key)
        if not failures:
            return 0.0
        now = self._clock()
        while failures and now - failures[0] > self._longest:
            failures.popleft()
        wait = 0.0
        for seconds, allowed in self.windows:
            recent = [t for t in failures if now - t <= seconds]
            if len(recent) >= allowed:
                wait = max(wait, recent[-allowed] + seconds - now)
        return wait

    def fail(self, key: str) -> None:
        failures = self._failures.pop(key, None) or deque(maxlen=max(n for _, n in self.windows))
        failures.append(self._clock())
        self._failures[key] = failures  # re-inserted: the dict's order is least recently failing first
        while len(self._failures) > MAX_KEYS:
            self._failures.pop(next(iter(self._failures)))
