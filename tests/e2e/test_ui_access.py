"""Signing in and what each person sees, in a real browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import async_playwright
from support.browser import CHROMIUM, sign_in
from support.estates import SIM_ESTATE
from support.hubrun import TEST_PASSWORD, hub_config_text, provision, running_hub

from hub.auth import passwords
from hub.auth.users import UserStore, users_db_for

pytestmark = pytest.mark.chromium

NURSERY = "h264-360"  # served by the simulator as a street camera; this hub files it as childcare


@pytest.fixture
async def ui_hub(sim, tmp_path):
    path = tmp_path / "hub.toml"
    estate = SIM_ESTATE.replace(
        f'id = "{NURSERY}"\nname = "Test camera"\ncategory = "public-security"',
        f'id = "{NURSERY}"\nname = "Nursery room"\ncategory = "childcare"',
    )
    assert "Nursery room" in estate
    path.write_text(hub_config_text(estate, sim.rtsp, sim.control))
    async with running_hub(path) as hub:
        provision(path, "vera", "viewer", (("stream", "h264-720"), ("stream", "h265-360")))
        yield hub


@pytest.fixture
async def browser_page():
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
            yield page
        finally:
            await browser.close()


async def test_a_person_signs_in_sees_a_wrong_password_said_plainly_and_signs_out(ui_hub, browser_page):
    page = browser_page
    await page.goto(ui_hub.url("/"))
    await page.wait_for_url("**/login")
    await page.fill("#user", "tester")
    await page.fill("#password", "not my password")
    await page.click("#sign-in")
    await page.wait_for_function("document.getElementById('login-error').textContent !== ''")
    assert await page.inner_text("#login-error") == "wrong user name or password"
    await page.fill("#password", TEST_PASSWORD)
    await page.click("#sign-in")
    await page.wait_for_function("window.hubUI && window.hubUI.ready", timeout=30_000)
    assert await page.inner_text("#who") == "tester (admin)"
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "hub_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert await page.evaluate("document.cookie") == "", "the page's scripts cannot read the session"
    await page.click("#sign-out")
    await page.wait_for_url("**/login")
    await page.goto(ui_hub.url("/"))
    await page.wait_for_url("**/login")


async def test_a_sensitive_camera_opens_on_the_wall_only_with_a_reason(ui_hub, browser_page):
    page = browser_page
    await ui_hub.wait_for(NURSERY, "online", timeout=60)
    await sign_in(page, ui_hub)
    await page.wait_for_function("window.hubUI && window.hubUI.ready", timeout=30_000)
    reason = "checking the window latch after a report"
    prompts = []

    async def answer(dialog):
        prompts.append(dialog.message)
        await dialog.accept(reason)

    page.on("dialog", lambda d: asyncio.ensure_future(answer(d)))
    await page.click(f"#stream-list li[data-stream-id='{NURSERY}'] button")
    tile = page.locator(f"#wall .tile[data-stream-id='{NURSERY}']")
    await tile.locator(".open-sensitive").wait_for()
    assert await tile.locator("video, img").count() == 0, "no picture before a reason is given"
    await tile.locator(".open-sensitive").click()
    await tile.locator("video, img").first.wait_for(timeout=30_000)
    assert prompts and "Nursery room" in prompts[0]
    status, body = await ui_hub.get_json(f"/api/audit?stream={NURSERY}&action=open_sensitive")
    assert status == 200 and body["entries"][0]["detail"]["reason"] == reason and body["entries"][0]["who"] == "tester"


async def test_a_viewer_sees_only_the_cameras_granted_and_cannot_arrange_walls(ui_hub, browser_page):
    page = browser_page
    await sign_in(page, ui_hub, "vera")
    await page.wait_for_function("window.hubUI && window.hubUI.ready", timeout=30_000)
    listed = await page.eval_on_selector_all("#stream-list li[data-stream-id]", "items => items.map(i => i.dataset.streamId)")
    assert sorted(listed) == ["h264-720", "h265-360"]
    assert await page.inner_text("#who") == "vera (viewer)"
    assert not await page.is_visible("#layout-save") and not await page.is_visible("#layout-delete")
    await page.uncheck("#cluster-toggle")
    assert await page.locator(".leaflet-marker-pane [data-stream-id]").count() == 2


async def test_rights_taken_away_empty_the_tile_and_a_changed_password_signs_the_page_out(ui_hub, browser_page):
    page = browser_page
    await ui_hub.wait_for("h264-720", "online", timeout=60)
    await sign_in(page, ui_hub, "vera")
    await page.wait_for_function("window.hubUI && window.hubUI.ready", timeout=30_000)
    await page.click("#stream-list li[data-stream-id='h264-720'] button")
    await page.locator("#wall .tile[data-stream-id='h264-720']").wait_for()
    with UserStore(users_db_for(ui_hub.config_path)) as users:  # as `hub user revoke` does, in another terminal
        users.revoke("vera", "stream", "h264-720")
    await page.locator("#wall .tile[data-stream-id='h264-720']").wait_for(state="detached", timeout=15_000)
    await page.locator("#stream-list li[data-stream-id='h264-720']").wait_for(state="detached", timeout=15_000)
    assert await page.evaluate("window.hubUI.record('h264-720')") is None, "the page forgets it"
    with UserStore(users_db_for(ui_hub.config_path)) as users:  # `hub user passwd vera`
        users.set_password("vera", passwords.hash_password("a-new-password-for-vera"))
    await page.wait_for_url("**/login?ended=*", timeout=15_000)
    assert await page.inner_text("#login-error") == "You were signed out: password changed. Sign in again to go on."
