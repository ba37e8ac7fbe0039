"""Loops that carry on after errors, and still stop when asked.

Who runs where: any task on the event loop that retries forever (the cluster's loops). Python 3.11's
`asyncio.timeout`, which redis-py uses around each call, turns a cancellation that falls together with
its own deadline into `TimeoutError`: a loop that logs errors and carries on would then never stop.
"""

from __future__ import annotations

import asyncio


def stop_if_cancelled(error: BaseException) -> None:
    """Raise `CancelledError` (from `error`) if the running task was asked to stop meanwhile."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from error
