"""Accounts and sessions on two real `hub serve` nodes (one `redis-server`, one simulator, loopback): a
session made on one node works on the other, signing out on one ends it on both (an open event stream
too), a user made with `hub user add` beside one node signs in on the other, and a layout saved on one
is on the other's wall list. Waits are on conditions with generous deadlines."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import subprocess
import sys

import aiohttp
import pytest
from support.cluster_nodes import SECRET, restart_node, start_node
from support.estates import sim_for, sim_stream
from support.hubrun import TEST_PASSWORD, TEST_USER, until
from yarl import URL

pytestmark = pytest.mark.redis
CAMERAS = ("cam-00", "cam-01")
ESTATE = "".join(sim_stream(c, "sim://street?size=320x180&fps=5&codec=h264") for c in CAMERAS)
serving = sim_for(ESTATE)


@pytest.fixture
def two_nodes(tmp_path, redis_server, serving):
    nodes = [start_node(tmp_path / name, name, redis_server.url, serving, ESTATE) for name in ("n1", "n2")]
    try:
        for node in nodes:
            node.wait_for_line("cluster: joined as", timeout=60)
        yield nodes
    finally:
        for node in nodes:
            if node.process.poll() is None:
                node.ctrl_c()
                node.finish(60)


def origin(node) -> str:
    return f"http://127.0.0.1:{node.port}"


async def sign_in(browser: aiohttp.ClientSession, node, user: str = TEST_USER, password: str = TEST_PASSWORD):
    """(status, CSRF token) of a sign-in on `node`; the cookie stays in the browser's jar (cookies know no
    port: the browser shows it to both nodes, as to two names of one site behind a balancer)."""
    async with browser.post(origin(node) + "/api/login", json={"user": user, "password": password},
                            headers={"Origin": origin(node)}) as reply:  # fmt: skip
        return reply.status, (await reply.json()).get("csrf")


async def me(browser: aiohttp.ClientSession, node) -> tuple[int, dict]:
    async with browser.get(origin(node) + "/api/me") as reply:
        return reply.status, await reply.json()


def browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_a_session_made_on_one_node_works_on_the_other_and_signing_out_there_ends_it_everywhere(two_nodes):
    n1, n2 = two_nodes
    async with browser() as page:
        status, csrf = await sign_in(page, n1)
        assert status == 200
        cookie = page.cookie_jar.filter_cookies(URL(origin(n1)))["hub_session"].value
        status, body = await me(page, n2)  # at once: n2 looks a session it has not followed yet up in Redis
        assert status == 200 and body["user"] == TEST_USER, body
        events = await page.get(origin(n1) + "/api/events")  # an open event stream on n1
        assert events.status == 200
        async with page.post(origin(n2) + "/api/logout", headers={"Origin": origin(n2), "X-CSRF-Token": csrf}) as reply:
            assert reply.status == 200
        async with asyncio.timeout(30):  # n1's stream ends by itself once n1 hears of the sign-out
            while await events.content.readline():
                pass
        events.release()
        async with page.get(origin(n1) + "/api/me", headers={"Cookie": f"hub_session={cookie}"}) as reply:
            status, body = reply.status, await reply.json()  # the old cookie, which the sign-out cleared
        assert status == 401 and body.get("ended") == "signed out", body


async def test_a_user_made_beside_one_node_signs_in_on_the_other_and_a_new_password_ends_their_sessions(two_nodes):
    n1, n2 = two_nodes
    env = {**os.environ, "NEW_PW": "another-password-2", "NEWER_PW": "yet-another-password-3"}
    hub = [sys.executable, "-m", "hub", "user"]
    subprocess.run([*hub, "add", "bob", "--role", "viewer", "--password-env", "NEW_PW", "--config", str(n1.config)],
                   env=env, check=True, capture_output=True)  # fmt: skip
    async with browser() as page:
        signed_in = await until(lambda: _signs_in(page, n2, "bob", env["NEW_PW"]), 30, "bob signing in on n2")
        assert signed_in
        assert (await me(page, n1))[0] == 200
        subprocess.run([*hub, "passwd", "bob", "--password-env", "NEWER_PW", "--config", str(n2.config)],
                       env=env, check=True, capture_output=True)  # fmt: skip
        await until(lambda: _ended(page, n1), 30, "bob's session ending on n1 too")
        assert await _signs_in(page, n1, "bob", env["NEWER_PW"])


async def _signs_in(page, node, user: str, password: str) -> bool:
    return (await sign_in(page, node, user, password))[0] == 200


async def _ended(page, node) -> bool:
    status, body = await me(page, node)
    return status == 401 and body.get("ended") == "password changed"


async def test_a_layout_saved_on_one_node_is_on_the_others_list(two_nodes):
    n1, n2 = two_nodes
    async with browser() as page:
        _, csrf = await sign_in(page, n1)
        wall = {"size": 4, "tiles": [CAMERAS[0], None, CAMERAS[1], None]}
        headers = {"Origin": origin(n1), "X-CSRF-Token": csrf}
        async with page.put(origin(n1) + "/api/layouts/lobby", json=wall, headers=headers) as reply:
            assert reply.status in (200, 201), await reply.text()

        async def on_n2() -> dict | None:
            async with page.get(origin(n2) + "/api/layouts") as reply:
                body = await reply.json()
            layouts = body.get("layouts", body)
            return layouts.get("lobby") if isinstance(layouts, dict) else None

        shown = await until(on_n2, 30, "the layout on n2")
        assert shown["tiles"] == wall["tiles"]


async def test_the_audit_trail_covers_both_nodes_and_a_killed_node_loses_no_entry(two_nodes):
    n1, n2 = two_nodes
    async with browser() as page:
        assert (await sign_in(page, n1))[0] == 200
        os.kill(n1.process.pid, signal.SIGKILL)  # at once: its "login" entry may be on its disk only
        n1.process.wait(10)
        status, csrf = await sign_in(page, n2)
        assert status == 200
        async with page.post(origin(n2) + "/api/logout", headers={"Origin": origin(n2), "X-CSRF-Token": csrf}) as reply:
            assert reply.status == 200
    two_nodes[0] = restart_node(n1)  # the fixture stops this one
    two_nodes[0].wait_for_line("cluster: joined as", timeout=60)

    def exported() -> list[dict]:
        done = subprocess.run([sys.executable, "-m", "hub", "audit", "export", "--config", str(n2.config)],
                              capture_output=True, text=True, check=True)  # fmt: skip
        return list(csv.DictReader(io.StringIO(done.stdout)))

    def logins() -> set[str]:
        return {row["node"] for row in exported() if row["action"] == "login" and row["who"] == TEST_USER}

    await until(lambda: logins() == {"n1", "n2"}, 60, "both nodes' sign-ins in the cluster's export, n1's from before its kill")
    rows = exported()
    assert [r["time_utc"] for r in rows] == sorted(r["time_utc"] for r in rows), "merged by time"
    verified = subprocess.run([sys.executable, "-m", "hub", "audit", "verify", "--config", str(n2.config)],
                              capture_output=True, text=True, env={**os.environ, "HUB_CLUSTER_SECRET": SECRET})  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "cluster node n1: " in verified.stdout and "cluster node n2: " in verified.stdout, verified.stdout

    async def both_listed_by_n2() -> bool:  # the API on one node lists every node's entries, n1's too
        async with page.get(origin(n2) + f"/api/audit?action=login&who={TEST_USER}") as reply:
            assert reply.status == 200
            return {entry["node"] for entry in (await reply.json())["entries"]} == {"n1", "n2"}

    async with browser() as page:
        assert (await sign_in(page, n2))[0] == 200
        await until(both_listed_by_n2, 30, "n1's sign-in (before its kill) in n2's GET /api/audit")


async def test_a_reload_on_one_node_reloads_the_others_from_their_own_copy_of_the_config(two_nodes, serving):
    n1, n2 = two_nodes
    for node in two_nodes:  # the admin copies the new config to every node first
        node.config.write_text(node.config.read_text() + sim_stream("cam-02", "sim://street?size=320x180&fps=5&codec=h264"))
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {n1.token}"}) as admin:
        async with admin.post(origin(n1) + "/api/reload") as reply:
            assert reply.status == 200, await reply.text()

        async def n2_lists_it() -> bool:
            async with admin.get(origin(n2) + "/api/streams/cam-02", headers={"Authorization": f"Bearer {n2.token}"}) as reply:
                return reply.status == 200

        await until(n2_lists_it, 30, "n2 reloading after n1")
    n2.wait_for_line("cluster: reloaded the config after n1 did", timeout=10)


class _Door:
    """A node as the browser helpers take a hub: where its pages are."""

    def __init__(self, node):
        self.node = node

    def url(self, path: str) -> str:
        return origin(self.node) + path


async def test_the_page_says_when_its_node_cannot_reach_redis_and_stops_when_it_can_again(two_nodes, redis_server):
    from playwright.async_api import expect
    from support.browser import hub_page

    async with hub_page(_Door(two_nodes[0])) as page:
        banner = page.locator("#cluster-down")
        await expect(banner).to_be_hidden()
        redis_server.kill()
        await expect(banner).to_be_visible(timeout=30_000)
        await expect(banner).to_contain_text("this node (n1) cannot reach Redis")
        redis_server.start()  # empty: the node joins again, and the banner goes
        await expect(banner).to_be_hidden(timeout=60_000)


async def test_an_incident_reported_on_one_node_is_on_the_others_stream_and_triaged_there(two_nodes):
    """One map from any door: a report filed through n1 reaches n2's list and event stream, n2's
    acknowledgement reaches n1, and the pictures kept as evidence (each by the node that pulls the camera)
    are on both, with one history."""
    n1, n2 = two_nodes
    bearer = {n: {"Authorization": f"Bearer {n.token}"} for n in (n1, n2)}
    async with aiohttp.ClientSession() as client:

        async def both_online() -> bool:
            async with client.get(origin(n1) + "/api/streams", headers=bearer[n1]) as reply:
                records = (await reply.json())["streams"]
            return all(r["state"] == "online" and r.get("snapshot_at") for r in records)

        await until(both_online, 60, "both cameras online with a picture")
        events = await client.get(origin(n2) + "/api/events", headers=bearer[n2])
        body = {"kind": "fire", "severity": 3, "lat": 31.775, "lon": 117.303, "text": "smoke", "client_id": "c-1"}
        async with client.post(origin(n1) + "/api/incidents", json=body, headers=bearer[n1]) as reply:
            assert reply.status == 201, await reply.text()
            made = await reply.json()
        async with asyncio.timeout(30):  # told on n2's event stream
            told = None
            while told is None:
                line = (await events.content.readline()).decode()
                if line.startswith("data:") and made["id"] in line and '"reported"' in line:
                    told = line
        events.release()

        async def whole_on(node) -> dict:
            async with client.get(origin(node) + f"/api/incidents/{made['id']}", headers=bearer[node]) as reply:
                assert reply.status == 200
                return await reply.json()

        async def cameras_on_n2() -> set | None:  # the online cameras near it now (one moving between nodes drops out)
            cameras = {c["id"] for c in (await whole_on(n2))["cameras"]}
            return cameras if cameras == set(CAMERAS) else None

        await until(cameras_on_n2, 30, "both cameras near it on n2, whichever node pulls them")
        assert (await whole_on(n2))["kind"] == "fire"
        async with client.patch(origin(n2) + f"/api/incidents/{made['id']}", json={"state": "acknowledged"},
                                headers=bearer[n2]) as reply:  # fmt: skip
            assert reply.status == 200, await reply.text()

        async def alike() -> dict | None:
            one, two = await whole_on(n1), await whole_on(n2)
            files = {f["name"] for f in one["files"]}
            same = one["history"] == two["history"] and files == {f["name"] for f in two["files"]}
            pictures = files & {f"snapshot-{c}.jpg" for c in CAMERAS}
            return one if same and pictures and one["state"] == "acknowledged" else None

        # the pictures each node kept of the cameras it pulls are on both, with one history
        whole = await until(alike, 45, "acknowledged on n1, one history and the same pictures on both nodes")
        assert [s["by"] for s in whole["history"] if s["action"] == "state"] == [TEST_USER]
