"""Time to detect: from a simulator fault to the hub's state change, and from clearing it to online.

Run: python bench/detect_times.py [--trials 10]
Trials run in parallel on separate simulated cameras (one per fault and trial),
each fault set at a random moment so trials do not line up with keyframes or
the hub's health tick. State changes are timed from the hub's own event
stream (`/api/events`), not by polling. Recovery is reported both raw and
after the reconnect backoff step that was in force when the fault cleared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import bench_estate, header_markdown, machine, table_markdown, write_results  # noqa: E402
from hubproc import HubProcess, sim_and_hub, sim_section  # noqa: E402

from hub.config import HealthSettings  # noqa: E402

FAULTS = {  # fault -> (state, reason) the hub must report
    "stall": ("offline", "stalled"),
    "drop": ("offline", None),
    "freeze": ("degraded", "frozen"),
    "black": ("degraded", "black"),
    "lowfps": ("degraded", "low_fps"),
    "auth": ("unauthorized", "auth_failed"),
    "notfound": ("offline", "not_found"),
}


def targets() -> dict[str, float]:
    h = HealthSettings()
    return {
        "stall": h.stall_after_s + 1,
        "freeze": h.frozen_after_s + h.picture_interval_s,
        "black": h.frozen_after_s + h.picture_interval_s,
        "recovery": 3.0,
    }


class EventLog:
    """Follows /api/events; remembers when each stream last entered each state."""

    def __init__(self) -> None:
        self.entered: dict[tuple[str, str], list[tuple[float, list[str]]]] = {}
        self.changed = asyncio.Event()

    async def follow(self, url: str, headers: dict) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None), headers=headers) as session:
            async with session.get(url) as response:
                async for raw in response.content:
                    line = raw.decode().strip()
                    if line.startswith("data: ") and '"state"' in line:
                        data = json.loads(line[6:])
                        self.entered.setdefault((data["id"], data["state"]), []).append((time.time(), data["reasons"]))
                        self.changed.set()

    async def wait(self, stream_id: str, state: str, reason: str | None, after: float, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while True:
            for at, reasons in self.entered.get((stream_id, state), []):
                if at >= after and (reason is None or reason in reasons):
                    return at
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{stream_id} never reached {state}/{reason}")
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass


async def trial(sim, hub: HubProcess, log: EventLog, kind: str, stream_id: str) -> dict:
    await asyncio.sleep(random.uniform(0, 4))
    state, reason = FAULTS[kind]
    started = time.time()
    await asyncio.to_thread(sim.set_fault, stream_id, kind)
    detected = await log.wait(stream_id, state, reason, started, 90)
    await asyncio.sleep(random.uniform(2, 4))
    record = await asyncio.to_thread(hub.get, f"/api/streams/{stream_id}")
    cleared = time.time()
    await asyncio.to_thread(sim.clear_fault, stream_id)
    online = await log.wait(stream_id, "online", None, cleared, 150)
    retry_at = record.get("retry_at")
    backoff_wait = max(0.0, retry_at - cleared) if retry_at else 0.0
    return {
        "fault": kind,
        "detect_s": detected - started,
        "recover_s": online - cleared,
        "recover_after_backoff_s": max(0.0, online - cleared - backoff_wait),
    }


def summarise(results: list[dict]) -> list[list]:
    goals = targets()
    rows = []
    for kind in FAULTS:
        mine = [r for r in results if r["fault"] == kind]
        detect = [r["detect_s"] for r in mine]
        after = [r["recover_after_backoff_s"] for r in mine]
        raw = [r["recover_s"] for r in mine]
        rows.append(
            [
                kind,
                len(mine),
                f"{statistics.median(detect):.1f}",
                f"{max(detect):.1f}",
                goals.get(kind, "-"),
                f"{statistics.median(raw):.1f}",
                f"{statistics.median(after):.1f}",
                f"{max(after):.1f}",
                goals["recovery"],
            ]
        )
    return rows


async def run(trials: int) -> list[dict]:
    count = trials * len(FAULTS)
    with sim_and_hub(bench_estate(count), lambda sim: bench_estate(count, sim_section(sim)), count) as (sim, hub):
        log = EventLog()
        follower = asyncio.create_task(log.follow(hub.url("/api/events"), hub.headers))
        await asyncio.sleep(1)
        jobs = [
            trial(sim, hub, log, kind, f"bench-{i * len(FAULTS) + k:04d}") for k, kind in enumerate(FAULTS) for i in range(trials)
        ]
        results = await asyncio.gather(*jobs)
        follower.cancel()
        return list(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    info = machine()
    results = asyncio.run(run(args.trials))
    columns = [
        "fault",
        "trials",
        "detect median s",
        "detect worst s",
        "detect target s",
        "recover median s (raw)",
        "recover median s (after backoff)",
        "recover worst s (after backoff)",
        "recover target s",
    ]
    print(header_markdown(info))
    print()
    print(table_markdown(columns, summarise(results)))
    path = write_results("detect_times", {"machine": info, "defaults": HealthSettings().__dict__, "trials": results})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
