"""Debian's Chromium, headless, driven by Playwright for Python, on a running hub's page."""

from __future__ import annotations

import asyncio
import contextlib
import os

from playwright.async_api import async_playwright

from support.hubrun import TEST_PASSWORD, TEST_USER

CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")


async def sign_in(page, hub, user: str = TEST_USER, password: str = TEST_PASSWORD) -> None:
    """As a person does: open the hub, land on the sign-in page, type, press the button."""
    await page.goto(hub.url("/"))
    await page.wait_for_url("**/login")
    await page.fill("#user", user)
    await page.fill("#password", password)
    await page.click("#sign-in")
    await page.wait_for_url(lambda url: not url.endswith("/login"))


@contextlib.asynccontextmanager
async def hub_page(hub, user: str = TEST_USER, password: str = TEST_PASSWORD, on_page=None):
    """The hub's page, loaded and ready (`window.hubUI.ready`); dialogs are recorded in `page.dialogs` (and what
    a prompt offered in `page.dialog_defaults`), and dismissed;
    `on_page(page)` runs before the first navigation (to listen to the console, say)."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            # The hub forbids eval in its CSP; Playwright's wait_for_function needs it, so tests bypass CSP.
            page = await browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
            page.dialogs, page.dialog_defaults = [], []
            page.on(
                "dialog",
                lambda d: (page.dialogs.append(d.message), page.dialog_defaults.append(d.default_value),
                           asyncio.ensure_future(d.dismiss())),
            )  # fmt: skip
            if on_page is not None:
                on_page(page)
            await sign_in(page, hub, user, password)
            await page.wait_for_function("window.hubUI && window.hubUI.ready", timeout=30_000)
            yield page
        finally:
            await browser.close()
