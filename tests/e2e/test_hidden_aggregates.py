"""What is hidden stays hidden in aggregates too: a grouped outage is worked out from the cameras the viewer
may see, in the API, the event stream and /metrics (issue: security hardening). The cameras are
unreachable on purpose: they go offline at once, together."""

from __future__ import annotations

import asyncio
import json

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.hubrun import provision, running_hub, until

DEAD = "rtsp://127.0.0.1:9/live"


def camera(stream_id: str, category: str) -> str:
    return (
        f'[[streams]]\nid = "{stream_id}"\nname = "Camera {stream_id}"\ncategory = "{category}"\nsite = "North"\n'
        f'position = [31.775, 117.303]\nurl = "{DEAD}"\n'
    )


# Four property cameras and five childcare rooms of one site: ten down together are one outage of the
# site for the admin; the property guard, who sees four, must not learn of it at all (five make a group).
ESTATE = "".join(camera(f"pr-{n}", "property") for n in range(4)) + "".join(camera(f"cc-{n}", "childcare") for n in range(5))


@pytest.fixture
async def hub(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(ESTATE)
    async with running_hub(path) as running:
        running.guard = {"Authorization": f"Bearer {provision(path, 'guard', 'viewer', (('category', 'property'),))}"}
        yield running


async def _outages(hub, headers: dict | None = None) -> list[dict]:
    async with hub.session.get(hub.url("/api/outages"), headers=headers or {}) as reply:
        return (await reply.json())["outages"]


async def _hello_outages(hub, headers: dict) -> list[dict]:
    async with hub.session.get(hub.url("/api/events"), headers=headers) as events:
        hello = await asyncio.wait_for(events.content.readuntil(b"\n\n"), 30)
    return json.loads(hello.split(b"data: ", 1)[1])["outages"]


async def _outage_metric(hub, headers: dict | None = None) -> list:
    async with hub.session.get(hub.url("/metrics"), headers=headers or {}) as reply:
        families = {f.name: f for f in text_string_to_metric_families(await reply.text())}
    return [(s.labels["group"], s.value) for s in families["hub_outage_cameras"].samples]


async def test_an_outage_of_hidden_cameras_does_not_exist_for_who_may_not_see_them(hub):
    whole = await until(lambda: _all_down(hub), 60, "the site's outage, every camera of it")
    assert [(o["name"], o["count"]) for o in whole] == [("North", 9)], "the admin sees the whole site"
    assert await _outages(hub, hub.guard) == [], "four visible cameras are no group: the outage does not exist for him"
    assert await _hello_outages(hub, hub.guard) == []
    assert await _outage_metric(hub, hub.guard) == []
    assert await _outage_metric(hub) == [("North", 9.0)]


async def test_a_viewer_s_outage_counts_dates_and_explains_only_their_cameras(hub):
    path = hub.config_path
    path.write_text(ESTATE + camera("pr-4", "property"))  # a fifth property camera: now the guard has a group
    async with hub.session.post(hub.url("/api/reload")) as reply:
        assert reply.status == 200
    mine = await until(lambda: _outages(hub, hub.guard), 60, "the guard's outage")
    assert [(o["name"], o["count"], o["streams"]) for o in mine] == [("North", 5, [f"pr-{n}" for n in range(5)])]
    records = {}
    for n in range(5):
        async with hub.session.get(hub.url(f"/api/streams/pr-{n}")) as reply:
            records[n] = await reply.json()
    assert mine[0]["since"] == min(r["since"] for r in records.values()), "since: when the first of his went down"
    assert mine[0]["title"].startswith("site North: 5 cameras unreachable, all within "), mine[0]["title"]
    assert await _outage_metric(hub, hub.guard) == [("North", 5.0)]


async def _all_down(hub) -> list[dict] | None:
    """The admin's outages once all nine cameras are in it (they go down one after another)."""
    outages = await _outages(hub)
    return outages if outages and outages[0]["count"] == 9 else None
