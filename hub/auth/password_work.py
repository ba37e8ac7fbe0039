"""Password verification for the running hub, on threads of its own, with a cap on what may wait.

Who runs where: `verify` is awaited on the event loop (the sign-in handler); the Argon2 work runs in
this object's own executor, never in the loop's default thread pool, which snapshot scaling, metrics
renders and other short jobs share. One verification costs about a tenth of a second and one and a half
cores (Argon2id with four lanes), so a single worker is as fast as two on the hub's reference machine
and leaves the other core to the cameras. At most `workers + queue` verifications are under way or
waiting; one more is refused at once (`PasswordBusy`, which the handler answers with 429 and
Retry-After), so a burst of bogus sign-ins costs a bounded amount of work and delays nobody else.

A sign-in from an address where somebody signed in before (`priority`) may use `PRIORITY_PLACES` more
places, so an operator at the usual desk still gets in while bots fill the queue. Which addresses are
known depends on past successes only, never on the user name asked for: the answer tells an attacker
nothing about which names exist.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from hub.auth import passwords

WORKERS = 1
QUEUE = 8
PRIORITY_PLACES = 2
FIRST_GUESS_S = 0.15  # a verification's time before one was measured


class PasswordBusy(Exception):
    """Too many sign-ins are being checked; `retry_after_s` says when to try again."""

    def __init__(self, retry_after_s: float):
        super().__init__(f"too many sign-ins at once: try again in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


class PasswordWork:
    def __init__(self, workers: int = WORKERS, queue: int = QUEUE):
        self.capacity = workers + queue
        self._workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password")
        self._pending = 0
        self._mean_s = FIRST_GUESS_S
        self.refused = 0

    @property
    def pending(self) -> int:
        return self._pending

    async def verify(self, stored_hash: str, password: str, priority: bool = False) -> bool:
        """True when `password` matches `stored_hash`; PasswordBusy when the queue is full."""
        if self._pending >= self.capacity + (PRIORITY_PLACES if priority else 0):
            self.refused += 1
            raise PasswordBusy(max(1.0, self._pending * self._mean_s / self._workers))
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._timed_verify, stored_hash, password)
        finally:
            self._pending -= 1

    def _timed_verify(self, stored_hash: str, password: str) -> bool:
        """Runs on the executor's thread; the running mean of one verification's time guides Retry-After."""
        started = time.perf_counter()
        try:
            return passwords.verify(stored_hash, password)
        finally:
            self._mean_s = 0.8 * self._mean_s + 0.2 * (time.perf_counter() - started)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
