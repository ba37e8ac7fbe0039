"""Picture diagnostics, measured: recall, false alarms and time to detect of every check, and their cost.

Run: python bench/diagnostics.py                  (every fault kind at three strengths, 10 trials each)
     python bench/diagnostics.py --cost-only      (only the cost: about 25 minutes)
     python bench/diagnostics.py --smoke          (a few trials, for CI)
     python bench/diagnostics.py --set natural    (natural footage served by GStreamer: about 40 minutes
                                                   with --trials 6 --deadline 180; `natural_set.py`)

Accuracy: a real simulator and a real `hub serve` (two processes), default `[health]` settings, except
that the clock is pinned to daytime (`daylight_hours = [0, 24]`) so that an IR-cut fault (grey by day)
can be judged at any hour. Each batch runs one strength of every fault kind: 10 cameras per kind, each
on a different scene and label (its own clip), with the fault configured in the simulator to start
after the hub has learnt the camera (`@Ns`; the moment it starts is read from the simulator's control
API), plus clean cameras of all ten scenes that run the whole time. From the hub's event stream:
- detected: the fault's check among the stream's reasons before the deadline; missed otherwise;
- confused: another picture check reported on a faulted camera (a wrong diagnosis, counted per check);
- false alarm: any picture check reported on a camera while it was clean (clean cameras, and trial
  cameras before their fault), per 1,000 camera-hours.
The test-card scene (`bars`) runs clean only: it is not a camera's view.

Cost: a hub over N clean live cameras with picture checks off (`picture_checks = []`) and at the
defaults, in rounds of off, on, on, off (a shared machine's speed drifts; mirrored order cancels a
steady drift); the difference of the means of the hub process's CPU, per stream, as a share of one core. That
difference is at the mercy of the machine's drift between runs (a spread of 1-3 % of a core, the cost
of 60 streams' checks being about 3 %), so the headline figure is measured side by side: one hub whose
cameras alternate checked and unchecked, the checked ones' reader threads against the others' in the
same seconds, plus the measurer thread, plus the event loop's part of the off/on runs. And the same
measured piece by piece on decoded frames (what the measurer and the event loop each spend).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import header_markdown, machine, measure_process, table_markdown, write_results  # noqa: E402
from hubproc import HubProcess, sim_and_hub, sim_section  # noqa: E402

from hub.diagnostics.settings import PICTURE_CHECKS, SamplingSettings  # noqa: E402
from hub.sim.picture_faults import FOUND_BY as CHECK_OF  # noqa: E402

STRENGTHS = {  # weak, default, strong
    "blur": (1.5, 3, 6),
    "dark": (5, 10, 20),
    "overexposed": (3, 5, 8),
    "lowcontrast": (0.4, 0.25, 0.1),
    "cover": (0.75, 1.0, 1.0),
    "moved": (5, 15, 30),
    "colorcast": (30, 60, 120),
    "ircut": (1, 1, 1),
    "noise": (6, 12, 24),
    "stripes": (12, 25, 50),
    "mosaic": (8, 16, 32),
}
CAMERA_SCENES = ("street", "gate", "room", "road", "night", "rain", "office", "traffic", "clock")
ALL_SCENES = (*CAMERA_SCENES, "bars")
NOT_ON = {"ircut": ("night",), "colorcast": ("night",)}  # an IR picture has no colour to lose or to tint
SIZE = "size=640x360&fps=10&codec=h264"


def camera(stream_id: str, scene: str, fault: str = "") -> str:
    lines = [
        "[[streams]]",
        f'id = "{stream_id}"',
        f'name = "{stream_id} {scene}"',
        'category = "public-security"',
        "position = [31.775, 117.303]",
        f'url = "sim://{scene}?{SIZE}"',
        'mode = "live"',
    ]
    return "\n".join(lines + ([f'fault = "{fault}"'] if fault else [])) + "\n"


def plan(strength_index: int, trials: int, kinds: list[str], clean: int, onset_s: float) -> tuple[list[dict], str]:
    """The batch's cameras: trials per kind on scenes in turn, and clean cameras; returns (cameras, sim config)."""
    cameras, blocks = [], []
    for kind in kinds:
        scenes = [s for s in CAMERA_SCENES if s not in NOT_ON.get(kind, ())]
        strength = STRENGTHS[kind][strength_index]
        for trial in range(trials):
            sid = f"{kind}-{strength_index}-{trial:02d}"
            delay = onset_s + random.uniform(0, 20)
            fault = f"{kind}:{strength:g}@{delay:.0f}s"
            cameras.append({"id": sid, "kind": kind, "strength": strength, "scene": scenes[trial % len(scenes)], "fault": fault})
            blocks.append(camera(sid, scenes[trial % len(scenes)], fault))
    for n in range(clean):
        sid = f"clean-{strength_index}-{n:02d}"
        cameras.append({"id": sid, "kind": None, "scene": ALL_SCENES[n % len(ALL_SCENES)]})
        blocks.append(camera(sid, ALL_SCENES[n % len(ALL_SCENES)]))
    return cameras, "\n".join(blocks)


