"""Hub CPU while a 16-tile wall plays live video in Chromium, against the same hub with no wall.

Run: python bench/wall_cpu.py [--window 20]
A simulator serves 16 H.264 cameras; the hub pulls them; the hub process's CPU is
measured with nobody watching, then while headless Chromium plays all 16 as tiles
(fMP4 over one WebSocket). Also reports how far each tile plays behind the newest
frame it has received.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import bench_estate, cpu_seconds, header_markdown, machine, table_markdown, write_results  # noqa: E402
from hubproc import HubProcess, signed_in_page, sim_and_hub, sim_section  # noqa: E402

TILES = 16


async def cpu_over(pid: int, window: float) -> float:
    before, started = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(window)
    return 100 * (cpu_seconds(pid) - before) / (time.monotonic() - started)


async def measure(hub: HubProcess, window: float) -> dict:
    idle = await cpu_over(hub.pid, window)
    async with signed_in_page(hub) as page:
        await page.wait_for_function("window.hubUI && window.hubUI.ready")
        await page.click("#tab-wall")
        await page.select_option("#layout-size", str(TILES))
        for i in range(TILES):
            await page.click(f"#stream-list li[data-stream-id='bench-{i:04d}'] button")
        await page.wait_for_function(
            f"[...document.querySelectorAll('.tile video')].filter(v => v.currentTime > 1).length === {TILES}", timeout=60_000
        )
        await asyncio.sleep(3)
        playing = await cpu_over(hub.pid, window)
        latencies = await page.evaluate(f"[...Array({TILES}).keys()].map(i => window.hubUI.tileLatency(i))")
    return {
        "tiles": TILES,
        "hub_cpu_no_wall_percent": round(idle, 1),
        "hub_cpu_wall_percent": round(playing, 1),
        "tile_buffer_latency_median_s": round(statistics.median(latencies), 2),
        "tile_buffer_latency_max_s": round(max(latencies), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=float, default=20.0)
    args = parser.parse_args()
    info = machine()
    with sim_and_hub(bench_estate(TILES), lambda sim: bench_estate(TILES, sim_section(sim)), TILES) as (_, hub):
        time.sleep(5)
        result = asyncio.run(measure(hub, args.window))
    print(header_markdown(info))
    print()
    print(table_markdown(list(result), [list(result.values())]))
    path = write_results("wall_cpu", {"machine": info, "window_s": args.window, **result})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
