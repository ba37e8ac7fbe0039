"""The grid worker's phone page in Chromium, emulating a phone with its location granted: sign in, land on
/report, file a report with a photo from the phone's GPS, file one with no network (it waits on the phone
and goes once the network is back, once), and share one's position while on duty."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from playwright.async_api import async_playwright, expect
from support.browser import CHROMIUM
from support.estates import STREET, sim_for
from support.hubrun import TEST_PASSWORD, hub_config_text, provision, running_hub, until

pytestmark = pytest.mark.chromium

SPOT = (31.7705, 117.3012)
ESTATE = (
    f'[[streams]]\nid = "gate"\nname = "Gate"\ncategory = "public-security"\nsite = "North"\n'
    f'position = [{SPOT[0] - 0.0003}, {SPOT[1]}]\nurl = "{STREET}"\nheading = 0\nfov = 60\n'
)
sim = sim_for(ESTATE)


@pytest.fixture
async def hub(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(ESTATE, sim.rtsp, sim.control))
    async with running_hub(path) as running:
        provision(path, "grid-3", "reporter")
        await running.wait_for("gate", "online", timeout=60)
        yield running


def photo() -> bytes:
    ok, body = cv2.imencode(".jpg", np.full((600, 800, 3), (40, 90, 160), np.uint8))
    return body.tobytes()


async def incidents(hub) -> list[dict]:
    status, body = await hub.get_json("/api/incidents")
    assert status == 200
    return body["incidents"]


async def test_a_worker_files_reports_from_a_phone_online_and_offline(hub):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = await browser.new_context(
                **p.devices["Pixel 7"],
                geolocation={"latitude": SPOT[0], "longitude": SPOT[1], "accuracy": 8},
                permissions=["geolocation"],
            )
            page = await context.new_page()
            await page.goto(hub.url("/"))
            await page.wait_for_url("**/login")
            await page.fill("#user", "grid-3")
            await page.fill("#password", TEST_PASSWORD)
            await page.click("#sign-in")
            await page.wait_for_url("**/report")  # a reporter's only page
            await page.wait_for_selector("#report-place:has-text('your location')")
            await page.select_option("#report-kind", "fire")
            await page.check("input[name=severity][value='3']")
            await page.fill("#report-text", "smoke behind the bike shed")
            image = {"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": photo()}
            await page.set_input_files("#report-photos", files=[image])
            await page.click("#report-send")
            await page.wait_for_selector("#report-result:has-text('Sent:')", timeout=30_000)
            (made,) = await incidents(hub)
            assert (made["kind"], made["severity"], made["reporter"], made["photos"]) == ("fire", 3, "grid-3", 1)
            assert abs(made["position"][0] - SPOT[0]) < 1e-5 and abs(made["position"][1] - SPOT[1]) < 1e-5
            await page.wait_for_selector(f"#report-list li[data-id='{made['id']}']:has-text('sent')")
            # No network: the report waits on the phone, then goes once the network is back, once.
            await context.set_offline(True)
            await page.select_option("#report-kind", "dispute")
            await page.check("input[name=severity][value='2']")
            await page.fill("#report-text", "neighbours shouting at the gate")
            await page.click("#report-send")
            await page.wait_for_selector("#report-queued:has-text('1 report(s) waiting')")
            assert len(await incidents(hub)) == 1
            await context.set_offline(False)
            await page.wait_for_selector("#report-result:has-text('Sent:')", timeout=60_000)
            await expect(page.locator("#report-queued")).to_have_text("", timeout=30_000)
            kinds = sorted(i["kind"] for i in await until(lambda: _two(hub), 30, "the queued report arrived"))
            assert kinds == ["dispute", "fire"]
            # On duty: the position goes to the centre; off duty: it is gone.
            await page.check("#report-on-duty")
            staff = await until(lambda: _staff(hub), 30, "the worker's position reached the centre")
            assert staff["who"] == "grid-3" and not staff["stale"]
            await page.uncheck("#report-on-duty")
            await until(lambda: _no_staff(hub), 30, "the worker went off duty")
            assert await page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
        finally:
            await browser.close()


async def _two(hub):
    found = await incidents(hub)
    return found if len(found) == 2 else None


async def _staff(hub):
    status, body = await hub.get_json("/api/staff")
    return body["staff"][0] if body["staff"] else None


async def _no_staff(hub):
    status, body = await hub.get_json("/api/staff")
    return body["staff"] == []