class Reasons:
    """Follows the hub's event stream: every stream's reasons over time, and when it was first online."""

    def __init__(self) -> None:
        self.history: dict[str, list[tuple[float, tuple[str, ...]]]] = {}
        self.first_online: dict[str, float] = {}

    async def follow(self, hub: HubProcess) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None), headers=hub.headers) as session:
            async with session.get(hub.url("/api/events")) as response:
                async for raw in response.content:
                    line = raw.decode().strip()
                    if line.startswith("data: ") and '"reasons"' in line:
                        data = json.loads(line[6:])
                        self.history.setdefault(data["id"], []).append((time.time(), tuple(data["reasons"])))
                        if data.get("state") == "online":
                            self.first_online.setdefault(data["id"], time.time())


def encode_variants(estate: str) -> None:
    """Encode every fault's clip before the run, as the simulator would when the fault starts: a hundred
    clips encoded at that moment would delay the faults by minutes and load the machine meanwhile."""
    from concurrent.futures import ProcessPoolExecutor

    from hub.config import parse_config
    from hub.sim import clips
    from hub.sim.camera import variant_for

    specs = []
    for stream in parse_config(estate).streams:
        sim = stream.sim
        for variant in {clips.NORMAL, variant_for(stream.fault) or clips.NORMAL}:
            spec = clips.ClipSpec(sim.scene, sim.width, sim.height, sim.fps, sim.codec, stream.name, variant)
            if not clips.is_cached(spec):
                specs.append(spec)
    if specs:
        print(f"encoding {len(specs)} clips first", file=sys.stderr)
        with ProcessPoolExecutor() as pool:
            list(pool.map(clips.encode_clip, specs))


async def onsets(sim, ids: list[str], until: float) -> dict[str, float]:
    """When each configured fault became active, from the simulator's control API (polled)."""
    seen: dict[str, float] = {}
    while time.time() < until and len(seen) < len(ids):
        status, body = await asyncio.to_thread(sim.control_call, "GET", "/faults")
        now = time.time()
        for sid, fault in body["faults"].items():
            if fault.get("active") and sid not in seen:
                seen[sid] = now
        await asyncio.sleep(0.25)
    return seen


def judge(
    cameras: list[dict], reasons: Reasons, onset: dict[str, float], started: float, ended: float, check_of: dict = CHECK_OF
) -> list[dict]:
    """Each camera's outcome: detection time, wrong diagnoses, false alarms while clean, clean seconds."""
    out = []
    for cam in cameras:
        history = reasons.history.get(cam["id"], [])
        fault_at = onset.get(cam["id"]) if cam["kind"] else None
        clean_until = fault_at or ended
        picture = lambda rs: {r for r in rs if r in PICTURE_CHECKS}  # noqa: E731
        false_alarms = sorted({r for at, rs in history if at < clean_until for r in picture(rs)})
        result = {**cam, "clean_s": max(0.0, clean_until - started), "false_alarms": false_alarms}
        if cam["kind"]:
            result["started"] = fault_at is not None  # a fault that never started is reported, not counted
        if fault_at is not None:
            expected = check_of[cam["kind"]]
            hits = [at for at, rs in history if at >= fault_at and expected in rs]
            result["detect_s"] = (hits[0] - fault_at) if hits else None
            result["confused"] = sorted({r for at, rs in history if at >= fault_at for r in picture(rs)} - {expected})
        out.append(result)
    return out


