"""Picture diagnostics in a running hub over the simulator: faults become reasons, metrics and words;
operators mute checks and accept references (kept across a restart, in the audit trail); a site going
down together is one grouped outage in the API, the event feed and the metrics."""

from __future__ import annotations

import asyncio
import json
import re
import time

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from support.browser import hub_page
from support.estates import sim_for
from support.hubrun import hub_config_text, provision, running_hub

SMALL = "size=320x180&fps=10&codec=h264"
FULL = "size=640x360&fps=10&codec=h264"  # the hard scenes at the size a substream has: a still office's only motion is its clock
pytestmark = pytest.mark.asyncio(loop_scope="module")  # one hub for the module's tests (the restart test runs its own)


def camera(stream_id: str, scene: str = "street", fault: str = "", site: str = "Elsewhere", size: str = SMALL) -> str:
    lines = [
        "[[streams]]",
        f'id = "{stream_id}"',
        f'name = "Cam {stream_id}"',
        'category = "property"',
        f'site = "{site}"',
        "position = [31.775, 117.303]",
        f'url = "sim://{scene}?{size}"',
    ]
    return "\n".join(lines + ([f'fault = "{fault}"'] if fault else [])) + "\n"


SITE = "Fangxing-3"
COMPOUND = [f"fx-{n}" for n in range(4)]
ESTATE = "".join(
    [
        camera("covered", fault="cover"),
        camera("dark", fault="dark"),
        camera("black", fault="black"),
        camera("night", scene="night", size=FULL),
        camera("office", scene="office", size=FULL),
        camera("soft", scene="gate", fault="blur", size=FULL),  # out of focus and colour-cast from their first frame
        camera("tinted", scene="road", fault="colorcast", size=FULL),
        *(camera(sid, site=SITE) for sid in COMPOUND),
        camera("fx-other", site="Other compound"),
    ]
)
# Quick votes (4 of 5) on every picture so that tests need seconds, not minutes; grouped outages from 3 cameras.
HEALTH = "[health]\nvote = [4, 5]\ncheck_sample_s = 2\ngroup_min = 3\ngroup_window_s = 60\n"

diagnostics_sim = sim_for(ESTATE)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hub(diagnostics_sim, tmp_path_factory):
    path = tmp_path_factory.mktemp("diagnostics") / "hub.toml"
    path.write_text(hub_config_text(ESTATE, diagnostics_sim.rtsp, diagnostics_sim.control, extra=HEALTH))
    async with running_hub(path) as running:
        yield running


async def metric_samples(hub) -> list:
    async with hub.session.get(hub.url("/metrics")) as reply:
        text = await reply.text()
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


async def test_cameras_faulty_from_their_first_frame_are_reported_and_never_learnt(hub):
    await hub.wait_for("soft", "degraded", "blurred", timeout=90)
    await hub.wait_for("tinted", "degraded", "color_cast", timeout=90)
    for stream_id, check in (("soft", "blurred"), ("tinted", "color_cast")):
        assert (await hub.record(stream_id))["reasons"] == [check]
        async with hub.session.get(hub.url(f"/api/streams/{stream_id}/diagnosis")) as reply:
            diagnosis = await reply.json()
        assert diagnosis["failing"] == [check] and not any(diagnosis["baseline_ready"].values()), diagnosis


async def test_picture_faults_are_reasons_in_the_record_the_metrics_and_nothing_else(hub):
    await hub.wait_for("black", "degraded", "black", timeout=60)
    await hub.wait_for("night", "online", timeout=60)
    await hub.wait_for("office", "online", timeout=60)

    async def clean_ones_stay_clean() -> None:  # samples go on: black stays only black, the IR night and the still office clean
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            black, night, office = await hub.record("black"), await hub.record("night"), await hub.record("office")
            assert black["reasons"] == ["black"], "no signal suppresses the picture checks"
            assert night["state"] == office["state"] == "online", (night["reasons"], office["reasons"])
            await asyncio.sleep(1.0)

    watching = asyncio.ensure_future(clean_ones_stay_clean())  # meanwhile, the faulty ones trip
    try:
        covered = await hub.wait_for("covered", "degraded", "covered", timeout=60)
        dark = await hub.wait_for("dark", "degraded", "exposure", timeout=60)
        assert covered["reasons"] == ["covered"] and dark["reasons"] == ["exposure"], "one fault, one reason"
        await watching
    finally:
        watching.cancel()
    deadline = time.monotonic() + 20  # /metrics answers at once with its newest rendering
    while True:
        failing = {
            (s.labels["stream"], s.labels["check"])
            for s in await metric_samples(hub)
            if s.name == "hub_stream_check_failing" and s.value == 1.0
        }
        if {("covered", "covered"), ("dark", "exposure"), ("black", "black")} <= failing or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert {("covered", "covered"), ("dark", "exposure"), ("black", "black")} <= failing
    assert not {f for f in failing if f[0] in ("night", "office")}
    status, diagnosis = await hub.get_json("/api/streams/covered/diagnosis")
    assert status == 200 and diagnosis["failing"] == ["covered"] and diagnosis["scores"]["covered"] >= 1.0


