"""Ingest cost per stream: the hub against a bare PyAV demux loop and an OpenCV read loop.

Run: python bench/ingest_cost.py [--streams 16 64 256] [--contenders hub pyav opencv]
One simulator process serves N cameras (640x360, 25 fps, ~500 kbit/s H.264,
keyframe every 2 s); each contender runs in its own process against it, one
after the other, and only that process's CPU and memory are measured (from
/proc), over a fixed window after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import bench_estate, header_markdown, machine, measure_process, table_markdown, write_results  # noqa: E402

from hub.sim.process import start_sim  # noqa: E402


def _wait_line(process: subprocess.Popen, marker: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"contender exited early with {process.poll()}")
        if marker in line:
            return
    raise RuntimeError(f"no {marker!r} within {timeout} s")


def _hub_online(port: int, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/streams", timeout=10) as reply:
                summary = json.loads(reply.read())["summary"]
            if summary["by_state"]["online"] == count:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"not all {count} streams online within {timeout} s: {summary}")


def start_contender(name: str, sim, count: int, folder: Path) -> subprocess.Popen:
    urls = [sim.url(f"bench-{i:04d}") for i in range(count)]
    if name == "hub":
        config = folder / "hub.toml"
        config.write_text(bench_estate(count, f'[sim]\nlisten = "{sim.rtsp}"\ncontrol = "{sim.control}"\n'))
        port = _free_port()
        command = [sys.executable, "-m", "hub", "--log-level", "WARNING", "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _wait_line(process, "UI and API on", 60)
        _hub_online(port, count, 120)
        return process
    script = HERE / "contenders" / ("pyav_demux.py" if name == "pyav" else "opencv_read.py")
    process = subprocess.Popen([sys.executable, str(script), *urls], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_line(process, "ready", 120)
    return process


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_size(count: int, contenders: list[str], warmup: float, window: float) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "sim.toml").write_text(bench_estate(count))
        sim = start_sim(folder / "sim.toml")
        try:
            for name in contenders:
                process = start_contender(name, sim, count, folder)
                try:
                    time.sleep(warmup)
                    m = measure_process(process.pid, window)
                finally:
                    process.kill()
                    process.wait()
                rows.append({
                    "streams": count,
                    "contender": name,
                    "cpu_percent": round(m["cpu_percent"], 1),
                    "cpu_percent_per_stream": round(m["cpu_percent"] / count, 3),
                    "rss_mib": round(m["rss_bytes"] / 2**20, 1),
                    "rss_mib_per_stream": round(m["rss_bytes"] / 2**20 / count, 2),
                })
        finally:
            sim.stop()
    return rows


def ratios(rows: list[dict]) -> list[list]:
    out = []
    for count in sorted({r["streams"] for r in rows}):
        cpu = {r["contender"]: r["cpu_percent"] for r in rows if r["streams"] == count}
        hub_vs_pyav = round(cpu["hub"] / cpu["pyav"], 2) if "hub" in cpu and cpu.get("pyav") else None
        opencv_vs_hub = round(cpu["opencv"] / cpu["hub"], 1) if "opencv" in cpu and cpu.get("hub") else None
        out.append([count, hub_vs_pyav, opencv_vs_hub])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--contenders", nargs="+", default=["hub", "pyav", "opencv"], choices=["hub", "pyav", "opencv"])
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=20.0)
    args = parser.parse_args()
    info = machine()
    rows = [row for count in args.streams for row in run_size(count, args.contenders, args.warmup, args.window)]
    columns = list(rows[0])
    print(header_markdown(info))
    print()
    print(table_markdown(columns, [[r[c] for c in columns] for r in rows]))
    print()
    print(table_markdown(["streams", "hub / pyav (CPU)", "opencv / hub (CPU)"], ratios(rows)))
    path = write_results("ingest_cost", {"machine": info, "warmup_s": args.warmup, "window_s": args.window, "rows": rows})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