async def batch(strength_index: int, args) -> list[dict]:
    kinds = args.kinds.split(",") if args.kinds else list(CHECK_OF)
    cameras, estate = plan(strength_index, args.trials, kinds, args.clean, args.onset)
    encode_variants(estate)
    health = "[health]\ndaylight_hours = [0, 24]\n"
    with sim_and_hub(estate, lambda sim: sim_section(sim) + "[hub]\ningest_processes = 2\n" + health + estate, len(cameras)) as (
        sim,
        hub,
    ):
        started = time.time()
        reasons = Reasons()
        follower = asyncio.create_task(reasons.follow(hub))
        faulted = [c["id"] for c in cameras if c["kind"]]
        ends = started + args.onset + 20 + args.deadline  # the last fault starts by onset + 20 s
        onset = await onsets(sim, faulted, ends)
        await asyncio.sleep(max(0.0, ends - time.time()))
        ended = time.time()
        follower.cancel()
    return judge(cameras, reasons, onset, started, ended)


def summarise(results: list[dict], strengths=None, check_of: dict = CHECK_OF) -> tuple[list[list], dict]:
    """Per fault, strength and (natural set) mode: trials, detected, recall, detection times, confusions.
    `strengths(kind)` gives (weak, default, strong)."""
    strengths = strengths or STRENGTHS.__getitem__
    rows, summary = [], {}
    trials = [r for r in results if r["kind"] and r["started"]]
    for kind in check_of:
        for strength in sorted({r["strength"] for r in trials if r["kind"] == kind}, key=lambda s: strengths(kind).index(s)):
            for mode in sorted({r.get("mode", "") for r in trials if r["kind"] == kind}):
                mine = [r for r in trials if r["kind"] == kind and r["strength"] == strength and r.get("mode", "") == mode]
                hits = [r["detect_s"] for r in mine if r["detect_s"] is not None]
                confused = sorted({c for r in mine for c in r["confused"]})
                default = strength == strengths(kind)[1]
                recall = len(hits) / len(mine)
                learnt = sum(1 for r in mine if r.get("learnt"))
                rows.append(
                    [
                        kind,
                        f"{strength:g}" + (" (default)" if default else ""),
                        *([mode] if mode else []),
                        check_of[kind],
                        len(mine),
                        len(hits),
                        len(mine) - len(hits),
                        f"{recall:.2f}",
                        f"{statistics.median(hits):.0f}" if hits else "-",
                        f"{max(hits):.0f}" if hits else "-",
                        ", ".join(confused) or "-",
                        *([str(learnt) if mode == "start" else "-"] if mode else []),
                    ]
                )
                summary[f"{kind}:{strength:g}" + (f"/{mode}" if mode else "")] = {
                    "check": check_of[kind],
                    "mode": mode or "after",
                    "trials": len(mine),
                    "detected": len(hits),
                    "recall": recall,
                    "default": default,
                    "median_detect_s": statistics.median(hits) if hits else None,
                    "worst_detect_s": max(hits) if hits else None,
                    "confused": confused,
                    "baselines_learnt_from_the_fault": learnt if mode == "start" else None,
                }
    return rows, summary


def false_alarm_rows(results: list[dict]) -> tuple[list[list], dict]:
    hours = sum(r["clean_s"] for r in results) / 3600
    alarms = {check: sum(1 for r in results if check in r["false_alarms"]) for check in PICTURE_CHECKS}
    by_scene = {}
    for r in results:
        by_scene.setdefault(r["scene"], 0.0)
        by_scene[r["scene"]] += r["clean_s"] / 3600
    rows = [[check, alarms[check], f"{1000 * alarms[check] / hours:.1f}" if hours else "-"] for check in PICTURE_CHECKS]
    return rows, {"clean_camera_hours": hours, "by_scene_hours": by_scene, "false_alarms": alarms}


