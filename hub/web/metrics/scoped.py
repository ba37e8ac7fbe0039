"""/metrics for whoever asks: everything for an admin or a public endpoint, else only the streams it may see.

Runs on the event loop. Each distinct set of rights gets its own `MetricsCache` (rendered in
slices on the loop like the full one), kept while the app lives; at most MAX_SCOPES of them,
the least recently used dropped first, so scoped scrapers cost one render per health tick each.
"""

from __future__ import annotations

from aiohttp import web

from hub.auth.service import Principal
from hub.web.keys import CLUSTER, INDEX, METRICS
from hub.web.metrics.cache import MetricsCache
from hub.web.metrics.collector import MetricsRender

MAX_SCOPES = 16
SCOPED = web.AppKey("scoped_metrics", dict)  # rights key -> MetricsCache


async def metrics_for(app: web.Application, who: Principal | None) -> tuple[bytes, float]:
    if who is None or who.rights.sees_everything:
        return await app[METRICS].serve()
    caches, index = app[SCOPED], app[INDEX]
    cache = caches.pop(who.rights.key, None)
    if cache is None:
        own = app[CLUSTER].pulls if CLUSTER in app else None
        cache = MetricsCache(MetricsRender(index, who.rights.may_see, own=own), lambda: index.ticks)
    caches[who.rights.key] = cache  # most recently used last
    while len(caches) > MAX_SCOPES:
        await caches.pop(next(iter(caches))).close()
    return await cache.serve()


async def close_scoped(app: web.Application) -> None:
    for cache in app[SCOPED].values():
        await cache.close()
    app[SCOPED].clear()
