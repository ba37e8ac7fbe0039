"""Failed-login limits: at most 5 failures a minute and 20 an hour per user name and per address.

Runs on the event loop (the login handler); no I/O. Only failures count; while a key is over
a limit every attempt for it is refused, right password or not, until the oldest failure in
that window ages out. Memory is bounded: the least recently failing keys are forgotten first.

An attempt is booked as a failure *before* its password is verified (`reserve`, in one step on the
loop, with no await between the check and the booking) and the booking is taken back when the
password was right (`release`). Verifying takes a worker thread a tenth of a second, so checking
first and booking after would let a burst of 100 attempts that arrive together all be verified;
booked first, at most the allowed number ever is, however many arrive at once.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOWS = ((60.0, 5), (3600.0, 20))  # (seconds, failures allowed in them)
MAX_KEYS = 50_000


@dataclass(frozen=True)
class Booking:
    """Attempts booked as failures until the password is known: (key, when) each."""

    stamps: tuple[tuple[str, float], ...]


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

    def reserve(self, *keys: str) -> tuple[float, Booking | None]:
        """(0, a booking) if every key may try now, the attempt booked as a failure of each; else
        (seconds to wait, None) and nothing booked."""
        wait = max((self.wait_s(key) for key in keys), default=0.0)
        if wait > 0:
            return wait, None
        return 0.0, Booking(tuple((key, self.fail(key)) for key in keys))

    def release(self, booking: Booking) -> None:
        """The password was right: the booked attempts were no failures."""
        for key, stamp in booking.stamps:
            failures = self._failures.get(key)
            if failures is not None and stamp in failures:
                failures.remove(stamp)

    def fail(self, key: str) -> float:
        """Count a failure of `key` now; returns its time stamp."""
        failures = self._failures.pop(key, None) or deque(maxlen=max(n for _, n in self.windows))
        stamp = self._clock()
        failures.append(stamp)
        self._failures[key] = failures  # re-inserted: the dict's order is least recently failing first
        while len(self._failures) > MAX_KEYS:
            self._failures.pop(next(iter(self._failures)))
        return stamp