async def test_an_operator_mutes_a_check_with_a_reason_and_the_mute_outlives_a_restart(diagnostics_sim, tmp_path):
    path = tmp_path / "hub.toml"  # its own hub (restarted), beside the module's: one camera, and a quicker vote
    quick = HEALTH.replace("vote = [4, 5]", "vote = [2, 3]")
    path.write_text(hub_config_text(camera("covered", fault="cover"), diagnostics_sim.rtsp, diagnostics_sim.control, extra=quick))
    viewer = provision(path, "vera", "viewer", (("category", "*"),))
    operator = provision(path, "otto", "operator", (("category", "*"),))
    reason = "scaffolding in front of the lens until Friday"
    async with running_hub(path) as hub:
        await hub.wait_for("covered", "degraded", "covered", timeout=60)
        body = {"minutes": 90, "reason": reason}
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {viewer}"}) as as_viewer:
            async with as_viewer.put(hub.url("/api/streams/covered/mutes/covered"), json=body) as reply:
                assert reply.status == 403, "viewers may not mute"
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {operator}"}) as as_operator:
            for bad in ({"minutes": 90}, {"minutes": 0, "reason": reason}, {"minutes": "soon", "reason": reason}):
                async with as_operator.put(hub.url("/api/streams/covered/mutes/covered"), json=bad) as reply:
                    assert reply.status == 400 and "error" in await reply.json()
            async with as_operator.put(hub.url("/api/streams/covered/mutes/focus"), json=body) as reply:
                assert reply.status == 404
            async with as_operator.put(hub.url("/api/streams/covered/mutes/covered"), json=body) as reply:
                assert reply.status == 200, await reply.text()
        record = await hub.wait_for("covered", "online", timeout=20)
        assert record["muted"][0] | {"until": 0} == {
            "check": "covered",
            "until": 0,
            "reason": reason,
            "by": "otto",
            "tripped": True,
        }
        status, audit = await hub.get_json("/api/audit?action=check_muted")
        assert audit["entries"][0]["who"].endswith(":otto") and reason in json.dumps(audit["entries"][0])
    async with running_hub(path) as hub:
        status, record = await hub.get_json("/api/streams/covered")
        assert [m["check"] for m in record["muted"]] == ["covered"], "kept in streams.diagnostics.sqlite"
        await hub.wait_for("covered", "online", timeout=60)
        async with hub.session.delete(hub.url("/api/streams/covered/mutes/covered")) as reply:
            assert reply.status == 200
        record = await hub.wait_for("covered", "degraded", "covered", timeout=30)
        assert record["muted"] == []


async def test_accepting_the_current_view_as_the_reference(hub):
    await hub.wait_for("office", "online", timeout=60)
    deadline = time.monotonic() + 90  # generous: a loaded machine samples pictures less often (load shedding)
    while True:  # the first sampled picture has to arrive
        async with hub.session.post(
            hub.url("/api/streams/office/reference"), json={"reason": "re-aimed at the door on purpose"}
        ) as reply:
            body = await reply.json()
        if reply.status != 409 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert reply.status == 200, body
    assert "tester" in body["reference"]["by"], "the reference names who accepted it"
    status, diagnosis = await hub.get_json("/api/streams/office/diagnosis")
    assert [r["by"] for r in diagnosis["references"]][-1] == body["reference"]["by"]
    async with hub.session.post(hub.url("/api/streams/office/reference"), json={}) as reply:
        assert reply.status == 400, "a reason is required"
    status, audit = await hub.get_json("/api/audit?action=reference_accepted")
    assert audit["entries"] and audit["entries"][0]["stream"] == "office"


