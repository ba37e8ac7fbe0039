"""Ingest cost per stream: the hub against a bare PyAV demux loop, that loop decoding a keyframe every 2 s
(the floor for looking at pictures at all), and an OpenCV read loop.

Run: python bench/ingest_cost.py [--streams 16 64 256] [--contenders hub pyav pyav_keyframes opencv]
     [--picture-interval S --name NAME]  (the hub's picture_interval_s, into bench/results/NAME.json)
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
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import bench_estate, header_markdown, machine, measure_process, table_markdown, write_results  # noqa: E402
from hubproc import bench_credentials  # noqa: E402

from hub.sim.process import start_sim  # noqa: E402


class Contender:
    """A contender process: its output is read by a thread, so waiting never blocks past a deadline."""

    def __init__(self, name: str, command: list[str]):
        self.name = name
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.frames_reported = 0
        self.opened: int | None = None
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            line = line.strip()
            self.lines.append(line)
            if line.startswith("frames "):
                self.frames_reported = int(line.split()[1])
            elif line.startswith("ready "):
                self.opened = int(line.split()[1])

    def wait_for(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.lines[-5:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: no {what} within {timeout} s")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def _get(port: int, token: str, timeout: float):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/streams", headers={"Authorization": f"Bearer {token}"})
    return urllib.request.urlopen(request, timeout=timeout)


def _hub_frames(port: int, token: str) -> int:
    with _get(port, token, 30) as reply:
        return sum(s["frames_total"] for s in json.loads(reply.read())["streams"])


def _hub_online(port: int, token: str) -> int:
    try:
        with _get(port, token, 10) as reply:
            return json.loads(reply.read())["summary"]["by_state"]["online"]
    except OSError:
        return 0


def start_contender(name: str, sim, count: int, folder: Path, picture_interval: float | None) -> tuple[Contender, object]:
    """Start one contender; returns it and a function giving its total frames received so far."""
    urls = [sim.url(f"bench-{i:04d}") for i in range(count)]
    if name == "hub":
        config = folder / "hub.toml"
        health = f"[health]\npicture_interval_s = {picture_interval}\n" if picture_interval else ""
        config.write_text(bench_estate(count, f'[sim]\nlisten = "{sim.rtsp}"\ncontrol = "{sim.control}"\n{health}'))
        port, token = _free_port(), bench_credentials(config)
        command = [
            sys.executable,
            "-m",
            "hub",
            "--log-level",
            "WARNING",
            "serve",
            "--config",
            str(config),
            "--listen",
            f"127.0.0.1:{port}",
        ]
        contender = Contender(name, command)
        contender.wait_for(lambda: any("UI and API on" in line for line in contender.lines), 60, "start")
        contender.wait_for(lambda: _hub_online(port, token) == count, 180, "all streams online")
        return contender, lambda: _hub_frames(port, token)
    script = HERE / "contenders" / CONTENDER_SCRIPTS[name]
    contender = Contender(name, [sys.executable, str(script), *urls])
    contender.wait_for(lambda: contender.opened is not None, 180, "ready line")
    return contender, lambda: contender.frames_reported


CONTENDER_SCRIPTS = {"pyav": "pyav_demux.py", "pyav_keyframes": "pyav_keyframes.py", "opencv": "opencv_read.py"}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_size(count: int, contenders: list[str], warmup: float, window: float, picture_interval: float | None) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "sim.toml").write_text(bench_estate(count))
        sim = start_sim(folder / "sim.toml")
        try:
            for name in contenders:
                contender, frames = start_contender(name, sim, count, folder, picture_interval)
                try:
                    time.sleep(warmup)
                    before = frames()
                    m = measure_process(contender.process.pid, window)
                    received = frames() - before
                finally:
                    contender.stop()
                rows.append(
                    {
                        "streams": count,
                        "contender": name,
                        "cpu_percent": round(m["cpu_percent"], 1),
                        "cpu_percent_per_stream": round(m["cpu_percent"] / count, 3),
                        "rss_mib": round(m["rss_bytes"] / 2**20, 1),
                        "rss_mib_per_stream": round(m["rss_bytes"] / 2**20 / count, 2),
                        "fps_per_stream": round(received / window / count, 1),
                    }
                )
                print(rows[-1], flush=True)
        finally:
            sim.stop()
    return rows


def ratios(rows: list[dict]) -> list[list]:
    out = []
    for count in sorted({r["streams"] for r in rows}):
        cpu = {r["contender"]: r["cpu_percent"] for r in rows if r["streams"] == count}
        hub_vs_pyav = round(cpu["hub"] / cpu["pyav"], 2) if "hub" in cpu and cpu.get("pyav") else None
        hub_vs_floor = round(cpu["hub"] / cpu["pyav_keyframes"], 2) if "hub" in cpu and cpu.get("pyav_keyframes") else None
        opencv_vs_hub = round(cpu["opencv"] / cpu["hub"], 1) if "opencv" in cpu and cpu.get("hub") else None
        out.append([count, hub_vs_pyav, hub_vs_floor, opencv_vs_hub])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--contenders", nargs="+", default=["hub", *CONTENDER_SCRIPTS], choices=["hub", *CONTENDER_SCRIPTS])
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--picture-interval", type=float, default=None, help="the hub's picture_interval_s (default: its own)")
    parser.add_argument("--name", default="ingest_cost", help="results file name in bench/results/")
    args = parser.parse_args()
    info = machine()
    rows = [
        row for count in args.streams for row in run_size(count, args.contenders, args.warmup, args.window, args.picture_interval)
    ]
    columns = list(rows[0])
    print(header_markdown(info))
    print()
    print(table_markdown(columns, [[r[c] for c in columns] for r in rows]))
    print()
    print(table_markdown(["streams", "hub / pyav (CPU)", "hub / pyav_keyframes (CPU)", "opencv / hub (CPU)"], ratios(rows)))
    payload = {"machine": info, "warmup_s": args.warmup, "window_s": args.window, "rows": rows}
    path = write_results(args.name, {**payload, "picture_interval_s": args.picture_interval or 2.0})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