def component_cost(rounds: int = 5) -> dict:
    """Microseconds per sampled picture of each part, on decoded 640x360 frames of the simulator's scenes:
    the least of `rounds` rounds (a shared virtual machine's speed wanders; the least is the work itself)."""
    runs = [_component_cost() for _ in range(rounds)]
    return {key: min(run[key] for run in runs) for key in runs[0]} | {
        "median_" + key: statistics.median(run[key] for run in runs) for key in runs[0]
    }


def _component_cost() -> dict:
    import cv2

    from hub.diagnostics.checks import Fine
    from hub.diagnostics.diagnosis import Diagnosis
    from hub.diagnostics.moved import Features
    from hub.diagnostics.sampling import Sampler
    from hub.diagnostics.settings import SamplingSettings
    from hub.sim import scenes

    cv2.setNumThreads(1)  # as in the hub's reader threads: many of them, one core each at most
    frames = []
    for scene in ALL_SCENES:
        yuv = cv2.cvtColor(scenes.draw(scene, scenes.FrameSpec(7, 640, 360, 25, "Cam")), cv2.COLOR_BGR2YUV_I420)
        luma = yuv[:360]
        frames.append(
            (
                cv2.resize(luma, (160, 90), interpolation=cv2.INTER_AREA),
                yuv[360:450].reshape(180, 320),
                yuv[450:].reshape(180, 320),
                luma,
            )
        )

    def timed(job, runs=300) -> float:
        job()
        start = time.perf_counter()
        for i in range(runs):
            job(i)
        return (time.perf_counter() - start) / runs * 1e6

    thumb_only = Sampler(SamplingSettings(True, 1e12, 1e12, every_s=0.0))  # every call measures
    thumb_only.take(*frames[0], 0.0)
    costs = {
        "thumbnail_measures_us": timed(lambda i=0: thumb_only.take(*frames[i % len(frames)], 1.0)),
        "full_frame_measures_us": timed(lambda i=0: Fine.of(frames[i % len(frames)][3])),
        "orb_features_us": timed(lambda i=0: Features.of(frames[i % len(frames)][3]), 60),
    }
    diagnosis, sampler = Diagnosis(), Sampler(SamplingSettings())
    samples = [s for s in (sampler.take(*frames[i % len(frames)], 2.0 * i) for i in range(80)) if s is not None]
    thumb = cv2.resize(frames[0][0], (64, 36), interpolation=cv2.INTER_AREA)
    # The reader's one resize of the frame to 160x90 replaces the one it made to 64x36 before: not counted.

    def observe(i=0):
        diagnosis.observe(thumb, samples[i % len(samples)], 2.0 * i, True)

    costs["hub_side_per_picture_us"] = timed(observe, 400)
    return costs


def cost_share(
    costs: dict, picture_s: float = SamplingSettings().every_s, full_s: float = 10.0, features_s: float = 60.0
) -> float:
    """Share of one core per live stream at the default cadence, from the component costs. The full-frame
    measures ride on a measured picture: at the first one `full_s` after the last (every 12 s at 4 s)."""
    full_s = picture_s * math.ceil(0.95 * full_s / picture_s)
    per_second = (
        costs["thumbnail_measures_us"] / picture_s
        + costs["full_frame_measures_us"] / full_s
        + costs["orb_features_us"] / features_s
        + costs["hub_side_per_picture_us"] / picture_s
    )
    return per_second / 1e6


def cost_camera(stream_id: str, scene: str) -> str:
    """A clean camera for the cost runs: as the trials' cameras, at a live camera's 25 fps."""
    return camera(stream_id, scene).replace("fps=10", "fps=25")


