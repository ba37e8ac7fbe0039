"""How many live cameras keep full frame rate with 1 ingest process and with 2 (issue: the estate).

Run: python bench/live_capacity.py [--processes 1 2] [--ladder 100 150 ...] [--window 15]
One simulator process serves the cameras (640x360, 25 fps H.264, keyframe every 2 s); for each
process count the hub (`hub serve`, every stream live) is started with more cameras step by step.
A step passes when at least 98 % of the cameras delivered at least 90 % of their 25 fps over the
window (frames counted from each record's `frames_total`) and the hub logged no state change. The
capacity is the last step that passed. CPU is the hub's whole process tree (hub process plus its
ingest workers), from /proc.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import bench_estate, cpu_seconds, header_markdown, machine, rss_bytes, table_markdown, write_results  # noqa: E402
from hubproc import HubProcess, sim_section  # noqa: E402

from hub.sim.process import start_sim  # noqa: E402

FULL_RATE = 0.9 * 25  # frames are counted per 0.5 s batch, so a window's count wobbles by a batch
PASS_SHARE = 0.98
ALL_LIVE = '[monitor]\nmodes = { public-security = "live", property = "live", childcare = "live", vehicle = "live" }\n'


def tree(pid: int) -> list[int]:
    """A process and its descendants (the hub's ingest workers)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return out


def step(sim, processes: int, count: int, warmup: float, window: float, folder: Path) -> dict:
    """One rung of the ladder; a hub whose API stops answering fails the rung (that is overload too)."""
    try:
        return _step(sim, processes, count, warmup, window, folder)
    except (OSError, RuntimeError) as exc:  # urllib's timeouts are OSErrors
        return {
            "processes": processes,
            "cameras": count,
            "full_rate_share": None,
            "fps_p1": None,
            "fps_median": None,
            "cpu_percent": None,
            "rss_mib": None,
            "state_changes": None,
            "passed": False,
            "error": f"{type(exc).__name__}: {exc}",
        }


def _step(sim, processes: int, count: int, warmup: float, window: float, folder: Path) -> dict:
    config = folder / f"hub-{processes}-{count}.toml"
    config.write_text(f"[hub]\ningest_processes = {processes}\n" + sim_section(sim) + ALL_LIVE + bench_estate(count))
    hub = HubProcess(config, log_level="INFO")
    _drain(hub)  # start reading its log at once: a full pipe would stall the hub
    try:
        deadline = time.monotonic() + warmup + 60
        while hub.get("/api/streams")["summary"]["by_state"]["online"] < count and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(warmup)
        pids = tree(hub.pid)
        before = {r["id"]: r["frames_total"] for r in hub.get("/api/streams")["streams"]}
        cpu0, t0 = sum(cpu_seconds(p) for p in pids), time.monotonic()
        lines_before = len(_drain(hub))
        time.sleep(window)
        cpu1, t1 = sum(cpu_seconds(p) for p in pids), time.monotonic()
        records = hub.get("/api/streams")["streams"]
        changes = [line for line in _drain(hub)[lines_before:] if " -> " in line]
        fps = sorted((r["frames_total"] - before.get(r["id"], 0)) / (t1 - t0) for r in records)
        full = sum(1 for f in fps if f >= FULL_RATE)
        return {
            "processes": processes,
            "cameras": count,
            "full_rate_share": round(full / count, 3),
            "fps_p1": round(fps[max(0, len(fps) // 100 - 1)], 1),
            "fps_median": round(fps[len(fps) // 2], 1),
            "cpu_percent": round(100 * (cpu1 - cpu0) / (t1 - t0), 1),
            "rss_mib": round(sum(rss_bytes(p) for p in pids if Path(f"/proc/{p}").exists()) / 2**20, 1),
            "state_changes": len(changes),
            "passed": full >= PASS_SHARE * count and not changes,
        }
    finally:
        hub.stop()


def _drain(hub: HubProcess) -> list[str]:
    """Every log line the hub printed so far (read without blocking by a helper thread)."""
    if not hasattr(hub, "lines"):
        import threading

        hub.lines = []

        def pump() -> None:
            for line in hub.process.stdout:
                hub.lines.append(line.rstrip())

        threading.Thread(target=pump, daemon=True).start()
    return list(hub.lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--ladder", type=int, nargs="+", default=[100, 150, 200, 250, 300, 350, 400, 450])
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args()
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "sim.toml").write_text(bench_estate(max(args.ladder)))
        sim = start_sim(folder / "sim.toml")
        try:
            for processes in args.processes:
                for count in args.ladder:
                    row = step(sim, processes, count, args.warmup, args.window, folder)
                    rows.append(row)
                    print(row, flush=True)
                    if not row["passed"]:
                        break
        finally:
            sim.stop()
    capacity = {p: max([r["cameras"] for r in rows if r["processes"] == p and r["passed"]], default=0) for p in args.processes}
    info = machine()
    print(header_markdown(info))
    columns = [
        "processes",
        "cameras",
        "full_rate_share",
        "fps_p1",
        "fps_median",
        "cpu_percent",
        "rss_mib",
        "state_changes",
        "passed",
    ]
    print(table_markdown(columns, [[r[c] for c in columns] for r in rows]))
    print("capacity (live cameras at full frame rate):", capacity)
    if len(args.processes) > 1 and capacity.get(args.processes[0]):
        print(
            f"ratio {args.processes[-1]} vs {args.processes[0]} processes: "
            f"{capacity[args.processes[-1]] / capacity[args.processes[0]]:.2f}"
        )
    write_results(
        "live_capacity",
        {"machine": info, "window_s": args.window, "rows": rows, "capacity": {str(k): v for k, v in capacity.items()}},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
