"""Screenshots of the map and the wall for the README, taken from the demo estate by the test tooling.

Run: .venv/bin/python scripts/screenshots.py
(needs Debian's chromium; writes docs/map.png, docs/map-clusters.png, docs/wall.png)
Starts the simulator and the hub on the default streams.toml (on free ports), waits until the hub reports
the demo's configured faults, then drives headless Chromium with Playwright and waits, before each shot,
until the page has loaded its streams and every wall tile plays or says why not (`window.hubUI.settled()`).
A bare `chromium --screenshot` captures the page before its data arrives; use this script (`make screenshots`).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from hubproc import HubProcess, sign_in  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

from hub.cli.demo import DEMO_CONFIG  # noqa: E402
from hub.sim.process import start_sim  # noqa: E402

WALL = ["ps-0001", "ps-0007", "ps-0015", "ps-0019", "pr-0006", "pr-0001", "cc-0001", "cc-0002", "vh-0001"]
DEMO_FAULTS = {
    "ps-0007": ("degraded", "frozen"),
    "ps-0015": ("degraded", "black"),
    "ps-0019": ("offline", "stalled"),
    "pr-0006": ("unauthorized", "auth_failed"),
}
SETTLED = "window.hubUI && window.hubUI.ready && window.hubUI.settled()"


async def shoot(hub: HubProcess, out: Path) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-background-networking", "--autoplay-policy=no-user-gesture-required"],
        )
        page = await browser.new_page(viewport={"width": 1280, "height": 720}, bypass_csp=True)
        await sign_in(page, hub.url(""))
        await page.wait_for_function(SETTLED, timeout=60_000)
        await page.screenshot(path=str(out / "map-clusters.png"))
        await page.uncheck("#cluster-toggle")
        await page.click(".leaflet-marker-pane [data-stream-id='pr-0003']")
        await page.wait_for_function("document.querySelector('.leaflet-popup img')?.naturalWidth > 0", timeout=20_000)
        await page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
        await page.screenshot(path=str(out / "map.png"))
        await page.click("#tab-wall")
        await page.select_option("#layout-size", "9")
        for stream_id in WALL:
            await page.click(f"#stream-list li[data-stream-id='{stream_id}'] button")
        await page.wait_for_function(SETTLED, timeout=60_000)
        await page.screenshot(path=str(out / "wall.png"))
        await browser.close()


def main() -> None:
    out = ROOT / "docs"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sim = start_sim(DEMO_CONFIG)
        hub = None
        try:
            config = Path(tmp) / "streams.toml"
            text = DEMO_CONFIG.read_text()
            text = text.replace('listen = "127.0.0.1:8554"', f'listen = "{sim.rtsp}"').replace(
                'control = "127.0.0.1:8555"', f'control = "{sim.control}"'
            )
            config.write_text(text)
            hub = HubProcess(config)
            hub.wait_online(30)
            for stream_id, (state, reason) in DEMO_FAULTS.items():  # the configured faults start up to 60 s in
                hub.wait_for(stream_id, state, reason, timeout=180)
            asyncio.run(shoot(hub, out))
        finally:
            if hub is not None:
                hub.stop()
            sim.stop()
    print(f"wrote {out / 'map.png'}, {out / 'map-clusters.png'} and {out / 'wall.png'}")


if __name__ == "__main__":
    main()
