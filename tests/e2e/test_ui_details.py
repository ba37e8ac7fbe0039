"""Details a new user noticed on the page: no console errors on any page load (the tab's icon included),
and names in the side list shown whole, not cut to a prefix they share."""

from __future__ import annotations

import pytest
from support.browser import hub_page
from support.hubrun import running_hub

pytestmark = pytest.mark.chromium
LONG = "Bamboo Grove Kindergarten reading room, camera by the window"


def camera(stream_id: str, name: str) -> str:
    return (
        f'[[streams]]\nid = "{stream_id}"\nname = "{name}"\ncategory = "property"\nsite = "Bamboo"\n'
        'position = [31.775, 117.303]\nurl = "rtsp://127.0.0.1:9/live"\n'
    )


@pytest.fixture
async def hub(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(camera("bg-1", LONG + " north") + camera("bg-2", LONG + " south"))
    async with running_hub(path) as running:
        yield running


async def test_pages_load_without_a_console_error_and_long_names_are_shown_whole(hub):
    errors: list[str] = []
    async with hub_page(hub, on_page=lambda page: _record_errors(page, errors)) as page:
        await page.locator("#stream-list li[data-stream-id='bg-2']").wait_for()
        for stream_id, end in (("bg-1", "north"), ("bg-2", "south")):
            name = page.locator(f"#stream-list li[data-stream-id='{stream_id}'] .name")
            assert (await name.inner_text()).endswith(end)
            assert await name.evaluate("n => n.scrollWidth <= n.clientWidth && n.scrollHeight <= n.clientHeight + 1"), (
                "shown whole"
            )
        await page.reload()
        await page.wait_for_function("window.hubUI && window.hubUI.ready", timeout=30_000)
    assert errors == [], "no console error on the sign-in page, the hub's page, or a reload"


def _record_errors(page, errors: list[str]) -> None:
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("response", lambda reply: errors.append(f"{reply.status} {reply.url}") if reply.status >= 400 else None)
