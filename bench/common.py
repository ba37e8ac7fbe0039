"""Shared benchmark helpers: machine header, per-process CPU and memory from /proc, result files."""

from __future__ import annotations

import functools
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Smoke runs (CI) write elsewhere so they never overwrite the committed results of real runs.
RESULTS = Path(os.environ.get("HUB_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")
TICKS = os.sysconf("SC_CLK_TCK")


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import av

    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "pyav": av.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def header_markdown(info: dict) -> str:
    return f"Machine: {info['cores']} cores, {info['cpu']}; Python {info['python']}, PyAV {info['pyav']}; {info['date']}"


def table_markdown(columns: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


@functools.cache
def _smoke_folder() -> Path:
    """One temporary folder per run for what a hand-started smoke run writes."""
    return Path(tempfile.mkdtemp(prefix="hub-bench-smoke-"))


def write_results(name: str, payload: dict, smoke: bool = False) -> Path:
    """Write `name`.json into the results folder; a smoke run started by hand (not by `run_all.py`, which
    names a folder of its own) writes into a new temporary folder, never over the committed results."""
    folder = _smoke_folder() if smoke and not os.environ.get("HUB_BENCH_RESULTS") else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def bench_estate(count: int, extra: str = "") -> str:
    """N identical 640x360 25 fps H.264 street cameras (~500 kbit/s, keyframe every 2 s): one clip, N paths.
    Every one live (`mode = "live"`): these benchmarks measure live ingest, not patrol."""
    blocks = [extra] if extra else []
    for i in range(count):
        blocks.append(
            f'[[streams]]\nid = "bench-{i:04d}"\nname = "Bench camera"\ncategory = "public-security"\n'
            f'position = [31.775, 117.303]\nurl = "sim://street?size=640x360&fps=25&codec=h264"\nmode = "live"\n'
        )
    return "\n".join(blocks)


def thread_kind(name: str) -> str:
    """`ingest-cam-7-2` is an `ingest` thread: the OS name up to its first dash."""
    return name.split("-")[0] or name


def measure_process(pid: int, window: float, kind: Callable[[str], str] = thread_kind) -> dict:
    """CPU (% of one core) and resident memory of one process over `window` seconds, and the CPU of each
    kind of thread (by OS name, grouped by `kind`: the hub names its readers and its measurer)."""
    cpu0, threads0, t0 = cpu_seconds(pid), thread_seconds(pid, kind), time.monotonic()
    time.sleep(window)
    cpu1, threads1, t1 = cpu_seconds(pid), thread_seconds(pid, kind), time.monotonic()
    by_kind = {k: round(100 * (v - threads0.get(k, 0.0)) / (t1 - t0), 2) for k, v in threads1.items()}
    return {"cpu_percent": 100 * (cpu1 - cpu0) / (t1 - t0), "rss_bytes": rss_bytes(pid), "threads_cpu_percent": by_kind}


def thread_seconds(pid: int, kind: Callable[[str], str] = thread_kind) -> dict[str, float]:
    """CPU seconds of a process's threads, summed by `kind` of their OS names (at most 15 characters)."""
    ticks = os.sysconf("SC_CLK_TCK")
    kinds: dict[str, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as comm, open(f"/proc/{pid}/task/{tid}/stat") as stat:
                name, fields = comm.read().strip(), stat.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        group = kind(name)
        kinds[group] = kinds.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return kinds
