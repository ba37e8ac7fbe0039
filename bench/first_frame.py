"""Time to first picture and first moving frame when an operator opens a camera on the wall, in Chromium.

Run: python bench/first_frame.py [--opens 50]
A simulator serves N H.264 cameras (640x360, 25 fps, keyframe every 2 s). The hub watches them either
on patrol (visited in turn, probed between: opening one makes it go live) or live all the time. Once
every camera has been checked, headless Chromium opens them one after the other on a one-tile wall,
each camera once, and the page measures from the moment the tile opens:
- `picture`: the hub's latest snapshot is shown (with its age) while the video starts;
- `status`: the hub's first status for the tile arrived;
- `motion`: the video's second frame was presented (requestVideoFrameCallback): the picture moves.
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
from common import bench_estate, header_markdown, machine, table_markdown, write_results  # noqa: E402
from hubproc import HubProcess, signed_in_page, sim_and_hub, sim_section  # noqa: E402

OPEN_TIMEOUT_S = 30.0
PAUSE_S = 1.0  # between opens: an operator clicks through cameras, not a script at full speed


def hub_config(sim, count: int, mode: str) -> str:
    monitor = "[monitor]\npatrol_period_s = 60\nprobe_interval_s = 30\n"
    return bench_estate(count, sim_section(sim) + monitor).replace('mode = "live"', f'mode = "{mode}"')


def wait_checked(hub: HubProcess, count: int, mode: str, timeout: float = 240.0) -> None:
    """Every camera visited (or live) once, so each has a latest picture to show."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        streams = hub.get("/api/streams")["streams"]
        ready = [s for s in streams if s["checked_at"] and s["watching"] == mode]
        if len(ready) >= count:
            return
        time.sleep(1)
    raise RuntimeError(f"only {len(ready)} of {count} cameras checked and {mode} after {timeout} s")


async def open_each(hub: HubProcess, count: int, mode: str) -> list[dict]:
    rows = []
    async with signed_in_page(hub, (1280, 800)) as page:
        await page.wait_for_function("window.hubUI && window.hubUI.ready")
        await page.click("#tab-wall")
        await page.select_option("#layout-size", "1")
        for i in range(count):
            sid = f"bench-{i:04d}"
            watching = hub.get(f"/api/streams/{sid}")["watching"]
            if watching != mode:
                raise RuntimeError(f"{sid} is watched {watching}, not {mode}, before it is opened")
            await page.click(f"#stream-list li[data-stream-id='{sid}'] button")
            await page.wait_for_function(
                f"(() => {{ const t = window.hubUI.tiles()[0]; return t.id === '{sid}' && t.firstMotionAfter !== null; }})()",
                timeout=OPEN_TIMEOUT_S * 1000,
            )
            tile = (await page.evaluate("window.hubUI.tiles()"))[0]
            rows.append(
                {
                    "id": sid,
                    "picture_s": tile["firstPictureAfter"],
                    "status_s": tile["firstStatusAfter"],
                    "motion_s": tile["firstMotionAfter"],
                }
            )
            print(rows[-1], flush=True)
            await asyncio.sleep(PAUSE_S)
    return rows


def percentiles(values: list[float]) -> dict:
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return {"p50": None, "p95": None, "max": None, "n": 0}
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 3), "p95": round(p95, 3), "max": round(ordered[-1], 3), "n": len(ordered)}


def run(mode: str, count: int) -> dict:
    sim_config = bench_estate(count)
    with sim_and_hub(sim_config, lambda sim: hub_config(sim, count, mode), 0) as (_, hub):
        wait_checked(hub, count, mode)
        rows = asyncio.run(open_each(hub, count, mode))
    summary = {key: percentiles([r[f"{key}_s"] for r in rows]) for key in ("picture", "status", "motion")}
    return {"mode": mode, "opens": len(rows), **summary, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opens", type=int, default=50, help="cameras, each opened once")
    parser.add_argument("--modes", nargs="+", default=["patrol", "live"], choices=["patrol", "live"])
    args = parser.parse_args()
    info = machine()
    results = {mode: run(mode, args.opens) for mode in args.modes}
    print(header_markdown(info))
    print()
    columns = ["watched", "opens", "picture p50 s", "picture p95 s", "motion p50 s", "motion p95 s", "motion max s"]
    table = [
        [m, r["opens"], r["picture"]["p50"], r["picture"]["p95"], r["motion"]["p50"], r["motion"]["p95"], r["motion"]["max"]]
        for m, r in results.items()
    ]
    print(table_markdown(columns, table))
    path = write_results("first_frame", {"machine": info, "pause_s": PAUSE_S, **results})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
