"""Running one long command on an asyncio event loop in the main thread, until SIGINT or SIGTERM.

Who runs where: the main thread of `hub serve`, `hub sim` and `hub demo`. `run_until_stopped` turns the
signals into a `stop` event for the command's body, and a failure to start into one line for a person.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger("hub")
T = TypeVar("T")


class StartFailed(Exception):
    """A command could not start; the message is one line for a person."""


# The event loop shares the interpreter lock with reader and result threads. After every socket write the
# loop waits for the lock, up to one switch interval while another thread holds it: 1 ms instead of
# Python's 5 ms keeps the API's answers short without measurable cost to the threads.
SWITCH_INTERVAL_S = 0.001


def run_until_stopped(body: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    sys.setswitchinterval(SWITCH_INTERVAL_S)

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await body(stop)

    from hub.ports import PortBusy

    try:
        asyncio.run(runner())
    except (PortBusy, StartFailed) as exc:
        for line in str(exc).splitlines():  # several ports may be taken: one line each
            print(f"hub: {line}", file=sys.stderr, flush=True)
        return 1
    except OSError as exc:
        log.error("%s", exc)
        return 1
    return 0


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> tuple[bool, T | None]:
    """Run `work` unless `stop` is set first, then cancel it: (finished, its result)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        return True, task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False, None


async def stop_follows(stop: asyncio.Event, within_s: float = 1.0) -> bool:
    """True if `stop` is (or within a second becomes) set: a child that died of the same Ctrl-C is a stop."""
    await unless_stopped(asyncio.sleep(within_s), stop)
    return stop.is_set()