async def test_a_site_going_down_together_is_one_grouped_outage(hub, diagnostics_sim):
    await asyncio.gather(*(hub.wait_for(sid, "online", timeout=60) for sid in [*COMPOUND, "fx-other"]))
    events: list[dict] = []
    listening = asyncio.Event()

    async def follow() -> None:
        async with hub.session.get(hub.url("/api/events")) as reply:
            listening.set()
            kind = None
            async for raw in reply.content:
                line = raw.decode().strip()
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "outage":
                    events.append(json.loads(line[6:]))

    feed = asyncio.ensure_future(follow())
    try:
        await listening.wait()
        for sid in COMPOUND[:3] + ["fx-other"]:
            await asyncio.to_thread(diagnostics_sim.set_fault, sid, "stall")
        await asyncio.gather(*(hub.wait_for(sid, "offline", timeout=60) for sid in COMPOUND[:3]))
        deadline = time.monotonic() + 20
        while not events and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert events and events[0]["open"], events
        assert re.fullmatch(rf"site {SITE}: 3 cameras without video, all within \d+ s", events[0]["title"]), events
        status, body = await hub.get_json("/api/outages")
        assert [(o["name"], o["streams"]) for o in body["outages"]] == [(SITE, COMPOUND[:3])], (
            "the lone camera elsewhere is not grouped"
        )
        deadline = time.monotonic() + 20  # /metrics answers at once with its newest rendering, which may precede the outage
        while True:
            outage = [(s.labels["group"], s.value) for s in await metric_samples(hub) if s.name == "hub_outage_cameras"]
            if outage or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert outage == [(SITE, 3.0)]
        for sid in COMPOUND[:3] + ["fx-other"]:
            await asyncio.to_thread(diagnostics_sim.clear_fault, sid)
        await asyncio.gather(*(hub.wait_for(sid, "online", timeout=90) for sid in COMPOUND[:3]))
        deadline = time.monotonic() + 20
        while not any(not e["open"] for e in events) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert [e["open"] for e in events][-1] is False, "the outage closes when the cameras are back"
        assert (await hub.get_json("/api/outages"))[1]["outages"] == []
    finally:
        feed.cancel()
        for sid in COMPOUND + ["fx-other"]:
            await asyncio.to_thread(diagnostics_sim.clear_fault, sid)


@pytest.mark.chromium
async def test_the_page_says_what_is_wrong_in_words_offers_a_mute_and_folds_an_outage(hub, diagnostics_sim):
    await hub.wait_for("covered", "degraded", "covered", timeout=60)
    async with hub_page(hub) as page:
        await page.click("#stream-list li[data-stream-id='covered'] .name")
        await page.wait_for_selector(".leaflet-popup .popup .reasons")
        assert await page.locator(".leaflet-popup .popup .reasons").inner_text() == "lens covered"
        assert await page.locator(".leaflet-popup button.mute[data-check='covered']").count() == 1
        assert await page.locator(".leaflet-popup button.accept-view").count() == 1
        for sid in COMPOUND:
            await asyncio.to_thread(diagnostics_sim.set_fault, sid, "stall")
        try:
            await page.click("#tab-wall")
            await page.check("#problems-toggle")
            # The site's line, whole once the fourth camera's silence is called too (a busy hub may call
            # the first three a moment before it: the line then grows)
            await page.wait_for_function(
                "(want) => [...document.querySelectorAll('#outages li')].some((li) => li.textContent.startsWith(want))",
                arg=f"site {SITE}: 4 cameras",
                timeout=60_000,
            )
            await page.wait_for_selector(".tile[data-stream-id='covered']", timeout=10_000)
            tiles = await page.evaluate("[...document.querySelectorAll('.tile[data-stream-id]')].map(t => t.dataset.streamId)")
            assert not set(tiles) & set(COMPOUND), "the compound's cameras are one line, not a tile each"
        finally:
            for sid in COMPOUND:
                await asyncio.to_thread(diagnostics_sim.clear_fault, sid)
