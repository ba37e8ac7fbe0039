"""The whole estate on this machine: `hub demo --estate`'s load, measured (issue: the estate).

Run: python bench/estate.py [--processes auto] [--steady 420] [--period 300] [--probe 30] [--cold]
                             [--hog 60] [--no-substreams]
     python bench/estate.py --overload 2 [--seconds 90] [--runs 5]     (the overload run only)

Estate run. The simulator (its own process) serves the 1,555-camera reference estate of `hub estate`;
`hub serve` (another process, with its ingest workers) watches it in mode auto: its live budget decides
how many are live (learnt from its own load), the rest are patrolled. Once every camera has a verdict
and the first patrol round is done, for `--steady` seconds:
- a wall of 16 patrolled cameras is opened on the live socket (they go live while watched);
- halfway, a CPU hog takes one core for `--hog` seconds and goes away (the budget shrinks and regrows);
- 7 fault kinds are injected on one live (childcare) and one patrolled camera each, at random moments;
  the time from fault to the hub's state change is taken from its event stream;
- the API is polled as UIs poll it (a list every 0.5 s, ten records a second) and /metrics is scraped
  by two scrapers at once, every second each;
- every 5 s: the oldest picture check and the oldest reachability check (probe or visit) over every
  patrolled camera, the frame rate of the live and wall cameras, the hub's CPU (hub process and its
  workers) and memory.
Every state change of a camera that carries no fault is a false transition, counted from the hub's
start (a camera's first verdict excepted) to the end, by phase: start, wall, hog, rest.
With `--no-substreams` the cameras have no substream: health reads the main stream (fewer fit live).

Overload run (`--overload K`): K times the live capacity measured by bench/live_capacity.py, every
camera live, in one hub; reports the API's latency and the false transitions while the hub sheds,
for each of `--runs` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import RESULTS, bench_estate, cpu_seconds, header_markdown, machine, rss_bytes, table_markdown, write_results  # noqa: E402
from hubproc import HubProcess, sim_section  # noqa: E402
from live_capacity import _drain, tree  # noqa: E402

from hub.config import parse_config  # noqa: E402
from hub.inventory.estate import estate_config  # noqa: E402
from hub.sim.process import start_sim  # noqa: E402

PROBE_FAULTS = {
    "stall": ("offline", "stalled"),
    "notfound": ("offline", "not_found"),
    "auth": ("unauthorized", "auth_failed"),
    "drop": ("offline", None),
}
PICTURE_FAULTS = {"freeze": ("degraded", "frozen"), "black": ("degraded", "black"), "lowfps": ("degraded", "low_fps")}
LIVE_TARGETS_S = {"stall": 6.0, "freeze": 10.0, "black": 10.0}  # the benchmarks issue's targets for live cameras
WALL = 16


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class Events:
    """Follows /api/events: every state change, timed on arrival (`first_verdicts_too`: a stream's first
    verdict, from `connecting`, is kept as a change too)."""

    def __init__(self, first_verdicts_too: bool = False) -> None:
        self.changes: list[tuple[float, dict]] = []  # (arrival, event), first verdicts left out
        self.first_verdicts = 0
        self._judged: set[str] = set()  # streams that have had a verdict
        self._keep_first = first_verdicts_too

    async def follow(self, url: str, headers: dict) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None), headers=headers) as session:
            async with session.get(url) as reply:
                kind = None
                async for raw in reply.content:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "state":
                        change = json.loads(line[6:])
                        if change["id"] not in self._judged and change["previous"] == "connecting":
                            self._judged.add(change["id"])  # a stream's first verdict is not a transition
                            self.first_verdicts += 1
                            if not self._keep_first:
                                continue
                        self._judged.add(change["id"])
                        self.changes.append((time.monotonic(), change))


async def timed_get(session: aiohttp.ClientSession, url: str, out: list[float]) -> bytes:
    started = time.perf_counter()
    async with session.get(url) as reply:
        body = await reply.read()
    out.append((time.perf_counter() - started) * 1000)
    return body


class ApiPoller:
    """bench/api_poller.py in a process of its own: polls as UIs poll (a list every 0.5 s, ten records a
    second) and times each answer. Its own process, so that the times are the hub's, not the wait of this
    loop, which also follows the event stream, receives the wall's video and reads /metrics."""

    def __init__(self, hub: HubProcess, ids: list[str], seconds: float):
        self.folder = Path(tempfile.mkdtemp(prefix="hub-bench-poller-"))
        (self.folder / "ids.json").write_text(json.dumps(ids))
        self.seconds = seconds
        command = [sys.executable, str(HERE / "api_poller.py"), hub.url(""), hub.token, str(self.folder / "ids.json")]
        self.process = subprocess.Popen(command + [str(seconds), str(self.folder / "answers.json")])

    async def answers(self) -> list[tuple[float, str, float]]:
        """(monotonic time, "list" | "record", ms) of every answer, once the poller is done."""
        code = await asyncio.to_thread(self.process.wait, self.seconds + 120)
        if code != 0:
            raise RuntimeError(f"the API poller exited with {code}")
        return [tuple(a) for a in json.loads((self.folder / "answers.json").read_text())]


