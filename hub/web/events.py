"""Server-Sent Events: state changes, position updates and the hub's own load (`hub`) as they happen.

Runs on the event loop, one handler per subscriber, each with its own bounded
queue in the index. A comment line every 15 s keeps proxies from closing an
idle stream; all streams end when the app shuts down.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from hub.web.keys import CLOSING, INDEX

KEEPALIVE_S = 15.0


def _event(kind: str, data: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    index, closing = request.app[INDEX], request.app[CLOSING]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    await response.prepare(request)
    queue = index.subscribe()
    closed = asyncio.ensure_future(closing.wait())
    try:
        await response.write(_event("hello", {"summary": index.summary(), "hub": index.hub}))
        while not closing.is_set():
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, closed}, timeout=KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                if not closing.is_set():
                    await response.write(b": keep-alive\n\n")
                continue
            kind, data = getter.result()
            await response.write(_event(kind, data))
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        closed.cancel()
        index.unsubscribe(queue)
    return response