COST_ORDER = ("off", "on", "on", "off")  # a round: each setting twice, in mirrored order, so drift cancels


def process_cost(streams: int, warmup: float, window: float, rounds: int = 2) -> dict:
    """The hub's CPU with the picture checks off and on, over the same clean cameras: `rounds` rounds of
    off, on, on, off (a fresh simulator and hub each time); the added cost is the difference of the means."""
    estate = "".join(cost_camera(f"cost-{n:03d}", ALL_SCENES[n % len(ALL_SCENES)]) for n in range(streams))
    encode_variants(estate)
    settings = {"off": "[health]\npicture_checks = []\n", "on": ""}
    runs: dict[str, list[float]] = {"off": [], "on": []}
    threads: dict[str, list[dict]] = {"off": [], "on": []}
    for label in COST_ORDER * rounds:
        with sim_and_hub(estate, lambda sim, h=settings[label]: sim_section(sim) + h + estate, streams) as (_sim, hub):
            time.sleep(warmup)
            measured = measure_process(hub.pid, window)
            runs[label].append(measured["cpu_percent"])
            threads[label].append(measured["threads_cpu_percent"])
        print(f"process cost: checks {label}: {runs[label][-1]:.1f} % of a core; threads {threads[label][-1]}", file=sys.stderr)
    off, on = statistics.mean(runs["off"]), statistics.mean(runs["on"])
    spread = statistics.stdev(runs["off"] + [x - on + off for x in runs["on"]]) if len(runs["off"]) > 1 else 0.0
    # The measurer thread does all the measuring; the loop's part (judging) is the component bench's
    # hub_side_per_picture_us. Unlike the A/B difference, this is not drowned by the runs' spread.
    measurer = statistics.mean(t.get("measurer", 0.0) for t in threads["on"])
    return {
        "off": off,
        "on": on,
        "runs": runs,
        "streams": streams,
        "spread_percent": spread,
        "threads": threads,
        "added_percent_of_a_core_per_stream": (on - off) / streams,
        "measurer_percent_of_a_core": measurer,
        "measurer_percent_of_a_core_per_stream": measurer / streams,
    }


def paired_cost(streams: int, warmup: float, window: float, runs: int = 2) -> dict:
    """The checks' cost per checked stream, measured side by side: one hub over N clean live cameras, every
    other one with its picture checks off (`health = { picture_checks = [] }`), so that both halves share
    the same seconds of the same machine (whose speed wanders by more than the cost between separate runs);
    alternating in the config, so that neither half is favoured by its start order (the first cameras
    started cost measurably more, checked or not). Their reader threads are told apart by name
    (`ingest-on-…`, `ingest-off-…`); the measurer thread works for the checked half only. The event loop
    serves both halves: its part comes from the off/on runs of `process_cost`."""
    half = streams // 2
    blocks = []
    for n in range(half):
        scene = ALL_SCENES[n % len(ALL_SCENES)]
        blocks.append(cost_camera(f"on-{n:03d}", scene))
        blocks.append(cost_camera(f"off-{n:03d}", scene) + "health = { picture_checks = [] }\n")
    estate = "".join(blocks)
    encode_variants(estate)

    def kind(name: str) -> str:  # ingest-on-007-1, ingest-off-007 (cut at 15 characters), measurer, python
        return "-".join(name.split("-")[:2]) if name.startswith("ingest-") else name.split("-")[0]

    readers, measurer = [], []
    for _ in range(runs):
        with sim_and_hub(estate, lambda sim: sim_section(sim) + estate, streams) as (_sim, hub):
            time.sleep(warmup)
            threads = measure_process(hub.pid, window, kind)["threads_cpu_percent"]
        readers.append((threads.get("ingest-on", 0.0) - threads.get("ingest-off", 0.0)) / half)
        measurer.append(threads.get("measurer", 0.0) / half)
        print(
            f"paired cost: readers of checked streams +{readers[-1]:.4f} %, measurer {measurer[-1]:.4f} % per stream; "
            f"threads {threads}",
            file=sys.stderr,
        )
    return {
        "streams": streams,
        "runs": runs,
        "readers_percent_per_stream": readers,
        "measurer_percent_per_stream": measurer,
        "readers": statistics.mean(readers),
        "measurer": statistics.mean(measurer),
    }


