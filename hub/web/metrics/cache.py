"""/metrics served from a body rendered in the background, so a scrape never waits for a render.

Who runs where: `serve` runs in the /metrics handler on the event loop; the render
(`hub.web.metrics.collector.MetricsRender`) runs on the loop too, in slices, one at a time.
Formatting every sample of 1,555 streams takes tens of milliseconds, too costly to
repeat for every scraper. So:

- the first scrape (and the first after `DEMAND_S` without one) renders and waits;
- while anybody scraped within `DEMAND_S`, a background task re-renders every
  `refresh_s`, at most once per health tick and never more often than keeps the
  render under `RENDER_SHARE` of one core;
- every scrape gets the newest body at once; its age is in `X-Metrics-Age`.

Two scrapers at once therefore cost one render, and neither slows the API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

DEMAND_S = 300.0  # keep rendering this long after the last scrape
RENDER_SHARE = 0.1  # the render may take at most this share of one core
MIN_REFRESH_S = 0.5  # one health tick


class MetricsCache:
    def __init__(self, render: Callable[[], Awaitable[bytes]], tick: Callable[[], int]):
        self._render_body = render
        self._tick = tick  # the index's tick counter: nothing new to render without a new tick
        self._body: bytes | None = None
        self._rendered_at = 0.0  # wall time the last render started (the clock its ages were counted by)
        self._rendered_tick = -1
        self._render_s = 0.0
        self._last_scrape = 0.0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self.renders = 0

    @property
    def refresh_s(self) -> float:
        return max(MIN_REFRESH_S, self._render_s / RENDER_SHARE)

    async def serve(self) -> tuple[bytes, float]:
        """The newest body and its age in seconds."""
        self._last_scrape = time.monotonic()
        if self._task is None or self._task.done():  # first scrape, or the first after a quiet spell
            await self._render()
            self._task = asyncio.get_running_loop().create_task(self._keep_fresh(), name="metrics-render")
        assert self._body is not None  # rendered above, at the latest
        return self._body, max(0.0, time.time() - self._rendered_at)

    async def _render(self) -> None:
        async with self._lock:
            tick = self._tick()
            if tick == self._rendered_tick and self._body is not None:
                return
            started, started_at = time.perf_counter(), time.time()
            self._body = await self._render_body()
            self._render_s = time.perf_counter() - started
            # The body's ages are as of the render's start (its clock is read first), so its age counts from there
            self._rendered_at, self._rendered_tick = started_at, tick
            self.renders += 1

    async def _keep_fresh(self) -> None:
        while time.monotonic() - self._last_scrape < DEMAND_S:
            await asyncio.sleep(self.refresh_s)
            await self._render()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
