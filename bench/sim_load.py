"""Simulator cost: CPU and memory of `hub sim` serving N streams at 25 fps to N clients.

Run: python bench/sim_load.py [--streams 200] [--window 20]
The simulator runs in its own process; its CPU is read from /proc after a warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_estate, cpu_seconds, header_markdown, machine, rss_bytes, table_markdown, write_results  # noqa: E402
from rtsp_load import Counter, play  # noqa: E402

from hub.sim.process import start_sim  # noqa: E402


async def measure(rtsp: str, pid: int, count: int, warmup: float, window: float) -> dict:
    stop = asyncio.Event()
    counters = [Counter() for _ in range(count)]
    tasks = [asyncio.create_task(play(f"rtsp://{rtsp}/bench-{i:04d}", c, stop)) for i, c in enumerate(counters)]
    await asyncio.sleep(warmup)
    frames0, bytes0 = sum(c.frames for c in counters), sum(c.bytes for c in counters)
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(window)
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    frames1, bytes1 = sum(c.frames for c in counters), sum(c.bytes for c in counters)
    rss = rss_bytes(pid)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = t1 - t0
    return {
        "streams": count,
        "errors": sum(1 for c in counters if c.error),
        "cpu_percent_of_one_core": round(100 * (cpu1 - cpu0) / elapsed, 1),
        "fps_per_stream": round((frames1 - frames0) / elapsed / count, 2),
        "mbit_per_s_total": round((bytes1 - bytes0) * 8 / elapsed / 1e6, 1),
        "rss_mib": round(rss / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--window", type=float, default=20.0)
    args = parser.parse_args()
    info, rows = machine(), []
    for count in args.streams:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "streams.toml"
            config.write_text(bench_estate(count))
            sim = start_sim(config)
            try:
                rows.append(asyncio.run(measure(sim.rtsp, sim.process.pid, count, args.warmup, args.window)))
            finally:
                sim.stop()
    columns = list(rows[0])
    print(header_markdown(info))
    print()
    print(table_markdown(columns, [[r[c] for c in columns] for r in rows]))
    path = write_results("sim_load", {"machine": info, "window_s": args.window, "rows": rows})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