def total_cost(processes: dict, paired: dict) -> dict:
    """Per checked stream, % of a core: measurer and readers side by side, and the event loop's share
    of the off/on difference (its thread is `python`, the process's main thread)."""
    threads = processes["threads"]
    loop = (
        statistics.mean(t.get("python", 0.0) for t in threads["on"])
        - statistics.mean(t.get("python", 0.0) for t in threads["off"])
    ) / processes["streams"]
    return {
        "measurer": paired["measurer"],
        "readers": paired["readers"],
        "event_loop": loop,
        "total": paired["measurer"] + paired["readers"] + loop,
    }


def total_cost_line(total: dict) -> str:
    return (
        f"Checks' cost per live stream: **{total['total']:.3f} % of a core** = measurer thread {total['measurer']:.3f} "
        f"+ reader threads {total['readers']:.3f} (side by side in one hub) + event loop {total['event_loop']:.3f} (off/on runs)"
    )


def process_cost_line(processes: dict) -> str:
    runs = processes["runs"]
    return (
        f"Hub process, {processes['streams']} clean live cameras at 25 fps, {len(runs['off'])} runs each: checks off "
        f"{processes['off']:.1f} % ({', '.join(f'{x:.1f}' for x in runs['off'])}), on {processes['on']:.1f} % "
        f"({', '.join(f'{x:.1f}' for x in runs['on'])}) of a core: {processes['added_percent_of_a_core_per_stream']:.3f} % "
        f"per stream (runs spread {processes['spread_percent']:.1f} % of a core); the measurer thread "
        f"{processes['measurer_percent_of_a_core']:.2f} % of a core: "
        f"{processes['measurer_percent_of_a_core_per_stream']:.3f} % per stream"
    )


def cost_only(args) -> None:
    """The cost alone: component costs and the process A/B (the accuracy runs take half an hour)."""
    info = machine()
    costs = component_cost()
    share = cost_share(costs)
    processes = process_cost(args.cost_streams, 30, 60, args.cost_rounds)
    paired = paired_cost(args.cost_streams, 30, 60)
    total = total_cost(processes, paired)
    print(header_markdown(info))
    print(f"\nComponents: {100 * share:.3f} % of a core per stream; " + ", ".join(f"{k} {v:.0f}" for k, v in costs.items()))
    print(process_cost_line(processes))
    print(total_cost_line(total))
    path = write_results(
        "diagnostics_cost",
        {
            "machine": info,
            "args": vars(args),
            "component_cost_us": costs,
            "cost_share_of_a_core": share,
            "process_cost": processes,
            "paired_cost": paired,
            "cost_per_stream": total,
        },
    )
    print(f"\nwritten to {path}")


