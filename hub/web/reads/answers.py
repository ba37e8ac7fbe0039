"""The door's copy of the index and the answers it builds from it, byte for byte what the hub would send.

Pure (no I/O): the door process applies `ReadRecord` batches from the hub (`DoorIndex.apply`) and asks
for an answer per request; None means "not mine to answer" (an unknown id, or one the principal may not
see: the hub's 404 says so). Lists are built once per (copy, rights, filters), as the hub does.
"""

from __future__ import annotations

from email.utils import formatdate
from typing import NamedTuple

from hub.index import select, summarise
from hub.web.middleware import SECURITY_HEADERS
from hub.web.stream_list import ENTRIES, list_body

LIST_TYPE = "application/json"  # as the hub's list handler sends it
RECORD_TYPE = "application/json; charset=utf-8"  # as the hub's record handler sends it


class ReadRecord(NamedTuple):
    """What the door knows of one stream: what filters and rights look at, and its JSON (a named tuple:
    a batch of them pickles and unpickles several times faster than data classes, on both loops)."""

    id: str
    name: str
    category: str
    state: str
    site: str
    tags: tuple[str, ...]
    json: bytes


class DoorIndex:
    def __init__(self) -> None:
        self.records: dict[str, ReadRecord] = {}
        self.version = 0
        self._lists: dict[tuple, bytes] = {}

    def apply(self, changed: list[ReadRecord], removed: list[str], order: list[str] | None) -> None:
        """A batch from the hub: changed records, removed ids, and the hub's order when the set of ids changed."""
        for record in changed:
            self.records[record.id] = record
        for stream_id in removed:
            self.records.pop(stream_id, None)
        if order is not None:
            self.records = {i: self.records[i] for i in order if i in self.records}
        if changed or removed or order is not None:
            self.version += 1
            self._lists.clear()

    def record(self, rights, stream_id: str) -> bytes | None:
        record = self.records.get(stream_id)
        return record.json if record is not None and rights.may_see(record) else None

    def listing(self, rights, category: str | None, state: str | None, query: str | None) -> bytes:
        key = (self.version, rights.key, category, state, query)
        body = self._lists.get(key)
        if body is None:
            shown = rights.visible(select(self.records.values(), category, state, query))
            estate = summarise([(r.state, r.category) for r in rights.visible(self.records.values())])
            body = list_body([r.json for r in shown], [(r.state, r.category) for r in shown], estate)
            self._lists[key] = body
            while len(self._lists) > ENTRIES:
                self._lists.pop(next(iter(self._lists)))
        return body


def response_head(body: bytes, content_type: str, content_security_policy: str, keep_alive: bool = False) -> bytes:
    """The head of a 200 with the hub's headers, for `body` (sent after it as it is: a list body is
    shared by every answer of its version, never copied). With `keep_alive` the connection stays open
    for the client's next request (HTTP/1.1's default: no header says so), else it closes after it."""
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Date", formatdate(usegmt=True)),
        *SECURITY_HEADERS.items(),
        ("Content-Security-Policy", content_security_policy),
        *([] if keep_alive else [("Connection", "close")]),
    ]
    head = "HTTP/1.1 200 OK\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    return head.encode("latin-1")