def latency(answers: list[tuple[float, str, float]], kind: str, inside: tuple[float, float] | None = None, out=False):
    """p50 and p99 (ms) of one kind of answer, inside a phase or (out=True) outside it."""
    times = [ms for at, k, ms in answers if k == kind and (inside is None or (inside[0] <= at < inside[1]) != out)]
    return round(percentile(times, 0.5), 1), round(percentile(times, 0.99), 1)


async def load_timeline(session, hub: HubProcess, until: float, out: list[dict]) -> None:
    """Every 5 s: the hub's shedding level, loop lateness, CPU share and live streams (from /healthz)."""
    started = time.monotonic()
    while time.monotonic() < until:
        async with session.get(hub.url("/healthz")) as reply:
            body = await reply.json()
        load, capacity = body["load"], body["capacity"]
        out.append(
            {
                "t": round(time.monotonic() - started),
                "level": load["level"],
                "lag_ms": load["loop_lag_ms"],
                "cpu_share": load["cpu_share"],
                "live": capacity["live_streams"],
            }
        )
        await asyncio.sleep(5.0)


async def scrape(session, hub: HubProcess, until: float, out: list[float]) -> None:
    while time.monotonic() < until:
        await timed_get(session, hub.url("/metrics"), out)
        await asyncio.sleep(1.0)


async def wall(session, hub: HubProcess, ids: list[str], until: float, received: dict) -> None:
    """A 16-tile wall on the live socket (substreams: a layout of 16)."""
    async with session.ws_connect(hub.url("/api/live").replace("http", "ws")) as ws:
        await ws.send_str(json.dumps({"watch": ids, "quality": "sub"}))
        while time.monotonic() < until:
            try:
                message = await asyncio.wait_for(ws.receive(), 2)
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                name = message.data[2 : 2 + message.data[1]].decode()
                received[name] = received.get(name, 0) + 1


async def inject(
    sim, events: Events, targets: list[tuple[str, str, str]], start: float, spread: float, period: float, out: list[dict]
) -> None:
    """Each (camera, mode, fault) at a random moment in [start, start+spread]; detection from the event stream."""

    async def one(stream_id: str, mode: str, fault: str) -> None:
        await asyncio.sleep(max(0.0, start + random.uniform(0, spread) - time.monotonic()))
        await asyncio.to_thread(sim.set_fault, stream_id, fault)
        injected = time.monotonic()
        state, reason = {**PROBE_FAULTS, **PICTURE_FAULTS}[fault]
        deadline = injected + period + 60  # picture faults on patrol: within a period (+30 s target), with room
        detected = None
        while detected is None and time.monotonic() < deadline:
            for at, change in events.changes:
                if (
                    at >= injected
                    and change["id"] == stream_id
                    and change["state"] == state
                    and (reason is None or reason in change["reasons"])
                ):
                    detected = at - injected
                    break
            await asyncio.sleep(0.5)
        out.append(
            {"stream": stream_id, "mode": mode, "fault": fault, "detected_s": None if detected is None else round(detected, 1)}
        )
        await asyncio.to_thread(sim.clear_fault, stream_id)

    await asyncio.gather(*(one(*t) for t in targets))