def natural_main(args) -> None:
    """The natural set (`natural_set.py`): results in diagnostics_natural.json."""
    import natural_set

    if args.smoke:
        args.trials, args.clean, args.onset, args.deadline, args.strengths, args.kinds = 1, 2, 10, 40, "1", "defocus,cover"
    random.seed(11)
    info = machine()
    results = natural_set.run(args)
    rows, summary = summarise(results, natural_set.strengths, natural_set.natural.FOUND_BY)
    alarm_rows, alarms = false_alarm_rows(results)
    print(header_markdown(info))
    print()
    heads = ["fault", "strength", "from", "check", "trials", "detected", "missed", "recall", "detect median s", "detect worst s"]
    print(table_markdown([*heads, "also reported", "baseline learnt from the fault"], rows))
    print()
    never = [r["id"] for r in results if r["kind"] and not r["started"]]
    if never:
        print(f"Cameras never seen online (not counted): {', '.join(never)}\n")
    print(f"Clean camera time: {alarms['clean_camera_hours']:.2f} camera-hours over {len(alarms['by_scene_hours'])} scenes")
    print(table_markdown(["check", "false alarms", "per 1,000 camera-hours"], alarm_rows))
    path = write_results(
        "diagnostics_natural",
        {"machine": info, "args": vars(args), "trials": summary, "false_alarms": alarms, "cameras": results},
        args.smoke,
    )
    print(f"\nwritten to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--clean", type=int, default=40, help="clean cameras per batch")
    parser.add_argument("--onset", type=float, default=120.0, help="seconds before faults start (the hub learns meanwhile)")
    parser.add_argument("--deadline", type=float, default=240.0, help="seconds a fault has to be detected")
    parser.add_argument("--strengths", default="0,1,2", help="0 weak, 1 default, 2 strong")
    parser.add_argument("--kinds", default="", help="comma-separated fault kinds (default: all)")
    parser.add_argument("--cost-streams", type=int, default=60)
    parser.add_argument("--cost-rounds", type=int, default=2, help="rounds of off, on, on, off for the process cost")
    parser.add_argument("--cost-only", action="store_true", help="only the cost (results in diagnostics_cost.json)")
    parser.add_argument("--smoke", action="store_true", help="a few quick trials of the absolute checks (CI)")
    parser.add_argument(
        "--set", default="simulator", choices=("simulator", "natural"), help="the simulator's scenes, or natural footage"
    )
    args = parser.parse_args()
    if args.set == "natural":
        natural_main(args)
        return
    if args.cost_only:
        cost_only(args)
        return
    if args.smoke:
        args.trials, args.clean, args.onset, args.deadline, args.strengths, args.kinds = 1, 2, 10, 60, "1", "cover,dark"
        args.cost_streams = 0
    random.seed(11)
    info = machine()
    results = []
    for index in (int(s) for s in args.strengths.split(",")):
        results += asyncio.run(batch(index, args))
    write_results(
        "diagnostics", {"machine": info, "args": vars(args), "cameras": results}, args.smoke
    )  # kept if what follows fails
    rows, summary = summarise(results)
    alarm_rows, alarms = false_alarm_rows(results)
    costs = component_cost()
    share = cost_share(costs)
    processes = process_cost(args.cost_streams, 30, 60, args.cost_rounds) if args.cost_streams else None
    paired = paired_cost(args.cost_streams, 30, 60) if args.cost_streams else None
    total = total_cost(processes, paired) if processes and paired else None
    print(header_markdown(info))
    print()
    print(
        table_markdown(
            [
                "fault",
                "strength",
                "check",
                "trials",
                "detected",
                "missed",
                "recall",
                "detect median s",
                "detect worst s",
                "also reported",
            ],
            rows,
        )
    )
    print()
    never = [r["id"] for r in results if r["kind"] and not r["started"]]
    if never:
        print(f"Faults that never started (not counted): {', '.join(never)}\n")
    print(f"Clean camera time: {alarms['clean_camera_hours']:.2f} camera-hours over {len(alarms['by_scene_hours'])} scenes")
    print()
    print(table_markdown(["check", "false alarms", "per 1,000 camera-hours"], alarm_rows))
    print()
    print(
        f"Cost per live stream at the defaults (a measured picture every {SamplingSettings().every_s:g} s, "
        "noise and stripes every 10 s, ORB every 60 s), µs: "
        + ", ".join(f"{k} {v:.0f}" for k, v in costs.items())
        + f" -> {100 * share:.3f} % of a core"
        + f" (medians: {100 * cost_share({k[7:]: v for k, v in costs.items() if k.startswith('median_')}):.3f} %)"
    )
    if processes:
        print(process_cost_line(processes))
    if total:
        print(total_cost_line(total))
    path = write_results(
        "diagnostics",
        {
            "machine": info,
            "args": vars(args),
            "trials": summary,
            "false_alarms": alarms,
            "component_cost_us": costs,
            "cost_share_of_a_core": share,
            "process_cost": processes,
            "paired_cost": paired,
            "cost_per_stream": total,
            "cameras": results,
        },
        args.smoke,
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
