"""Incidents on the operator's page in Chromium: markers by severity with their filters and counts, staff
on duty greyed once their fix is stale, the heat layer, and the wall that comes to a serious incident
(its nearest cameras, the sensitive one offered with the incident's id as the reason) and goes back to the
operator's own wall when the incident is acknowledged, across a reload of the page."""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import expect
from support.browser import hub_page
from support.estates import sim_for
from support.hubrun import hub_config_text, provision, running_hub, until
from support.incident_estate import ESTATE, SPOT

from hub.auth.rights import EVERY_CATEGORY

pytestmark = pytest.mark.chromium
sim = sim_for(ESTATE)

NEAR = ("gate-north", "lobby", "nursery", "shed")
TILES = "window.hubUI.tiles().map((t) => t.id)"


@pytest.fixture
async def hub(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(ESTATE, sim.rtsp, sim.control, extra="[incidents]\nposition_stale_s = 3\n"))
    async with running_hub(path) as running:
        provision(path, "duty", "operator", (("category", EVERY_CATEGORY), ("category", "childcare")))
        for stream_id in NEAR:
            await running.wait_for(stream_id, "online", timeout=60)
        yield running


async def report(worker: aiohttp.ClientSession, hub, kind: str, severity: int) -> str:
    body = {"kind": kind, "severity": severity, "lat": SPOT[0], "lon": SPOT[1], "text": f"{kind} by the gate"}
    async with worker.post(hub.url("/api/incidents"), json=body) as reply:
        assert reply.status == 201, await reply.text()
        return (await reply.json())["id"]


async def test_the_wall_comes_to_a_serious_incident_and_goes_back_when_acknowledged(hub):
    token = provision(hub.config_path, "grid-3", "reporter")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as worker:
        async with hub_page(hub, "duty") as page:
            # The operator's own wall: one camera far from what is coming.
            await page.click("#tab-wall")
            await page.click("#stream-list li[data-stream-id='far-gate'] button")
            await page.wait_for_function(f"{TILES}.join() === 'far-gate,,,'")
            await expect(page.locator("#incident-count")).to_have_text("(0 open)")

            # Severity 2: on the map and in the counts; the wall stays the operator's.
            dispute = await report(worker, hub, "dispute", 2)
            await expect(page.locator(f".leaflet-marker-icon[data-incident-id='{dispute}'] .incident.sev-2")).to_have_count(1)
            await expect(page.locator("#incident-counts [data-severity='2']")).to_have_text("1 × severity 2")
            assert await page.evaluate(f"{TILES}.join()") == "far-gate,,,"

            # Severity 3: the wall switches to its cameras, the one looking at the spot first; the childcare
            # camera is offered, not shown, and opening it suggests the incident's id as the reason.
            fire = await report(worker, hub, "fire", 3)
            await page.wait_for_function(f"window.hubUI.wallIncident() === '{fire}'", timeout=30_000)
            assert await page.evaluate(TILES) == ["gate-north", "lobby", "shed", None]
            banner = page.locator("#incident-alert")
            await expect(banner).to_contain_text(fire)
            await expect(banner).to_contain_text("its 3 nearest camera(s)")
            await expect(page.locator("#incident-queue li").first).to_have_attribute("data-incident-id", fire)
            await page.click("#incident-alert .open-offered[data-stream-id='nursery']")
            await until(lambda: page.dialog_defaults, 10, "the sensitive camera's reason asked for")
            assert page.dialog_defaults[-1] == f"incident {fire}"
            assert "nursery" not in await page.evaluate(TILES), "a dismissed reason opens nothing"

            # A reload mid-incident: the incident's wall again, and the operator's own wall still kept.
            await page.reload()
            await page.wait_for_function("window.hubUI && window.hubUI.ready", timeout=30_000)
            await page.wait_for_function(f"window.hubUI.wallIncident() === '{fire}'", timeout=30_000)
            assert await page.evaluate(TILES) == ["gate-north", "lobby", "shed", None]

            # A grid worker on duty: on the map with the age of the fix, greyed once stale (3 s here).
            async with worker.put(hub.url("/api/staff/position"), json={"lat": SPOT[0], "lon": SPOT[1] + 0.001}) as reply:
                assert reply.status == 200
            staff = page.locator(".leaflet-marker-icon[data-staff='grid-3']")
            await expect(staff).to_have_count(1, timeout=15_000)
            await expect(staff.locator(".staff.stale")).to_have_count(1, timeout=15_000)
            assert "grid-3: fix" in (await staff.get_attribute("title") or "")

            # Acknowledged from the banner: the operator's own wall comes back.
            await page.click("#incident-alert button.acknowledge")
            await page.wait_for_function(f"{TILES}.join() === 'far-gate,,,'", timeout=30_000)
            await expect(banner).to_be_hidden()
            assert await page.evaluate("window.hubUI.wallIncident()") is None
            await expect(page.locator(f"[data-incident-id='{fire}'] .incident.state-1")).to_have_count(1)
            status, acknowledged = await hub.get_json(f"/api/incidents/{fire}")
            assert status == 200 and acknowledged["state"] == "acknowledged"
            assert acknowledged["history"][-1]["by"] == "duty"

            # Filters: fires hidden and shown again; a resolved incident leaves the map.
            await page.click("#tab-map")
            await page.uncheck("#filter-incident-kinds input[data-incident-filter='fire']")
            await expect(page.locator(f".leaflet-marker-icon[data-incident-id='{fire}']")).to_have_count(0)
            await expect(page.locator(f".leaflet-marker-icon[data-incident-id='{dispute}']")).to_have_count(1)
            await page.check("#filter-incident-kinds input[data-incident-filter='fire']")
            await expect(page.locator(f".leaflet-marker-icon[data-incident-id='{fire}']")).to_have_count(1)
            for state in ("acknowledged", "resolved"):
                async with hub.session.patch(hub.url(f"/api/incidents/{dispute}"), json={"state": state}) as reply:
                    assert reply.status == 200, await reply.text()
            await expect(page.locator(f".leaflet-marker-icon[data-incident-id='{dispute}']")).to_have_count(0)
            await expect(page.locator("#incident-count")).to_have_text("(1 open)")

            # The heat of the last 30 days: both reports.
            await page.check("#heat-toggle")
            await expect(page.locator("canvas.leaflet-heatmap-layer")).to_have_count(1)
            assert await page.evaluate("window.hubUI.heatCount()") == 2
            await report(worker, hub, "traffic", 1)  # a new report joins the heat as it is drawn, once
            await page.wait_for_function("window.hubUI.heatCount() === 3", timeout=15_000)
            await expect(page.locator("#incident-count")).to_have_text("(2 open)")
            over_basemap = """() => Number(getComputedStyle(document.querySelector('canvas.leaflet-heatmap-layer')).zIndex)
                > Number(getComputedStyle(document.querySelector('.leaflet-overlay-pane svg')).zIndex)"""
            assert await page.evaluate(over_basemap), "drawn over the offline basemap, not hidden under it"
