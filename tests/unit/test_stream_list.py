"""The body of GET /api/streams, built in slices: what it lists and what it counts always agree, and
clients asking at once share one build (hub.web.stream_list)."""

from __future__ import annotations

import asyncio
import json

from hub.auth.rights import Rights
from hub.index import Index, StreamRecord
from hub.web.stream_list import SLICE, StreamLists

ADMIN = Rights("admin")
GUARD = Rights("operator", frozenset({("category", "property")}))


def estate(count: int) -> Index:
    index = Index()
    for i in range(count):
        category = "property" if i % 2 else "public-security"
        index.records[f"c{i:04d}"] = StreamRecord(f"c{i:04d}", "Cam", category, "", (), (31.7, 117.3), 25.0)
    return index


async def test_the_counts_are_of_the_states_listed_even_when_states_change_between_slices():
    index = estate(3 * SLICE + 10)
    lists = StreamLists(index)

    async def everything_goes_offline():
        await asyncio.sleep(0)  # after the first slice
        for record in index.records.values():
            record.state = "offline"

    body, _ = await asyncio.gather(lists.body(ADMIN, None, None, None), everything_goes_offline())
    answer = json.loads(body)
    listed = [r["state"] for r in answer["streams"]]
    assert "offline" in listed and "connecting" in listed, "the change landed halfway: the test tests something"
    assert answer["summary"]["by_state"]["offline"] == listed.count("offline")
    assert answer["summary"]["by_state"]["connecting"] == listed.count("connecting")
    assert answer["summary"]["total"] == len(listed) == 3 * SLICE + 10


async def test_clients_asking_at_once_share_one_build_and_see_only_what_they_may():
    index = estate(2 * SLICE)
    lists = StreamLists(index)
    a, b, guard = await asyncio.gather(
        lists.body(ADMIN, None, None, None), lists.body(ADMIN, None, None, None), lists.body(GUARD, None, None, None)
    )
    assert a is b, "one build for both"
    listed = json.loads(guard)["streams"]
    assert {r["category"] for r in listed} == {"property"} and len(listed) == SLICE
    assert json.loads(guard)["estate"]["total"] == SLICE, "the estate it sees, not the hub's"
    index.touch()
    assert await lists.body(ADMIN, None, None, None) is not a, "a new index version: a new body"
