"""Incidents at the seed's scale: 80,000 reports of history, filtered the way operators filter them.

`hub incidents generate --count 80000` fills a hub's store (reports around the 1,555 cameras of the
reference estate, over 9 years, triaged); a `hub serve` on a config of two cameras (the list does not
depend on how many cameras are pulled, and 1,555 unreachable ones would only load the machine) answers
`GET /api/incidents` with each filter of a mix (kind, state, severity, time, the open queue, a reporter's
own) while a few new reports arrive. Measured: each filter's p50 and p99 over its requests, the whole
mix's p99 (target 50 ms), and the open queue the map would draw (`?open=1&limit=1000`).

Run: python bench/incidents.py [--count 80000] [--rounds 50]      (about a minute)
     python bench/incidents.py --smoke                          (CI: 5,000 incidents, 5 rounds)
Results: bench/results/incidents.json and its markdown on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from common import header_markdown, machine, table_markdown, write_results
from hubproc import HubProcess

from hub.inventory.estate import estate_config

TARGET_P99_MS = 50.0
TWO_CAMERAS = (
    '[[streams]]\nid = "gate"\nname = "Gate"\ncategory = "public-security"\nposition = [31.77, 117.30]\n'
    'url = "rtsp://127.0.0.1:9/gate"\n'
    '[[streams]]\nid = "lobby"\nname = "Lobby"\ncategory = "property"\nposition = [31.771, 117.301]\n'
    'url = "rtsp://127.0.0.1:9/lobby"\n'
)


def filters(now: float) -> dict[str, str]:
    day = 86400
    return {
        "the newest 200": "",
        "one kind": "?kind=fire",
        "two kinds, severity 2+, last year": f"?kind=dispute,traffic&min_severity=2&since={now - 365 * day:.0f}",
        "closed, severity 3+": "?state=closed&min_severity=3",
        "resolved (rare)": "?state=resolved",
        "last 30 days": f"?since={now - 30 * day:.0f}",
        "five years ago": f"?until={now - 5 * 365 * day:.0f}&limit=100",
        "the open queue (the map)": "?open=1&limit=1000",
        "severity 4": "?min_severity=4",
    }


async def measure(hub: HubProcess, rounds: int) -> dict:
    now = time.time()
    asked = filters(now)
    times: dict[str, list[float]] = {name: [] for name in asked}
    sizes: dict[str, int] = {}
    async with aiohttp.ClientSession(headers=hub.headers) as session:
        for round_ in range(rounds):
            if round_ % 10 == 0:  # new reports arrive meanwhile
                report = {"kind": "other", "severity": 1, "lat": 31.77, "lon": 117.30, "text": f"bench {round_}"}
                async with session.post(hub.url("/api/incidents"), json=report) as reply:
                    assert reply.status == 201, await reply.text()
            for name, query in asked.items():
                started = time.perf_counter()
                async with session.get(hub.url("/api/incidents" + query)) as reply:
                    body = await reply.json()
                    assert reply.status == 200, body
                times[name].append((time.perf_counter() - started) * 1000)
                sizes[name] = body["count"]
    every = sorted(t for ts in times.values() for t in ts)
    return {
        "filters": {
            name: {
                "query": asked[name],
                "rows": sizes[name],
                "p50_ms": round(statistics.median(ts), 1),
                "p99_ms": round(_p99(ts), 1),
            }
            for name, ts in times.items()
        },  # fmt: skip
        "p99_ms": round(_p99(every), 1),
        "requests": len(every),
    }


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def generate_history(config: Path, count: int) -> float:
    """`hub incidents generate --count N` into the store beside `config`; the seconds it took."""
    started = time.monotonic()
    command = [sys.executable, "-m", "hub", "incidents", "generate", "--count", str(count), "--config", str(config)]
    subprocess.run(command, check=True, capture_output=True)
    return time.monotonic() - started


async def run(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        estate = folder / "estate.toml"
        estate.write_text(estate_config())
        generated_s = generate_history(estate, args.count)
        config = folder / "hub.toml"
        config.write_text(TWO_CAMERAS)
        (folder / "estate.incidents.sqlite").rename(folder / "hub.incidents.sqlite")
        hub = HubProcess(config)
        try:
            result = await measure(hub, args.rounds)
        finally:
            hub.stop()
    return {"machine": machine(), "args": vars(args), "generated_s": round(generated_s, 1), **result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--count", type=int, default=80_000, help="incidents of history (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=50, help="times each filter is asked (default: %(default)s)")
    parser.add_argument("--smoke", action="store_true", help="a small run (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.count, args.rounds = 5000, 5
    result = asyncio.run(run(args))
    print(header_markdown(result["machine"]))
    rows = [[name, f"`{f['query'] or '(none)'}`", f["rows"], f["p50_ms"], f["p99_ms"]] for name, f in result["filters"].items()]
    print(table_markdown(["filter", "query", "rows", "p50 ms", "p99 ms"], rows))
    met = "met" if result["p99_ms"] <= TARGET_P99_MS else "missed"
    print(f"\n{args.count:,} incidents generated in {result['generated_s']} s; p99 of all {result['requests']} requests "
          f"{result['p99_ms']} ms (target {TARGET_P99_MS:g} ms: {met})")  # fmt: skip
    print(f"written to {write_results('incidents', result, args.smoke)}")
    return 0 if met == "met" or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
