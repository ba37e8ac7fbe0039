"""What the door's copy of the index lacks: the records whose JSON changed since the last batch.

Who runs where: the hub's event loop, in `keeper.ReadDoor`'s publishing task (at most every
`PUBLISH_EVERY_S`); `SLICE` records are looked at between two turns of the loop.
"""

from __future__ import annotations

import asyncio

from hub.index import Index
from hub.web.reads.answers import ReadRecord

SLICE = 200  # records looked at between two turns of the loop


class RecordCopier:
    """What changed in the index since the last batch the door was sent."""

    def __init__(self, index: Index):
        self.index = index
        self._sent: dict[str, bytes] = {}  # id -> the JSON sent (the record's cached bytes: compared by identity)
        self._order: list[str] = []

    async def batch(self) -> tuple[list[ReadRecord], list[str], list[str] | None]:
        records = list(self.index.records.values())
        changed = []
        for start in range(0, len(records), SLICE):
            for record in records[start : start + SLICE]:
                body = record.json_bytes()
                if self._sent.get(record.id) is not body:
                    self._sent[record.id] = body
                    changed.append(
                        ReadRecord(record.id, record.name, record.category, record.state, record.site, tuple(record.tags), body)
                    )
            await asyncio.sleep(0)
        order = [record.id for record in records]
        removed = [stream_id for stream_id in self._sent if stream_id not in self.index.records]
        for stream_id in removed:
            del self._sent[stream_id]
        moved = order != self._order
        self._order = order
        return changed, removed, order if moved else None