def sampled(text: str, keep: int) -> str:
    """The estate with about `keep` of its fixed cameras (every k-th; all live ones and every faulted one kept),
    for smoke runs."""
    if not keep:
        return text
    head, *blocks = text.split("[[streams]]")
    fixed = [i for i, b in enumerate(blocks) if '"public-security"' in b or '"property"' in b]
    kept, fixed_set = set(fixed[:: max(1, len(fixed) // keep)]), set(fixed)
    chosen = [b for i, b in enumerate(blocks) if i not in fixed_set or i in kept or 'fault = "' in b]
    return head + "".join("[[streams]]" + b for b in chosen)


def without_substreams(text: str) -> str:
    """The estate with no substream: health and patrol read each camera's main stream."""
    return re.sub(r"&sub=[0-9x]+", "", text)


def sample(hub: HubProcess, pids: list[int], cpu_before: tuple[float, float]) -> dict:
    body = hub.get("/api/streams")
    now = time.time()
    check_ages, reach_ages = [], []
    for r in body["streams"]:
        if r["watching"] == "patrol":
            check_ages.append((now - r["checked_at"] if r["checked_at"] else float("inf"), r["id"], r["state"]))
            reach = max(r["checked_at"] or 0, r["probed_at"] or 0)
            reach_ages.append((now - reach if reach else float("inf"), r["id"], r["state"]))
    cpu = sum(cpu_seconds(p) for p in pids if Path(f"/proc/{p}").exists())
    share = (cpu - cpu_before[0]) / (time.monotonic() - cpu_before[1])
    nothing = (0.0, "", "")
    return {
        "check_age_max": max(check_ages, default=nothing)[0],
        "reach_age_max": max(reach_ages, default=nothing)[0],
        "worst_check": max(check_ages, default=nothing),
        "worst_reach": max(reach_ages, default=nothing),
        "live": sum(1 for r in body["streams"] if r["watching"] == "live"),
        "cores": share,
        "rss": sum(rss_bytes(p) for p in pids if Path(f"/proc/{p}").exists()),
        "records": body["streams"],
        "cpu": cpu,
    }


async def estate_run(args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="hub-estate-bench-"))
    if args.cold:
        os.environ["HUB_CACHE_DIR"] = str(folder / "clips")
    text = sampled(estate_config(), args.sample)
    if args.no_substreams:
        text = without_substreams(text)
    (folder / "sim.toml").write_text(text)
    started = time.monotonic()
    sim = await asyncio.to_thread(start_sim, folder / "sim.toml")
    sim_ready_s = time.monotonic() - started
    monitor = (
        f"[monitor]\npatrol_period_s = {args.period}\nprobe_interval_s = {args.probe}\npatrol_concurrency = {args.concurrency}\n"
    )
    hub_text = text.split("[[streams]]", 1)
    config = (
        f"[hub]\ningest_processes = {json.dumps(args.processes) if args.processes == 'auto' else args.processes}\n"
        + sim_section(sim)
        + monitor
        + "[[streams]]"
        + hub_text[1]
    )
    (folder / "hub.toml").write_text(config)
    hub = HubProcess(folder / "hub.toml", log_level=args.log_level)
    _drain(hub)
    hub_started = time.monotonic()
    events = Events()
    follower = asyncio.ensure_future(events.follow(hub.url("/api/events"), hub.headers))
    budget: list[dict] = []
    timeline = asyncio.ensure_future(budget_timeline(hub, hub_started, budget))
    hog = None
    try:
        faulty = {s.id for s in parse_config(text).streams if s.fault}
        while True:  # every camera judged, and every patrolled one visited once
            body = hub.get("/api/streams")
            streams = body["streams"]
            if all(r["state"] != "connecting" for r in streams) and all(
                r["checked_at"] for r in streams if r["watching"] == "patrol"
            ):
                break
            if time.monotonic() - hub_started > args.period * 2 + 120:
                raise RuntimeError("the first patrol round did not finish within two periods")
            await asyncio.sleep(5)
        first_round_s = time.monotonic() - hub_started
        healthy = sorted(r["id"] for r in streams if r["id"] not in faulty and r["state"] == "online")
        live_ids = [i for i in healthy if i.startswith("cc-")]  # childcare rooms come first: live in any budget
        patrol_ids = [r["id"] for r in streams if r["id"] in healthy and r["watching"] == "patrol"]
        others = [i for i in healthy if i not in live_ids and i not in patrol_ids]
        random.shuffle(patrol_ids)
        kinds = list(PROBE_FAULTS) + list(PICTURE_FAULTS)
        pool = patrol_ids + others  # a small estate is all live: its wall and "patrol" faults use live cameras then
        wall_ids, fault_patrol = pool[:WALL], pool[WALL : WALL + len(kinds)]
        targets = [(live_ids[i], "live", k) for i, k in enumerate(kinds[: len(live_ids)])] + [
            (fault_patrol[i], "patrol" if fault_patrol[i] in patrol_ids else "live", k)
            for i, k in enumerate(kinds[: len(fault_patrol)])
        ]
        injected_ids = {t[0] for t in targets}
        pids = tree(hub.pid)
        steady_start = time.monotonic()
        until = steady_start + args.steady
        scrapes, detections, samples, received, levels = [], [], [], {}, []
        poller = ApiPoller(hub, healthy, args.steady)
        phases = {"start": (hub_started, steady_start)}
        cpu_mark = (sum(cpu_seconds(p) for p in pids), time.monotonic())
        frames_before = {r["id"]: r["frames_total"] for r in streams}
        hog_at = steady_start + max(60.0, args.steady / 2 - args.hog / 2)
        async with aiohttp.ClientSession(headers=hub.headers) as session:
            work = [
                scrape(session, hub, until, scrapes),
                scrape(session, hub, until, scrapes),
                wall(session, hub, wall_ids, until, received),
                inject(
                    sim, events, targets, steady_start + 20, max(1.0, args.steady - args.period - 60), args.period, detections
                ),
            ]
            tasks = [asyncio.ensure_future(w) for w in work]
            while time.monotonic() < until:
                await asyncio.sleep(5)
                now = time.monotonic()
                if args.hog and hog is None and now >= hog_at:
                    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    phases["hog"] = (now, now + args.hog)
                if hog is not None and hog.poll() is None and now >= phases["hog"][1]:
                    hog.kill()
                samples.append(await asyncio.to_thread(sample, hub, pids, cpu_mark))
                levels.append((await asyncio.to_thread(hub.get, "/healthz"))["load"]["level"])
            await asyncio.gather(*tasks[:3])
            await asyncio.wait_for(tasks[3], timeout=args.period + 120)
            answers = await poller.answers()
        window = time.monotonic() - steady_start
        phases["wall"] = (steady_start, steady_start + 60)
        last = samples[-1]["records"]
        fps = {r["id"]: (r["frames_total"] - frames_before.get(r["id"], 0)) / window for r in last}
        false = [(at, c) for at, c in events.changes if c["id"] not in faulty and c["id"] not in injected_ids]
        live_fps = [fps[i] for i in fps if i.startswith(("cc-", "vh-")) and i not in injected_ids]
        health = hub.get("/healthz")
        return {
            "cameras": len(streams),
            "substreams": not args.no_substreams,
            "live_at_steady_start": sum(1 for r in streams if r["watching"] == "live"),
            "live_min": min(s["live"] for s in samples),
            "live_max": max(s["live"] for s in samples),
            "live_at_end": samples[-1]["live"],
            "live_budget_at_end": health["capacity"]["live_budget"],
            "live_cost_share": health["capacity"].get("live_cost_share"),
            "processes": args.processes,
            "patrol_concurrency": args.concurrency,
            "period_s": args.period,
            "probe_interval_s": args.probe,
            "sim_ready_s": round(sim_ready_s, 1),
            "cold_cache": args.cold,
            "first_round_s": round(first_round_s),
            "steady_s": round(window),
            "hog_s": args.hog,
            "check_age_max_s": round(max(s["check_age_max"] for s in samples), 1),
            "reach_age_max_s": round(max(s["reach_age_max"] for s in samples), 1),
            "worst_reach": max((s["worst_reach"] for s in samples), key=lambda w: w[0]),
            "worst_check": max((s["worst_check"] for s in samples), key=lambda w: w[0]),
            "live_fps_min": round(min(live_fps), 1) if live_fps else None,
            "wall_fps_min": round(min(fps[i] for i in wall_ids if i not in injected_ids), 1),
            "wall_chunks_min": min(received.get(i, 0) for i in wall_ids),
            # the estate's own load: outside the minute a CPU hog takes one of the two cores (shown apart)
            **_latencies(answers, phases.get("hog")),
            "scrape_p50_ms": round(percentile(scrapes, 0.5), 1),
            "scrape_p99_ms": round(percentile(scrapes, 0.99), 1),
            "cores_mean": round(samples[-1]["cores"], 2),
            "cores_max_5s": round(max(_windows(samples)), 2),
            "rss_mib_max": round(max(s["rss"] for s in samples) / 2**20),
            "false_transitions": len(false),
            "false_by_phase": _by_phase(false, phases),
            "false_by_kind": _by_kind([c for _, c in false]),
            "false_examples": [c for _, c in false[:5]],
            "load_levels_seen": sorted(set(levels)),
            "detections": sorted(detections, key=lambda d: (d["mode"], d["fault"])),
            "budget_timeline": budget,
        }
    finally:
        if hog is not None and hog.poll() is None:
            hog.kill()
        timeline.cancel()
        follower.cancel()
        hub.stop()
        sim.stop()
        (folder / "hub.log").write_text("\n".join(_drain(hub)) + "\n")
        print(f"hub log: {folder / 'hub.log'}", file=sys.stderr)


async def budget_timeline(hub: HubProcess, started: float, out: list[dict]) -> None:
    """Every 10 s from the hub's start: its live budget, live streams, load level, CPU share and the
    machine's CPU pressure (/healthz)."""
    while True:
        try:
            body = await asyncio.to_thread(hub.get, "/healthz")
        except Exception:  # noqa: BLE001 - not up yet
            await asyncio.sleep(2)
            continue
        capacity, load = body["capacity"], body["load"]
        out.append(
            {
                "t": round(time.monotonic() - started),
                "budget": capacity.get("live_budget"),
                "live": capacity.get("live_streams"),
                "level": load["level"],
                "cpu_share": load["cpu_share"],
                "pressure": load.get("cpu_pressure"),
                "readers_behind": load.get("readers_behind"),
            }
        )
        await asyncio.sleep(10)


def _latencies(answers: list[tuple[float, str, float]], hog: tuple[float, float] | None) -> dict:
    out = {}
    for kind in ("list", "record"):
        out[f"{kind}_p50_ms"], out[f"{kind}_p99_ms"] = latency(answers, kind, hog, out=True)
        if hog is not None:
            out[f"{kind}_p50_hog_ms"], out[f"{kind}_p99_hog_ms"] = latency(answers, kind, hog)
    out["api_answers"] = len(answers)
    return out


def _by_phase(false: list[tuple[float, dict]], phases: dict[str, tuple[float, float]]) -> dict[str, int]:
    out = {name: 0 for name in (*phases, "rest")}
    for at, _ in false:
        name = next((n for n, (a, b) in phases.items() if a <= at < b), "rest")
        out[name] += 1
    return out


def _by_kind(changes: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in changes:
        key = f"{c['previous']} -> {c['state']} {','.join(c['reasons'])}".strip()
        out[key] = out.get(key, 0) + 1
    return out


def _windows(samples: list[dict]) -> list[float]:
    """Cores used in each 5 s step between samples."""
    out = []
    for a, b in zip(samples, samples[1:], strict=False):
        out.append((b["cpu"] - a["cpu"]) / 5.0)
    return out or [samples[-1]["cores"]]


async def overload_run(args) -> dict:
    capacity_file = RESULTS / "live_capacity.json"
    capacity = json.loads(capacity_file.read_text())["capacity"]["1"] if capacity_file.exists() else 200
    count = int(args.overload * capacity)
    folder = Path(tempfile.mkdtemp(prefix="hub-overload-bench-"))
    (folder / "sim.toml").write_text(bench_estate(count))
    sim = await asyncio.to_thread(start_sim, folder / "sim.toml")
    all_live = '[monitor]\nmodes = { public-security = "live", property = "live", childcare = "live", vehicle = "live" }\n'
    (folder / "hub.toml").write_text("[hub]\ningest_processes = 1\n" + sim_section(sim) + all_live + bench_estate(count))
    hub = HubProcess(folder / "hub.toml", log_level="WARNING")
    _drain(hub)
    events = Events()
    follower = asyncio.ensure_future(events.follow(hub.url("/api/events"), hub.headers))
    try:
        await asyncio.sleep(30)  # connect and settle: first verdicts are not transitions to count
        ids = [r["id"] for r in hub.get("/api/streams")["streams"]]
        before, first_before = len(events.changes), events.first_verdicts
        timeline = []
        until = time.monotonic() + args.seconds
        poller = ApiPoller(hub, ids, args.seconds)
        async with aiohttp.ClientSession(headers=hub.headers) as session:
            await load_timeline(session, hub, until, timeline)
        answers = await poller.answers()
        health = hub.get("/healthz")
        changes = [c for _, c in events.changes[before:]]
        by_kind: dict[str, int] = {}
        for c in changes:
            key = f"{c['previous']} -> {c['state']} {','.join(c['reasons'])}"
            by_kind[key] = by_kind.get(key, 0) + 1
        return {
            "live_cameras": count,
            "capacity_1_process": capacity,
            "seconds": args.seconds,
            **_latencies(answers, None),
            "false_transitions": len(changes),
            "transitions": by_kind,
            "first_verdicts": events.first_verdicts - first_before,
            "load": health.get("load"),
            "timeline": timeline,
            "online": sum(1 for r in hub.get("/api/streams")["streams"] if r["state"] == "online"),
        }
    finally:
        follower.cancel()
        hub.stop()
        sim.stop()


def report(result: dict, overload: list[dict] | None) -> None:
    info = machine()
    print(header_markdown(info))
    if result:
        skip = ("detections", "false_examples", "false_by_kind", "budget_timeline")
        rows = [[k, result[k]] for k in result if k not in skip]
        print(table_markdown(["measure", "value"], rows))
        print("false transitions by kind:", result["false_by_kind"])
        print(
            table_markdown(
                ["t (s)", "budget", "live", "level", "CPU share", "CPU pressure"],
                [
                    [p["t"], p["budget"], p["live"], p["level"], p["cpu_share"], p.get("pressure")]
                    for p in result["budget_timeline"]
                ],
            )
        )
        print(
            table_markdown(
                ["mode", "fault", "camera", "detected (s)"],
                [[d["mode"], d["fault"], d["stream"], d["detected_s"]] for d in result["detections"]],
            )
        )
    for run in overload or []:
        print(table_markdown(["overload measure", "value"], [[k, v] for k, v in run.items() if k != "timeline"]))
        print(
            table_markdown(
                ["t (s)", "level", "loop lag (ms)", "CPU share", "live streams"],
                [[p["t"], p["level"], p["lag_ms"], p["cpu_share"], p["live"]] for p in run["timeline"]],
            )
        )
    if overload:
        print("false transitions per overload run:", [run["false_transitions"] for run in overload])
    path = RESULTS / "estate.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    key = "estate" if not result or result["substreams"] else "estate_no_substreams"
    out = {**previous, "machine": info}
    if result:
        out[key] = result
    if overload:
        out["overload"] = overload[-1]
        out["overload_runs"] = [{k: v for k, v in run.items() if k != "timeline"} for run in overload]
    write_results("estate", out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="auto")
    parser.add_argument("--steady", type=float, default=420.0)
    parser.add_argument("--period", type=float, default=300.0)
    parser.add_argument("--probe", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=48, help="patrol_concurrency (the estate config's)")
    parser.add_argument("--cold", action="store_true", help="start with an empty clip cache (first start)")
    parser.add_argument("--overload", type=float, default=0.0, help="only the overload run, at this many times the live capacity")
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--log-level", default="WARNING", help="the hub's (its log is kept in the run's temporary folder)")
    parser.add_argument("--sample", type=int, default=0, help="only about this many fixed cameras (smoke runs)")
    parser.add_argument("--hog", type=float, default=60.0, help="a CPU hog takes one core this long, halfway (0: none)")
    parser.add_argument("--no-substreams", action="store_true", help="cameras without substreams: health reads the main")
    parser.add_argument("--runs", type=int, default=1, help="overload runs (each reported)")
    args = parser.parse_args()
    if args.processes != "auto":
        args.processes = int(args.processes)
    if args.overload:
        report({}, [asyncio.run(overload_run(args)) for _ in range(args.runs)])
    else:
        report(asyncio.run(estate_run(args)), None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
