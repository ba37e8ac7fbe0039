"""The reference estate on two nodes, one killed (issue: nodes sharing an estate through Redis).

One `redis-server`, the simulator serving the 1,555-camera reference estate of `hub estate`, and two
`hub serve` nodes (n1, n2) on loopback, each in mode auto (its live budget decides how many of its
cameras are live, the rest are patrolled). Once the cameras are spread over both nodes, every camera has
a verdict and a patrol round is done, n1 is killed with SIGKILL. Measured:
- how long until n2 holds all 1,555 cameras, and until it has a verdict of its own for every one and
  has visited every patrolled camera once since the kill;
- how n2 watches them before and after (live, patrolled): its live budget stays its own, so it patrols
  more of them;
- every state change n2 reports (its event stream) of the cameras it already held before the kill and
  that carry no fault: each is a false state change (target 0); those of the cameras it took over after
  their first verdict on n2 are counted too;
- double pull: the simulator's sessions per feed sampled every 100 ms (target 0 s).

Run: python bench/cluster_reference.py [--period 300] [--probe 30] [--observe 60]   (about 15 minutes)
     python bench/cluster_reference.py --smoke                                      (a sampled estate: CI)
Results: bench/results/cluster_reference.json and its markdown on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import urllib.error
from pathlib import Path

from cluster_run import claims, stop_cluster
from common import header_markdown, machine, table_markdown, write_results
from estate import Events, sampled
from hubproc import HubProcess, sim_section
from live_capacity import _drain

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.redis_server import RedisServer  # noqa: E402
from support.sim_sessions import SessionWatch  # noqa: E402

from hub.config import parse_config  # noqa: E402
from hub.diagnostics.settings import PICTURE_CHECKS  # noqa: E402
from hub.inventory.estate import estate_config  # noqa: E402
from hub.sim.process import start_sim  # noqa: E402

SECRET = "cluster-bench-secret-0001"
PICTURE = set(PICTURE_CHECKS)
NAMES = ("n1", "n2")


class Progress:
    """Prints what a wait still waits for, at most every `every_s` seconds."""

    def __init__(self, every_s: float = 30.0):
        self.every_s, self.last = every_s, 0.0

    def __call__(self, what: dict) -> None:
        if time.monotonic() - self.last >= self.every_s:
            self.last = time.monotonic()
            print(f"waiting: {what}", flush=True)


async def until(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not await asyncio.to_thread(condition):
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{what}: not within {timeout} s")
        await asyncio.sleep(2)
    return time.monotonic() - started


def watching(records: list[dict], node: str) -> dict[str, int]:
    mine = [r for r in records if r.get("node") == node]
    return {"held": len(mine), "live": sum(1 for r in mine if r["watching"] == "live"),
            "patrol": sum(1 for r in mine if r["watching"] == "patrol")}  # fmt: skip


async def run(args) -> dict:
    text = sampled(estate_config(), args.sample)
    faulty = {s.id for s in parse_config(text).streams if s.fault}
    cameras = [s.id for s in parse_config(text).streams]
    os.environ["HUB_CLUSTER_SECRET"] = SECRET
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        redis = RedisServer(folder).start()
        (folder / "sim.toml").write_text(text)
        sim = await asyncio.to_thread(start_sim, folder / "sim.toml")
        sessions = SessionWatch(sim.control, cameras)
        monitor = f"[monitor]\npatrol_period_s = {args.period}\nprobe_interval_s = {args.probe}\n"
        nodes: dict[str, HubProcess] = {}
        try:
            for name in NAMES:
                (folder / name).mkdir()
                config = sim_section(sim) + monitor + f'[cluster]\nredis = "{redis.url}"\nnode = "{name}"\n'
                (folder / name / "hub.toml").write_text(config + "[[streams]]" + text.split("[[streams]]", 1)[1])
                nodes[name] = HubProcess(folder / name / "hub.toml", log_level=args.log_level)
                _drain(nodes[name])
            n1, n2 = nodes["n1"], nodes["n2"]
            progress = Progress()
            started = time.monotonic()

            def ready() -> bool:  # both nodes hold cameras, every camera judged, every patrolled one visited
                held = [claims(n) for n in nodes.values()]
                streams = n2.get("/api/streams")["streams"]
                waiting = {
                    "held": held,
                    "connecting": [r["id"] for r in streams if r["state"] == "connecting"][:5],
                    "unvisited": [r["id"] for r in streams if r["watching"] == "patrol" and not r["checked_at"]][:5],
                }
                progress(waiting)
                return all(held) and sum(held) == len(cameras) and not waiting["connecting"] and not waiting["unvisited"]

            await until(ready, args.period * 2 + 300, "both nodes settled with a verdict for every camera")
            spread_s = time.monotonic() - started
            events = Events(first_verdicts_too=True)
            follower = asyncio.ensure_future(events.follow(n2.url("/api/events"), n2.headers))
            await asyncio.sleep(args.observe)  # the survivor's own cameras, watched before the kill
            records = n2.get("/api/streams")["streams"]
            before = {"n1": watching(records, "n1"), "n2": watching(records, "n2")}
            own = {r["id"] for r in records if r.get("node") == "n2"}
            killed_at, killed_wall = time.monotonic(), time.time()
            os.kill(n1.pid, signal.SIGKILL)
            n1.process.wait(10)
            held_s = await until(lambda: claims(n2) == len(cameras), 120, "n2 holding every camera")

            patrol_seen: list[dict] = []  # n2's patrol after the kill, from /healthz

            def judged() -> bool:  # n2's own verdict of every camera, every patrolled one visited since the kill
                patrol_seen.append(n2.get("/healthz")["capacity"])
                streams = n2.get("/api/streams")["streams"]
                waiting = {
                    "not n2's verdict": [r["id"] for r in streams if r["state"] == "connecting" or r.get("node") != "n2"][:5],
                    "unvisited": [
                        r["id"] for r in streams if r["watching"] == "patrol" and (r["checked_at"] or 0) <= killed_wall
                    ][:5],
                }
                progress(waiting)
                return not waiting["not n2's verdict"] and not waiting["unvisited"]

            await until(judged, args.period * 2 + 300, "n2's verdict of every camera and a patrol round")
            judged_s = time.monotonic() - killed_at
            await asyncio.sleep(args.observe)
            after = watching(n2.get("/api/streams")["streams"], "n2")
            patrol_seen.append(n2.get("/healthz")["capacity"])
            follower.cancel()
            if args.events:
                picture = [c["id"] for _, c in events.changes if c["id"] not in faulty and set(c["reasons"]) & PICTURE]
                faulted = sorted({c["id"] for _, c in events.changes if c["state"] != "online" and c["id"] not in faulty})
                faulted = list(dict.fromkeys(picture + faulted))  # a picture check's false alarms first
                diagnoses = {sid: diagnosis(n2, sid) for sid in faulted[:20]}  # what n2 saw
                Path(args.events).write_text(json.dumps({"killed_at": killed_at, "own": sorted(own), "faulty": sorted(faulty),
                                                         "events": events.changes, "diagnoses": diagnoses,
                                                         "n2_log": _drain(n2)}))  # fmt: skip
        finally:
            stop_cluster(sessions, nodes, sim, redis)
    changes_before = [c for at, c in events.changes if at < killed_at and c["id"] in own and c["id"] not in faulty]
    changes_own = [c for at, c in events.changes if at >= killed_at and c["id"] in own and c["id"] not in faulty]
    taken = {c for c in cameras if c not in own}
    # a taken camera's changes after its first verdict on n2 (the first: from `connecting`, its holder gone)
    settled: set[str] = set()
    changes_taken = []
    for at, c in events.changes:
        if at < killed_at or c["id"] not in taken or c["id"] in faulty:
            continue
        if c["id"] in settled:
            changes_taken.append(c)
        elif c["previous"] == "connecting":
            settled.add(c["id"])
    return {
        "machine": machine(),
        "args": vars(args),
        "cameras": len(cameras),
        "faulty": len(faulty),
        "spread_s": round(spread_s, 1),
        "before": before,
        "after": after,
        "held_all_s": round(held_s, 1),
        "judged_all_s": round(judged_s, 1),
        "false_before_kill": len(changes_before),
        "false_own_after_kill": len(changes_own),
        "false_own_examples": changes_own[:5],
        "false_own_kinds": kinds(changes_own),
        "patrol_after": {
            "period_kept_max_s": max(p["patrol_period_kept_s"] for p in patrol_seen),
            "period_kept_last_s": patrol_seen[-1]["patrol_period_kept_s"],
            "mean_visit_max_s": max(p["mean_visit_s"] or 0.0 for p in patrol_seen),
            "concurrency_min": min(p["patrol_concurrency"] for p in patrol_seen),
        },
        "changes_taken_after_first_verdict": len(changes_taken),
        "taken_examples": changes_taken[:5],
        "double_pull_s": round(sessions.double_s, 1),
    }


def diagnosis(node: HubProcess, stream_id: str) -> dict | None:
    """The node's picture diagnosis of a camera (scores, references), None if it has none."""
    try:
        return node.get(f"/api/streams/{stream_id}/diagnosis")
    except urllib.error.HTTPError:
        return None


