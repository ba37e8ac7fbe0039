"""Server-Sent Events: state changes, position updates, grouped outages and the hub's own load (`hub`) as they happen.

Runs on the event loop, one handler per subscriber, each with its own bounded
queue in the index. A subscriber gets events only about streams it may see
(`hub.auth.rights`), and its opening summary counts only those. A comment line every 15 s keeps proxies from closing an
idle stream; all streams end when the app shuts down.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from hub.web.access import principal
from hub.web.diagnostics_api import outage_for
from hub.web.keys import CLOSING, INDEX

KEEPALIVE_S = 15.0


def _event(kind: str, data: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _load_for(rights, load: dict) -> dict:
    """The hub's load as a subscriber may see it: the live ceiling counts streams of the whole estate."""
    return load if rights.sees_everything else {k: v for k, v in load.items() if k != "live_ceiling"}


def _for_subscriber(index, rights, shown: set[str], kind: str, data: dict) -> bool:
    """Whether a subscriber with `rights` gets this event; `shown` (the ids it knows of) is kept up to date."""
    stream_id = data.get("id")
    if stream_id is None:  # the hub's own load
        return True
    if kind == "removed":
        if stream_id in shown:
            shown.discard(stream_id)
            return True
        return False
    record = index.records.get(stream_id)
    if record is None or not rights.may_see(record):
        shown.discard(stream_id)  # no longer visible (its category changed on a reload, say)
        return False
    shown.add(stream_id)
    return True


async def events(request: web.Request) -> web.StreamResponse:
    index, closing, rights = request.app[INDEX], request.app[CLOSING], principal(request).rights
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    await response.prepare(request)
    queue = index.subscribe()
    closed = asyncio.ensure_future(closing.wait())
    visible = rights.visible(index.records.values())
    shown = {record.id for record in visible}
    try:
        outages = [o for o in (outage_for(o, index, rights) for o in index.outages.values()) if o is not None]
        await response.write(_event("hello", {"summary": index.summary(visible), "hub": _load_for(rights, index.hub), "outages": outages}))
        while not closing.is_set():
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, closed}, timeout=KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                if not closing.is_set():
                    await response.write(b": keep-alive\n\n")
                continue
            kind, data = getter.result()
            if kind == "outage":
                data = outage_for(data, index, rights)
                if data is not None:
                    await response.write(_event(kind, data))
            elif _for_subscriber(index, rights, shown, kind, data):
                await response.write(_event(kind, _load_for(rights, data) if kind == "hub" else data))
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        closed.cancel()
        index.unsubscribe(queue)
    return response
