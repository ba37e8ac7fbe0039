"""Mode auto, and a wall that never lies while cameras change mode (issue: an automatic live budget).

- A small site in the default mode (auto) is all live at once: a stall is seen within `stall_after_s`.
- A patrolled camera known to be frozen that goes live (somebody opens it) stays frozen, with the same
  `since` and "frozen since": no state change, no event, until live evidence says otherwise.
"""

from __future__ import annotations

import asyncio
import json

from support.estates import STREET, sim_for, sim_stream
from support.hubrun import PATROL_MODES, hub_on, until

SMALL = "".join(
    sim_stream(sid, STREET, category=category)
    for sid, category in (("s-1", "public-security"), ("s-2", "property"), ("s-3", "childcare"), ("s-4", "vehicle"))
)
FROZEN = sim_stream("p-frozen", STREET, fault="freeze") + sim_stream("p-fine", STREET)
PATROL = "[monitor]\npatrol_period_s = 20\nprobe_interval_s = 2\nlive_grace_s = 30\n" + PATROL_MODES

small_sim = sim_for(SMALL + FROZEN)


async def test_a_small_site_in_mode_auto_is_all_live_and_a_stall_shows_within_stall_after_s(small_sim, tmp_path):
    async with hub_on(small_sim, tmp_path, SMALL, monitor="") as hub:  # no [monitor]: the defaults

        async def all_live():
            records = [await hub.record(sid) for sid in ("s-1", "s-2", "s-3", "s-4")]
            return all(r["watching"] == "live" and r["state"] == "online" for r in records) and records

        records = await until(all_live, 60, "every camera of a small site live")
        assert {r["mode"] for r in records} == {"auto"}
        assert {r["watching_reason"] for r in records} == {"within the live budget", "childcare and vehicles come first"}
        status, health = await hub.get_json("/healthz")
        assert health["capacity"]["live_budget"] >= 4 and health["capacity"]["watching"]["live"]
        await asyncio.to_thread(small_sim.set_fault, "s-1", "stall")
        try:
            record = await hub.wait_for("s-1", "offline", "stalled", timeout=60)
            assert record["watching"] == "live", "watched live: the stall rule, not a patrol, found it"
        finally:
            await asyncio.to_thread(small_sim.clear_fault, "s-1")


async def test_a_frozen_patrolled_camera_opened_on_the_wall_stays_frozen_since_the_same_moment(small_sim, tmp_path):
    async with hub_on(small_sim, tmp_path, FROZEN, PATROL) as hub:
        before = await hub.wait_for("p-frozen", "degraded", "frozen", timeout=90)
        assert before["watching"] == "patrol"
        events = []

        async def follow() -> None:
            async with hub.session.get(hub.url("/api/events")) as stream:
                async for line in stream.content:
                    if line.startswith(b"data: ") and b'"p-frozen"' in line:
                        events.append(json.loads(line[6:]))

        listening = asyncio.ensure_future(follow())
        try:
            async with hub.session.ws_connect(hub.url("/api/live")) as ws:  # a wall tile opens it
                await ws.send_str(json.dumps({"watch": ["p-frozen"]}))
                live = await until(lambda: _watching_live(hub), 60, "the frozen camera live on the wall")
                after = await until(lambda: _judged_live(hub, live), 60, "the live connection's own verdict")
        finally:
            listening.cancel()
        assert (after["state"], after["reasons"], after["since"]) == ("degraded", ["frozen"], before["since"])
        assert abs(after["picture_changed_at"] - before["picture_changed_at"]) < 0.1, '"frozen since" did not restart'
        assert [e for e in events if "state" in e] == [], "no state change, no event"


async def _watching_live(hub):
    record = await hub.record("p-frozen")
    return record if record["watching"] == "live" else None


async def _judged_live(hub, live):
    """The record once the live connection has shown pictures of its own (a frame newer than going live)."""
    record = await hub.record("p-frozen")
    return record if (record["last_frame_at"] or 0) > (live["last_frame_at"] or 0) + 10 else None
