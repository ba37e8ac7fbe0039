"""Polls the hub's API as operators' pages do, from a process of its own, and times every answer.

Run by bench/estate.py (not by hand): python bench/api_poller.py URL TOKEN IDS_FILE SECONDS OUT_FILE

A list every 0.5 s and ten records a second, as UIs poll. The poller runs alone in its process, so the
times it takes are the hub's (and the machine's), not the wait of a benchmark loop that also follows the
event stream, receives a wall's video and reads /metrics. Each answer is written to OUT_FILE as
`[monotonic time, "list" | "record", milliseconds]` (CLOCK_MONOTONIC is shared by the processes of a
machine, so the caller can tell which answers fell in which phase of its run).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from pathlib import Path

import aiohttp

LIST_EVERY_S = 0.5
RECORD_EVERY_S = 0.1


async def poll(url: str, token: str, ids: list[str], seconds: float) -> list[list]:
    out: list[list] = []
    until = time.monotonic() + seconds
    next_list = 0.0
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:

        async def timed(kind: str, path: str) -> None:
            started = time.perf_counter()
            async with session.get(url + path) as reply:
                await reply.read()
            out.append([time.monotonic(), kind, (time.perf_counter() - started) * 1000])

        while time.monotonic() < until:
            if time.monotonic() >= next_list:
                await timed("list", "/api/streams")
                next_list = time.monotonic() + LIST_EVERY_S
            await timed("record", f"/api/streams/{random.choice(ids)}")
            await asyncio.sleep(RECORD_EVERY_S)
    return out


def main() -> int:
    url, token, ids_file, seconds, out_file = sys.argv[1:6]
    ids = json.loads(Path(ids_file).read_text())
    answers = asyncio.run(poll(url.rstrip("/"), token, ids, float(seconds)))
    Path(out_file).write_text(json.dumps(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
