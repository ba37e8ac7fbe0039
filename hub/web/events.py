"""Server-Sent Events: state changes, position updates, grouped outages, the hub's own load (`hub`), incidents
and staff positions as they happen.

Runs on the event loop, one handler per subscriber, each with its own bounded queue in the index.
A subscriber gets events only about streams it may see (`hub.auth.rights`), judged by its rights at
the moment of each event, not at connect: the stream is an open connection like the live socket
(`hub.web.connections`), so when its rights shrink it is sent `removed` for every stream it may no
longer see and its outages are worked out again, and when its session or token ends it gets a last
`closed` event (`{"code": 4401, "reason": ...}`) and the stream ends. Its opening summary and its
outages count only streams it may see. A comment line every 15 s keeps proxies from closing an idle
stream; all streams end when the app shuts down.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from hub.incidents.service import may_see
from hub.web.access import principal
from hub.web.connections import CONNECTIONS, Connection
from hub.web.keys import CLOSING, INDEX

KEEPALIVE_S = 15.0
RIGHTS_CHANGED = "rights"  # queued for one subscriber when its rights change


def _event(kind: str, data: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _load_for(rights, load: dict) -> dict:
    """The hub's load as a subscriber may see it: the live ceiling, budget and count are of the whole estate."""
    hidden = ("live_ceiling", "live_budget", "live_streams")
    return load if rights.sees_everything else {k: v for k, v in load.items() if k not in hidden}


class EventFeed:
    """What one subscriber has been shown (stream ids, outages), and what it is shown next; no I/O."""

    def __init__(self, index, connection: Connection):
        self.index, self.connection = index, connection
        self.shown: set[str] = set()
        self.outages: dict[str, dict] = {}  # key -> the outage as last sent

    @property
    def rights(self):
        return self.connection.principal.rights

    def hello(self) -> bytes:
        visible = self.rights.visible(self.index.records.values())
        self.shown = {record.id for record in visible}
        self.outages = self._my_outages()
        return _event(
            "hello",
            {
                "summary": self.index.summary(visible),
                "hub": _load_for(self.rights, self.index.hub),
                "outages": list(self.outages.values()),
                "cluster": self.index.cluster,
            },
        )

    def on_event(self, kind: str, data: dict) -> list[bytes]:
        if kind == "outages":
            return self._outage_changes()
        if kind == RIGHTS_CHANGED:
            gone = sorted(i for i in self.shown if (r := self.index.records.get(i)) is None or not self.rights.may_see(r))
            self.shown.difference_update(gone)
            return [_event("removed", {"id": i}) for i in gone] + self._outage_changes()
        if kind == "hub":
            return [_event(kind, _load_for(self.rights, data))]
        if kind == "incident":  # an incident is no stream: its own rule (`hub.incidents.service.may_see`)
            seen = may_see(self.rights, self.connection.principal.name, data["reporter"], data["site"])
            return [_event(kind, data)] if seen else []
        return [_event(kind, data)] if self._for_subscriber(kind, data) else []

    def _my_outages(self) -> dict[str, dict]:
        may_see = None if self.rights.sees_everything else self.rights.may_see
        return {o.key: o.to_json() for o in self.index.outage_view.seen_by(may_see)}

    def _outage_changes(self) -> list[bytes]:
        now = self._my_outages()
        opened = [_event("outage", o | {"open": True}) for key, o in now.items() if self.outages.get(key) != o]
        closed = [_event("outage", o | {"open": False}) for key, o in self.outages.items() if key not in now]
        self.outages = now
        return opened + closed

    def _for_subscriber(self, kind: str, data: dict) -> bool:
        """Whether this subscriber gets the event; `shown` (the ids it knows of) is kept up to date."""
        stream_id = data.get("id")
        if stream_id is None:  # about the hub, not a stream (a lost-events notice)
            return True
        if kind == "removed":
            if stream_id in self.shown:
                self.shown.discard(stream_id)
                return True
            return False
        record = self.index.records.get(stream_id)
        if record is None or not self.rights.may_see(record):
            self.shown.discard(stream_id)  # no longer visible (its category changed on a reload, say)
            return False
        self.shown.add(stream_id)
        return True


async def events(request: web.Request) -> web.StreamResponse:
    index, closing, connections = request.app[INDEX], request.app[CLOSING], request.app[CONNECTIONS]
    queue = index.subscribe()
    connection = connections.open(principal(request), "events", lambda _: index.notify(queue, RIGHTS_CHANGED, {}))
    feed = EventFeed(index, connection)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    ends = [asyncio.ensure_future(closing.wait()), asyncio.ensure_future(connection.ended.wait())]
    try:
        await response.prepare(request)
        await response.write(feed.hello())
        while not closing.is_set() and not connection.ended.is_set():
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, *ends}, timeout=KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                if not done:
                    await response.write(b": keep-alive\n\n")
                continue
            for chunk in feed.on_event(*getter.result()):
                await response.write(chunk)
        if connection.ended.is_set():
            await response.write(_event("closed", {"code": connection.code, "reason": connection.why}))
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        for end in ends:
            end.cancel()
        connections.close(connection)
        index.unsubscribe(queue)
    return response
