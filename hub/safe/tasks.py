"""Loops that carry on after errors, and still stop when asked (`Repeating`).

Who runs where: any task on the event loop that retries forever (the cluster's loops). Python 3.11's
`asyncio.timeout`, which redis-py uses around each call, turns a cancellation that falls together with
its own deadline into `TimeoutError`: a loop that logs errors and carries on would then never stop.
"""

from __future__ import annotations

import asyncio
import logging


def stop_if_cancelled(error: BaseException) -> None:
    """Raise `CancelledError` (from `error`) if the running task was asked to stop meanwhile."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from error


class Repeating:
    """A task that does `step` every `every_s` seconds for the app's life (`run`). An error (Redis away,
    say) is counted in `errors` and logged at debug level as `what`, and the next turn tries again; a
    cancellation stops it, even one turned into another error on the way."""

    every_s = 1.0
    what = "a repeated step failed"
    log = logging.getLogger("hub")

    def __init__(self) -> None:
        self.errors = 0
        self._stopped = False

    async def step(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """End `run` after its current step, without cancelling a call in flight (redis-py's asyncio
        client does not always recover from a cancellation in the middle of a command)."""
        self._stopped = True

    async def run(self) -> None:
        while not self._stopped:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                stop_if_cancelled(error)
                self.errors += 1
                self.log.debug("%s (%s)", self.what, type(error).__name__)
            await asyncio.sleep(self.every_s)