def kinds(changes: list[dict]) -> dict[str, int]:
    """How many changes of each kind ("online -> connecting overdue")."""
    counted: dict[str, int] = {}
    for c in changes:
        kind = f"{c['previous']} -> {c['state']} {','.join(c['reasons'])}".strip()
        counted[kind] = counted.get(kind, 0) + 1
    return counted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--period", type=float, default=300.0, help="patrol period, s (the default config's)")
    parser.add_argument("--probe", type=float, default=30.0, help="probe interval, s (the default config's)")
    parser.add_argument("--observe", type=float, default=60.0, help="watched before the kill and after the takeover, s")
    parser.add_argument("--sample", type=int, default=0, help="about this many of the fixed cameras (0: the whole estate)")
    parser.add_argument("--smoke", action="store_true", help="a sampled estate, short periods (CI)")
    parser.add_argument("--events", metavar="FILE", help="also write every state event n2 sent, and its log, here (JSON)")
    parser.add_argument("--log-level", default="WARNING", help="the nodes' log level (INFO: every state change)")
    args = parser.parse_args()
    if args.smoke:
        args.sample, args.period, args.probe, args.observe = 40, 12.0, 4.0, 5.0
    result = asyncio.run(run(args))
    print(header_markdown(result["machine"]))
    b, a = result["before"], result["after"]
    rows = [
        ["n1 before the kill", b["n1"]["held"], b["n1"]["live"], b["n1"]["patrol"]],
        ["n2 before the kill", b["n2"]["held"], b["n2"]["live"], b["n2"]["patrol"]],
        ["n2 after the takeover", a["held"], a["live"], a["patrol"]],
    ]
    print(table_markdown(["node", "cameras held", "live", "patrolled"], rows))
    print(
        f"\nn2 held all {result['cameras']} cameras {result['held_all_s']} s after n1 was killed, and had its own verdict "
        f"of every one and a patrol round {result['judged_all_s']} s after; false state changes of the cameras n2 "
        f"already had: {result['false_own_after_kill']} after the kill (target 0), {result['false_before_kill']} in "
        f"the {args.observe:g} s before; changes of taken cameras after their first verdict on n2: "
        f"{result['changes_taken_after_first_verdict']}; double pull {result['double_pull_s']} s (target 0)"
    )
    print(f"written to {write_results('cluster_reference', result, args.smoke)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
