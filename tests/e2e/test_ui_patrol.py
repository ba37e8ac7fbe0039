"""The UI for an estate on patrol, in a real browser: how fresh each verdict is, and the overload banner."""

from __future__ import annotations

import asyncio
import re

import pytest
from support.browser import hub_page
from support.estates import SIM_ESTATE
from support.hubrun import PATROL_MODES, hub_config_text, running_hub

from hub.web.keys import INDEX, MONITOR

pytestmark = pytest.mark.chromium

PATROL = "[monitor]\npatrol_period_s = 30\nprobe_interval_s = 2\nlive_grace_s = 2\n" + PATROL_MODES


@pytest.fixture
async def patrol_ui(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(SIM_ESTATE, sim.rtsp, sim.control, monitor=PATROL))
    async with running_hub(path) as hub:
        async with hub_page(hub) as page:
            yield hub, page


async def test_the_popup_says_how_fresh_a_patrolled_verdict_is(patrol_ui):
    hub, page = patrol_ui
    await hub.wait_for("h264-720", "online", timeout=60)
    await page.wait_for_function("window.hubUI.record('h264-720')?.checked_at", timeout=15_000)
    await page.click("#stream-list li[data-stream-id='h264-720'] .name")
    freshness = page.locator(".leaflet-popup .freshness")
    await freshness.wait_for(timeout=90_000)  # generous: the suite's other files load the machine meanwhile
    text = await freshness.inner_text()
    pattern = r"on patrol \(configured patrol\) · picture checked (now|\d+ s ago)( · answered a probe (now|\d+ s ago))?"
    assert re.fullmatch(pattern, text), text


async def test_the_page_shows_the_hub_overloaded_and_recovered(patrol_ui):
    hub, page = patrol_ui
    banner = page.locator("#overload")
    index = hub.app[INDEX]
    # The page is under test, not this machine's load: the hub's own meter stops publishing (on a machine
    # busy with the rest of the suite it may stay overloaded for minutes), and the test says what it says.
    meter = hub.app[MONITOR]._meter_task
    meter.cancel()
    await asyncio.gather(meter, return_exceptions=True)
    calm = {"overloaded": False, "level": 0, "max_level": 6, "loop_lag_ms": 3.0, "cpu_share": 0.1}
    index.publish("hub", calm)
    await banner.wait_for(state="hidden", timeout=30_000)
    overloaded = {
        "overloaded": True,
        "level": 5,
        "max_level": 6,
        "loop_lag_ms": 412.0,
        "cpu_share": 0.97,
        "picture_interval_factor": 4.0,
        "patrol_concurrency_share": 0.25,
        "live_share": 0.75,
    }
    index.publish("hub", overloaded)  # what the load meter publishes when it raises the level
    await banner.wait_for(state="visible", timeout=10_000)
    text = await banner.inner_text()
    assert "Hub overloaded (level 5 of 6" in text and "4x less often" in text and "patrol at 25 %" in text
    assert "25 % of the live streams nobody watches on patrol" in text
    index.publish("hub", {**overloaded, "overloaded": False, "level": 0})
    await banner.wait_for(state="hidden", timeout=10_000)
