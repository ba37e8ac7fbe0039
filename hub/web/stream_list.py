"""The body of `GET /api/streams`: built once per index change, rights and filter, in slices.

Who runs where: on the event loop, from the list handler. Listing 1,555 streams takes a few
milliseconds when few records changed and about twenty when most did (each changed record is
serialised again); built in one go, that would hold every other request for as long. So the body is
built `SLICE` records at a time, with a turn of the loop between slices, by one task per cache key:
clients asking for the same list while it is being built wait for that task. The summary counts
the records as they were serialised, so the counts and the listed states always agree.
"""

from __future__ import annotations

import asyncio
import json

from hub.index import Index, summarise

SLICE = 200  # records serialised between two turns of the loop: about a millisecond
ENTRIES = 32  # bodies kept: (index version, rights, filters) combinations


def list_body(parts: list[bytes], shown: list[tuple[str, str]], estate: dict) -> bytes:
    """The answer: the listed records' JSON (`parts`), the counts of what they showed, and of the whole
    estate the principal sees (`estate`, whatever the filters). Also the read door's (`hub.web.reads`)."""
    body = b'{"streams":[' + b",".join(parts) + b'],"summary":' + json.dumps(summarise(shown)).encode()
    return body + b',"estate":' + json.dumps(estate).encode() + b"}"


class StreamLists:
    def __init__(self, index: Index):
        self.index = index
        self._bodies: dict[tuple, bytes | asyncio.Task] = {}

    async def body(self, rights, category: str | None, state: str | None, query: str | None) -> bytes:
        key = (self.index.version, rights.key, category, state, query)
        found = self._bodies.get(key)
        if isinstance(found, bytes):
            return found
        if found is None:
            build = self._build(key, rights, category, state, query)
            found = self._bodies[key] = asyncio.get_running_loop().create_task(build)
            found.add_done_callback(lambda task: task.cancelled() or task.exception() is None or self._bodies.pop(key, None))
            while len(self._bodies) > ENTRIES:
                self._bodies.pop(next(iter(self._bodies)))
        return await asyncio.shield(found)  # a client that goes away does not cancel the others' list

    async def _build(self, key: tuple, rights, category: str | None, state: str | None, query: str | None) -> bytes:
        index = self.index
        records = rights.visible(index.select(category, state, query))  # what this principal may not see does not exist
        parts, shown = [], []
        for start in range(0, len(records), SLICE):
            for record in records[start : start + SLICE]:
                parts.append(record.json_bytes())
                shown.append((record.state, record.category))  # as serialised
            await asyncio.sleep(0)
        body = list_body(parts, shown, index.summary(rights.visible(index.records.values())))
        if key in self._bodies:
            self._bodies[key] = body
        return body
