"""The picture checks on natural footage: the second set of `bench/diagnostics.py` (`--set natural`).

Photographs made into a camera's clips (`hub.sim.natural`: scikit-image's sample pictures through a lens,
light and a sensor), encoded as H.264 MP4 and served by GStreamer's RTSP server (gst-rtsp-server, run
by Debian's python3: a server the hub's authors did not write); a real `hub serve` reads them over RTSP,
default `[health]` settings with the clock pinned to day (as the simulator set).

Each batch is one strength (weak, default, strong) of every fault: the lens faults (defocus, a dirty
lens, fog) and the simulator's faults rendered on the photographs. Each fault runs on several scenes in
two ways:
- "after": the clip is clean for `onset` seconds (plus up to 20, per camera) and faulty from then on:
  the hub has learnt the camera first;
- "start": the clip is faulty from its first frame: the camera is added while already bad (no IR-cut or
  moved fault: both need a healthy picture to compare with).
Clean cameras run the whole time: every day and night scene, half of them with slow natural change
(the light rises and falls, a shadow crosses). A fault's moment is the stream's first time online plus
its clip's onset (each RTSP session plays its file from the start). At the end each "start" camera's
diagnosis says whether a baseline was learnt from its faulty pictures.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hubproc import HubProcess, free_port

from hub.sim import natural

GST_SERVER = Path(__file__).resolve().parent.parent / "tests" / "support" / "gst_rtsp_server.py"
NO_REFERENCE = ("ircut", "moved")  # need the camera's healthy picture to compare with: not from the start
GREY_SCENES = ("lawn", "wall", "gravel")  # grey by day: no colour to lose (IR cut)


def scenes_for(kind: str) -> list[str]:
    """The scenes a fault makes sense on: colour faults on colour day scenes, the rest on all."""
    if kind in ("ircut", "colorcast"):
        return [s for s in natural.DAY_SCENES if s not in GREY_SCENES or kind == "colorcast"]
    return [*natural.DAY_SCENES, *natural.NIGHT_SCENES]


def strengths(kind: str) -> tuple[float, float, float]:
    from diagnostics import STRENGTHS  # the simulator set's: the same faults at the same strengths

    return natural.STRENGTHS.get(kind) or STRENGTHS[kind]


def plan(strength_index: int, trials: int, onset_s: float, deadline_s: float, clean: int, kinds=natural.FAULTS) -> list[dict]:
    """The batch's cameras, each with its clip, and up to `clean` clean cameras (the first batch only: once
    is enough for their camera-hours, and the faulted cameras' clean minutes add more)."""
    cameras = []
    after_s = int(onset_s + 20 + deadline_s + 30)
    for kind in kinds:
        strength = strengths(kind)[strength_index]
        scenes = scenes_for(kind)
        for mode in ("after", "start"):
            if mode == "start" and kind in NO_REFERENCE:
                continue
            for trial in range(trials):
                scene = scenes[(trial + (mode == "start")) % len(scenes)]
                sid = f"n{kind}-{strength_index}-{mode}-{trial}"
                onset = onset_s + random.uniform(0, 20) if mode == "after" else 0.0
                clip = natural.ClipPlan(
                    scene, after_s if mode == "after" else int(deadline_s + 30), 4, kind, strength, round(onset), False, sid
                )
                cameras.append({"id": sid, "kind": kind, "strength": strength, "scene": scene, "mode": mode, "clip": clip})
    if clean:
        for n, scene in enumerate(([*natural.DAY_SCENES, *natural.NIGHT_SCENES] * 2)[:clean]):
            change = n % 2 == 1
            sid = f"nclean-{scene}-{n}"
            clip = natural.ClipPlan(scene, 240, 4, change=change, label=sid)  # 240 s: one period of the light; loops
            cameras.append({"id": sid, "kind": None, "scene": scene + ("+change" if change else ""), "clip": clip})
    return cameras


def encode_all(cameras: list[dict]) -> None:
    todo = [c["clip"] for c in cameras if not natural.path(c["clip"]).exists()]
    if todo:
        print(f"encoding {len(todo)} natural clips first", file=sys.stderr)
        with ProcessPoolExecutor() as pool:
            list(pool.map(natural.encode, todo))


@contextlib.contextmanager
def gst_server(cameras: list[dict]):
    """GStreamer's RTSP server on a free loopback port, one mount per camera; yields the port."""
    port = free_port()
    mounts = [f"/{c['id']}={natural.path(c['clip'])}" for c in cameras]
    process = subprocess.Popen(["/usr/bin/python3", str(GST_SERVER), str(port), *mounts], stdout=subprocess.PIPE, text=True)
    try:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the GStreamer RTSP server did not start ({process.poll()})")
        yield port
    finally:
        process.kill()
        process.wait()


def hub_config(cameras: list[dict], port: int) -> str:
    blocks = ["[hub]\ningest_processes = 2\n\n[health]\ndaylight_hours = [0, 24]\n"]
    for cam in cameras:
        blocks.append(
            f'[[streams]]\nid = "{cam["id"]}"\nname = "{cam["id"]} {cam["scene"]}"\ncategory = "public-security"\n'
            f'position = [31.775, 117.303]\nurl = "rtsp://127.0.0.1:{port}/{cam["id"]}"\nmode = "live"\n'
        )
    return "\n".join(blocks)


async def batch(strength_index: int, args, clean: int) -> list[dict]:
    from diagnostics import Reasons, judge

    kinds = args.kinds.split(",") if args.kinds else natural.FAULTS
    cameras = plan(strength_index, args.trials, args.onset, args.deadline, clean, kinds)
    encode_all(cameras)
    with gst_server(cameras) as port, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "hub.toml"
        config.write_text(hub_config(cameras, port))
        hub = HubProcess(config)
        try:
            reasons = Reasons()
            follower = asyncio.create_task(reasons.follow(hub))  # from the start: each stream's first time online
            await asyncio.to_thread(hub.wait_online, len(cameras) - 2)
            started = time.time()
            await asyncio.sleep(args.onset + 20 + args.deadline)
            ended = time.time()
            follower.cancel()
            onset = {}
            for cam in cameras:  # a camera never seen online has no fault moment: reported, not counted
                online = reasons.first_online.get(cam["id"])
                cam["online"] = online is not None
                if cam["kind"] and online is not None:
                    onset[cam["id"]] = online + cam["clip"].onset_s
                cam["learnt"] = hub.get(f"/api/streams/{cam['id']}/diagnosis")["baseline_ready"]["day"]
        finally:
            hub.stop()
    for cam in cameras:
        del cam["clip"]
    return judge(cameras, reasons, onset, started, ended, natural.FOUND_BY)


def run(args) -> list[dict]:
    """Every batch of the natural set: the cameras' outcomes (as the simulator set's, with `mode`)."""
    results = []
    for n, index in enumerate(int(s) for s in args.strengths.split(",")):
        results += asyncio.run(batch(index, args, clean=args.clean if n == 0 else 0))
    return results
