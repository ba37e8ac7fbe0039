"""The map with 2,000 markers in headless Chromium: load time and frame rate while zooming and panning.

Run: python bench/map_markers.py [--streams 2000]
The hub gets N streams pointing at a closed local port (no video needed: the map only needs records);
Chromium loads the UI, waits for every marker, then zooms and pans for a few seconds while counting
animation frames.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import header_markdown, machine, table_markdown, write_results  # noqa: E402
from hubproc import HubProcess, signed_in_page  # noqa: E402

CATEGORIES = ("public-security", "property", "childcare", "vehicle")

FRAME_COUNTER = """() => new Promise(resolve => {
  let frames = 0; const start = performance.now(); let worst = 0; let last = start;
  function tick(now) { frames++; worst = Math.max(worst, now - last); last = now;
    if (now - start < 4000) requestAnimationFrame(tick); else resolve([frames / ((now - start) / 1000), worst]); }
  requestAnimationFrame(tick);
})"""


def config(count: int) -> str:
    random.seed(3)
    blocks = []
    for i in range(count):
        lat, lon = 31.775 + random.uniform(-0.02, 0.02), 117.303 + random.uniform(-0.02, 0.02)
        blocks.append(
            f'[[streams]]\nid = "cam-{i:05d}"\nname = "Camera {i}"\ncategory = "{CATEGORIES[i % 4]}"\n'
            f'position = [{lat:.5f}, {lon:.5f}]\nurl = "rtsp://127.0.0.1:9/cam-{i}"\n'
        )
    return "\n".join(blocks)


async def measure(hub: HubProcess, count: int) -> dict:
    async with signed_in_page(hub) as page:  # then the page load is timed on its own
        started = time.monotonic()
        await page.goto(hub.url("/"))
        await page.wait_for_function(f"window.hubUI && window.hubUI.markerCount() === {count}", timeout=120_000)
        await page.wait_for_selector(".leaflet-marker-pane .cluster")
        loaded = time.monotonic() - started
        idle_fps, _ = await page.evaluate(FRAME_COUNTER)
        box = await page.locator("#map").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        counter = asyncio.ensure_future(page.evaluate(FRAME_COUNTER))
        for step in range(8):  # zoom in and out with the wheel, then drag the map around
            await page.mouse.move(cx, cy)
            await page.mouse.wheel(0, -300 if step < 4 else 300)
            await asyncio.sleep(0.25)
        await page.mouse.down()
        for k in range(20):
            await page.mouse.move(cx + 10 * k, cy + 5 * k)
            await asyncio.sleep(0.05)
        await page.mouse.up()
        moving_fps, worst_frame_ms = await counter
    return {
        "markers": count,
        "load_s": round(loaded, 1),
        "idle_fps": round(idle_fps, 1),
        "fps_while_zooming_and_panning": round(moving_fps, 1),
        "worst_frame_ms": round(worst_frame_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=2000)
    args = parser.parse_args()
    info = machine()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hub.toml"
        path.write_text(config(args.streams))
        hub = HubProcess(path)
        try:
            result = asyncio.run(measure(hub, args.streams))
        finally:
            hub.stop()
    print(header_markdown(info))
    print()
    print(table_markdown(list(result), [list(result.values())]))
    out = write_results("map_markers", {"machine": info, **result})
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
