"""The operator UI in a real browser: Debian's Chromium, headless, driven by Playwright for Python."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from support.browser import hub_page
from support.estates import SIM_ESTATE, UNREACHABLE
from support.hubrun import hub_config_text, running_hub

pytestmark = pytest.mark.chromium

WALL_STREAMS = [
    "h264-360",
    "h264-720",
    "h264-auth",
    "fault-stall",
    "fault-drop",
    "fault-freeze",
    "fault-black",
    "fault-lowfps",
    "cfg-late",
]


def ui_estate() -> str:
    """The simulator estate, with h265-360 playing a vehicle (it reports GPS positions)."""
    return (
        SIM_ESTATE.replace(
            'id = "h265-360"\nname = "Test camera"\ncategory = "public-security"',
            'id = "h265-360"\nname = "Patrol car"\ncategory = "vehicle"',
        )
        + UNREACHABLE
    )


@pytest.fixture
async def ui(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(ui_estate(), sim.rtsp, sim.control))
    async with running_hub(path) as hub:
        async with hub_page(hub) as page:
            yield hub, page


async def test_map_has_one_marker_per_stream_and_a_popup_with_a_real_snapshot(ui):
    hub, page = ui
    await hub.wait_for("h264-720", "online")
    await page.uncheck("#cluster-toggle")
    markers = page.locator(".leaflet-marker-pane [data-stream-id]")
    await markers.first.wait_for()
    positioned = [r for r in (await hub.get_json("/api/streams"))[1]["streams"] if r["position"]]
    assert await markers.count() == len(positioned) == 15
    async with page.expect_response(lambda r: "/snapshot.jpg" in r.url, timeout=20_000) as answer:
        await page.click("#stream-list li[data-stream-id='h264-720'] .name")
    snapshot = await answer.value
    image = page.locator(".leaflet-popup .popup img")
    await image.wait_for()
    await page.wait_for_function("document.querySelector('.leaflet-popup .popup img').naturalWidth > 0", timeout=20_000)
    assert await page.evaluate("document.querySelector('.leaflet-popup .popup img').naturalWidth") == 320
    caption = await page.locator(".leaflet-popup .snapshot-age").inner_text()
    # The caption gives the picture's age on the hub's clock (a busy machine may make it old: it says so).
    age = float((await snapshot.all_headers())["x-snapshot-age"])
    assert caption == ("picture now" if age < 1.5 else f"picture {int(age + 0.5)} s ago"), (caption, age)  # JS rounds half up
    assert "Test camera" in await page.locator(".leaflet-popup .popup h4").inner_text()


# What the page shows, in one turn of its loop: for every marker, the camera under the middle of its picture
# (none hides another), its state and stacking order, and the header's counts.
MAP_AS_SEEN = """() => {
  const markers = [...document.querySelectorAll('.leaflet-marker-pane [data-stream-id]')].map((outer) => {
    const icon = outer.querySelector('.marker');
    const box = icon.getBoundingClientRect();
    const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return { id: outer.dataset.streamId, state: [...icon.classList].find((c) => c.startsWith('state-')).slice(6),
             z: Number(outer.style.zIndex), under: hit?.closest('[data-stream-id]')?.dataset.streamId ?? null };
  });
  const header = Object.fromEntries([...document.querySelectorAll('#totals .pill[data-state]')]
    .map((p) => [p.dataset.state, Number(p.textContent.split(' ')[0])]));
  return { markers, header, unplaced: document.querySelector('#totals .pill.unplaced')?.textContent ?? '' };
}"""


async def test_overlapping_markers_are_spread_apart_the_worst_on_top_and_agree_with_the_header(ui):
    hub, page = ui
    # fifteen cameras at one point: three of them degraded (black, frozen, soon) and one offline among online ones
    await asyncio.gather(
        hub.wait_for("cfg-black", "degraded", "black", timeout=60),
        hub.wait_for("cfg-late", "degraded", "frozen", timeout=60),
        hub.wait_for("dead-camera", "offline", timeout=60),
        hub.wait_for("h264-720", "online", timeout=60),
    )
    await page.uncheck("#cluster-toggle")
    await page.wait_for_function("document.querySelectorAll('.leaflet-marker-pane [data-stream-id]').length === 15")
    frozen = ".leaflet-marker-pane [data-stream-id='cfg-late'] .marker.state-degraded"
    await page.wait_for_selector(frozen, timeout=15_000)
    seen = await page.evaluate(MAP_AS_SEEN)
    hidden = [(m["id"], m["under"]) for m in seen["markers"] if m["under"] != m["id"]]
    assert not hidden, f"markers hidden under another (marker, what a click there opens): {hidden}"
    tally: dict[str, int] = {}
    for m in seen["markers"]:
        tally[m["state"]] = tally.get(m["state"], 0) + 1
    assert tally == seen["header"] and seen["unplaced"] == "", (tally, seen["header"], seen["unplaced"])
    z = {m["id"]: m["z"] for m in seen["markers"]}
    assert z["dead-camera"] > z["cfg-late"] > z["h264-720"], "worst state drawn on top wherever markers still touch"
    # a click on the frozen camera's marker opens the frozen camera
    box = await page.locator(".leaflet-marker-pane [data-stream-id='cfg-late'] .marker").bounding_box()
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.wait_for_selector(".leaflet-popup .popup[data-stream-id='cfg-late']", timeout=10_000)


async def test_the_overload_banner_never_blocks_the_controls_under_it(ui):
    _, page = ui
    await page.click("#tab-wall")
    # What a hub event says when the hub sheds load: the banner shows over the wall's controls.
    await page.evaluate("""() => { const b = document.getElementById('overload');
        b.hidden = false; b.textContent = 'Hub overloaded (level 2 of 8; event loop 600 ms late)'.repeat(3); }""")
    banner, toggle = await page.locator("#overload").bounding_box(), await page.locator("#problems-toggle").bounding_box()
    overlaps = not (banner["x"] > toggle["x"] + toggle["width"] or toggle["x"] > banner["x"] + banner["width"])
    assert overlaps and banner["y"] <= toggle["y"] <= banner["y"] + banner["height"], "the banner lies over the toggle"
    await page.check("#problems-toggle", timeout=5_000)  # a click goes through it
    assert await page.is_checked("#problems-toggle")


async def test_clusters_group_markers_until_expanded(ui):
    hub, page = ui
    await page.wait_for_selector(".leaflet-marker-pane .cluster")
    assert await page.locator(".leaflet-marker-pane [data-stream-id]").count() < 15


async def test_wall_of_nine_plays_live_video(ui):
    hub, page = ui
    await asyncio.gather(
        *(hub.wait_for(i, "online", timeout=60) for i in WALL_STREAMS if not i.startswith("cfg")),
        hub.wait_for("cfg-late", "degraded", "frozen", timeout=60),
    )
    await page.click("#tab-wall")
    await page.select_option("#layout-size", "9")
    for stream_id in WALL_STREAMS:
        await page.click(f"#stream-list li[data-stream-id='{stream_id}'] button")
    await page.wait_for_function("document.querySelectorAll('.tile video').length === 9")
    first = await page.evaluate("[...document.querySelectorAll('.tile video')].map(v => v.currentTime)")
    await page.wait_for_function(
        f"[...document.querySelectorAll('.tile video')].every((v, i) => v.currentTime > {first}[i] + 1.0)", timeout=30_000
    )
    latencies = await page.evaluate("[...Array(9).keys()].map(i => window.hubUI.tileLatency(i))")
    assert all(lat is not None and lat < 1.5 for lat in latencies), latencies
    print(f"\ntile buffer latency behind the newest received frame (s): {[round(x, 2) for x in latencies]}")
    tiles = await page.evaluate(
        "[...document.querySelectorAll('.tile')].map(t => [t.dataset.streamId, t.classList.contains('stale')])"
    )
    assert [t[0] for t in tiles] == WALL_STREAMS
    # cfg-late froze 3 s after the simulator started: its tile must say so; every other one plays live.
    assert [sid for sid, stale in tiles if stale] == ["cfg-late"], tiles


async def test_fault_turns_marker_and_tile_to_the_problem_colour(ui, sim):
    hub, page = ui
    await hub.wait_for("fault-notfound", "online", timeout=60)
    await page.uncheck("#cluster-toggle")
    await page.click("#tab-wall")
    await page.click("#stream-list li[data-stream-id='fault-notfound'] button")
    tile = page.locator(".tile[data-stream-id='fault-notfound']")
    await page.wait_for_function(
        "document.querySelector(\".tile[data-stream-id='fault-notfound'] video\")?.currentTime > 0", timeout=30_000
    )
    await asyncio.to_thread(sim.set_fault, "fault-notfound", "notfound")
    try:
        await page.wait_for_function(
            "document.querySelector(\".tile[data-stream-id='fault-notfound']\").classList.contains('problem')", timeout=10_000
        )
        assert "stale" in (await tile.get_attribute("class"))
        assert "offline" in (await tile.locator(".badge").inner_text()).lower()
        await page.click("#tab-map")
        await page.wait_for_selector(
            ".leaflet-marker-pane [data-stream-id='fault-notfound'] .marker.state-offline", timeout=10_000
        )
    finally:
        await asyncio.to_thread(sim.clear_fault, "fault-notfound")


async def test_vehicle_marker_moves_with_its_position(ui):
    hub, page = ui
    await page.uncheck("#cluster-toggle")
    before = await page.evaluate("window.hubUI.markerLatLng('h265-360')")
    assert before is not None
    async with hub.session.put(hub.url("/api/streams/h265-360/position"), json={"lat": 31.7801, "lon": 117.3105}) as reply:
        assert reply.status == 200
    await page.wait_for_function("window.hubUI.markerLatLng('h265-360')[0] === 31.7801", timeout=10_000)
    assert await page.evaluate("window.hubUI.markerLatLng('h265-360')") == [31.7801, 117.3105]
    await page.click("#stream-list li[data-stream-id='h265-360'] .name")
    await page.wait_for_selector(".leaflet-popup .fix")
    assert "GPS fix" in await page.locator(".leaflet-popup .fix").inner_text()


async def test_names_are_shown_as_text_never_run(ui):
    hub, page = ui
    row = page.locator("#stream-list li[data-stream-id='dead-camera'] .name")
    assert await row.inner_text() == "Camera with <script>alert(1)</script> in its name"
    await page.uncheck("#cluster-toggle")
    await page.click("#stream-list li[data-stream-id='dead-camera'] .name")
    await page.wait_for_selector(".leaflet-popup .popup h4")
    assert "<script>" in await page.locator(".leaflet-popup .popup h4").inner_text()
    await page.wait_for_function("document.querySelector('.leaflet-popup .snapshot-age').textContent !== 'loading picture…'")
    assert await page.locator(".leaflet-popup .snapshot-age").inner_text() == "no picture yet"
    await hub.wait_for("dead-camera", "offline", timeout=60)
    await page.click("#stream-list li[data-stream-id='dead-camera'] .name")  # the popup made anew from the record
    await page.wait_for_selector(".leaflet-popup .last-error", timeout=10_000)
    why = await page.locator(".leaflet-popup .last-error").inner_text()
    assert "refused" in why.lower() and "topsecret" not in why, why  # why it is down, never its password
    assert await page.evaluate("document.querySelectorAll('#stream-list script, .leaflet-popup script').length") == 0
    assert page.dialogs == []


async def test_layouts_are_saved_on_the_server_and_restored_on_reload(ui):
    hub, page = ui
    await page.click("#tab-wall")
    await page.select_option("#layout-size", "4")
    await page.click("#stream-list li[data-stream-id='h264-360'] button")
    await page.fill("#layout-name", "night shift")
    await page.click("#layout-save")
    await page.wait_for_function("[...document.querySelectorAll('#layout-saved option')].some(o => o.value === 'night shift')")
    status, body = await hub.get_json("/api/layouts")
    assert body["layouts"]["night shift"]["size"] == 4 and body["layouts"]["night shift"]["tiles"][0] == "h264-360"
    await page.reload()
    await page.wait_for_function("window.hubUI && window.hubUI.ready")
    await page.wait_for_selector(".tile[data-stream-id='h264-360']")
    assert await page.locator(".tile").count() == 4


async def test_problems_wall_fills_itself(ui):
    hub, page = ui
    await hub.wait_for("dead-camera", "offline", timeout=60)
    await page.click("#tab-wall")
    await page.check("#problems-toggle")
    await page.wait_for_selector(".tile[data-stream-id='dead-camera']", timeout=10_000)
    # A camera still connecting when the wall filled may come online a moment later: its tile says so at
    # once (the live socket), and it leaves the wall when the change reaches the page's list.
    await page.wait_for_function(
        "(() => { const s = [...document.querySelectorAll('.tile[data-stream-id]')].map(t => t.dataset.state);"
        " return s.length && !s.includes('online'); })()",
        timeout=15_000,
    )


async def test_h265_tile_plays_or_falls_back_to_labelled_snapshots(ui):
    hub, page = ui
    await hub.wait_for("h265-720-auth", "online", timeout=60)
    await page.click("#tab-wall")
    await page.click("#stream-list li[data-stream-id='h265-720-auth'] button")
    tile = ".tile[data-stream-id='h265-720-auth']"
    # Before the page knows the codec the tile may try video first, then fall back when the init segment says HEVC.
    await page.wait_for_function(
        f'document.querySelector("{tile} img")?.naturalWidth === 640 || document.querySelector("{tile} video")?.currentTime > 1',
        timeout=30_000,
    )
    if await page.locator(f"{tile} img").count():  # Chromium without HEVC: refreshing JPEG snapshots
        first = await page.evaluate(f'document.querySelector("{tile} img").src')
        await page.wait_for_function(f'document.querySelector("{tile} img").src !== {first!r}', timeout=20_000)
    # The tile's truth comes from the hub's own status over the live socket, not from the page's copy of
    # the stream list (which may predate the stream's first picture): it turns fresh within a status period.
    await page.wait_for_function(f"!document.querySelector(\"{tile}\").classList.contains('stale')", timeout=10_000)
    if await page.locator(f"{tile} img").count():
        assert "snapshot mode" in await page.locator(f"{tile} .mode").inner_text()
    assert (await page.locator(f"{tile} .age").inner_text()).startswith("picture ")


async def tile_texts(page, stream_id: str) -> dict:
    return await page.evaluate(f"""(() => {{
        const t = document.querySelector(".tile[data-stream-id='{stream_id}']");
        const text = (sel) => t.querySelector(sel).hidden ? "" : t.querySelector(sel).textContent;
        return {{stale: t.classList.contains("stale"), live: t.dataset.live, age: text(".age"), mode: text(".mode"),
                 headline: text(".stale-badge")}};
    }})()""")


async def test_tiles_claim_live_only_with_fresh_frames_and_passing_checks(ui, sim):
    hub, page = ui
    await hub.wait_for("h264-360", "online", timeout=60)
    await hub.wait_for("cfg-late", "degraded", "frozen", timeout=60)
    await page.click("#tab-wall")
    for stream_id in ("h264-360", "cfg-late", "dead-camera", "fault-stall"):
        await page.click(f"#stream-list li[data-stream-id='{stream_id}'] button")
    for stream_id in ("cfg-late", "dead-camera"):  # each tile has heard from the hub at least once
        await page.wait_for_function(
            f"document.querySelector(\".tile[data-stream-id='{stream_id}'] .age\").textContent !== 'picture age unknown'",
            timeout=20_000,
        )
    live = ".tile[data-stream-id='h264-360']"
    await page.wait_for_function(f"document.querySelector(\"{live}\").dataset.live === 'true'", timeout=20_000)
    texts = await tile_texts(page, "h264-360")
    assert texts["mode"] == "live" and texts["age"] in ("picture now", "picture 2 s ago"), texts
    # Frozen: frames arrive, but the tile says how long the picture has been unchanged, and never "live".
    # (While the hub's newest frame is over 2.5 s old, a busy machine's, it says "no live picture" first.)
    await page.wait_for_function(
        "document.querySelector(\".tile[data-stream-id='cfg-late'] .stale-badge\").textContent.startsWith('FROZEN FOR')",
        timeout=20_000,
    )
    frozen = await tile_texts(page, "cfg-late")
    record = await hub.record("cfg-late")
    unchanged_for = time.time() - record["picture_changed_at"]
    assert frozen["stale"] and frozen["live"] == "false" and "live" not in frozen["mode"], frozen
    shown = int(re.fullmatch(r"frozen for (\d+) s", frozen["age"]).group(1))
    assert abs(shown - unchanged_for) <= 2.5 and shown >= 8, (frozen, unchanged_for)
    # Never had a picture: says so, rather than an age.
    dead = await tile_texts(page, "dead-camera")
    assert dead == {"stale": True, "live": "false", "age": "no picture yet", "mode": "", "headline": "NEVER HAD A PICTURE"}, dead
    # Stalled: the age is the age of the hub's newest frame, and keeps growing.
    await hub.wait_for("fault-stall", "online", timeout=60)
    await asyncio.to_thread(sim.set_fault, "fault-stall", "stall")
    try:
        stalled = ".tile[data-stream-id='fault-stall']"
        await page.wait_for_function(
            f'/picture (\\d+) s ago/.test(document.querySelector("{stalled} .age").textContent) && '
            f'Number(document.querySelector("{stalled} .age").textContent.match(/(\\d+) s/)[1]) >= 8',
            timeout=30_000,
        )
        texts = await tile_texts(page, "fault-stall")
        record = await hub.record("fault-stall")
        hub_age = time.time() - record["last_frame_at"]
        shown = int(re.search(r"(\d+) s ago", texts["age"]).group(1))
        assert abs(shown - hub_age) <= 2.5, (texts, hub_age)
        assert texts["stale"] and texts["live"] == "false" and texts["mode"] == "", texts
        assert texts["headline"].startswith("NO LIVE PICTURE")
    finally:
        await asyncio.to_thread(sim.clear_fault, "fault-stall")


async def test_state_badges_never_hide_the_camera_name_at_any_wall_size(ui):
    hub, page = ui
    await hub.wait_for("dead-camera", "offline", timeout=60)
    await page.click("#tab-wall")
    for size in (1, 4, 9, 16, 25, 36):
        await page.select_option("#layout-size", str(size))
        await page.click("#wall-clear")
        await page.click("#stream-list li[data-stream-id='dead-camera'] button")
        await check_name_shown(page, ".tile[data-stream-id='dead-camera']", size)


async def check_name_shown(page, tile: str, size: int) -> None:
    await page.wait_for_function(f"document.querySelector(\"{tile} .badge\")?.textContent.startsWith('offline')")
    box = await page.evaluate(f"""(() => {{
        const t = document.querySelector("{tile}"), title = t.querySelector(".title"), badge = t.querySelector(".badge");
        const r = (n) => n.getBoundingClientRect();
        return {{tile: r(t).width, title: r(title).width, titleBottom: r(title).bottom, badgeTop: r(badge).top,
                 hover: title.title, text: title.textContent}};
    }})()""")
    name = "Camera with <script>alert(1)</script> in its name"
    assert box["hover"] == box["text"] == name, size
    assert box["title"] >= 0.6 * box["tile"], (size, box)  # the name's line is its own, whatever the badge says
    assert box["titleBottom"] <= box["badgeTop"], (size, box)
