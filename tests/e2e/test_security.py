"""Access control end to end: sign-in, sessions, CSRF and Origin, rights at every exit, sensitive streams,
tokens, the audit trail (issue: who may watch what)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.estates import sim_for
from support.hubrun import TEST_PASSWORD, hub_config_text, origin, provision, running_hub, sign_in

from hub.auth.tokens import TokenStore
from hub.auth.users import users_db_for

STREET = "sim://street?size=640x360&fps=25&codec=h264"


def camera(stream_id: str, category: str, site: str, url: str = STREET, tags: tuple = ()) -> str:
    return (
        f'[[streams]]\nid = "{stream_id}"\nname = "Camera {stream_id}"\ncategory = "{category}"\nsite = "{site}"\n'
        f'position = [31.775, 117.303]\nurl = "{url}"\ntags = {json.dumps(list(tags))}\n'
    )


ESTATE = "".join(
    [
        camera("ps-north-1", "public-security", "North"),
        camera("ps-north-2", "public-security", "North", tags=("gate",)),
        camera("pr-south-1", "property", "South", "sim://viewer:s3cret@street?size=640x360&fps=25&codec=h264"),
        camera("cc-nursery", "childcare", "North"),
    ]
)
DEAD = camera("dead-cam", "property", "South", "rtsp://admin:topsecret@127.0.0.1:9/live")
VISIBLE_TO_VERA = {"ps-north-1", "ps-north-2"}  # site North, less the sensitive nursery

sim = sim_for(ESTATE)


@pytest.fixture
async def hub(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(ESTATE + DEAD, sim.rtsp, sim.control, extra='[hub]\ntrusted_proxies = ["127.0.0.1"]\n'))
    async with running_hub(path) as running:
        running.tokens = {
            "vera": provision(path, "vera", "viewer", (("site", "North"),)),
            "otto": provision(path, "otto", "operator", (("category", "*"),)),
            "olga": provision(path, "olga", "operator", (("category", "*"), ("category", "childcare"))),
        }
        yield running


def bearer(hub, who: str) -> dict:
    return {"Authorization": f"Bearer {hub.tokens[who]}"}


async def test_nothing_is_served_before_signing_in_but_healthz_and_the_login_page(hub):
    async with aiohttp.ClientSession() as anonymous:
        for path in (
            "/api/streams",
            "/api/streams/ps-north-1",
            "/api/streams/ps-north-1/snapshot.jpg",
            "/api/layouts",
            "/api/events",
            "/api/live",
            "/api/audit",
            "/api/me",
            "/metrics",
            "/api/no-such-route",
        ):
            async with anonymous.get(hub.url(path)) as reply:
                assert reply.status == 401, path
                assert "sign in" in (await reply.json())["error"]
        async with anonymous.get(hub.url("/"), allow_redirects=False) as reply:
            assert reply.status == 303 and reply.headers["Location"] == "/login"
        async with anonymous.get(hub.url("/healthz")) as reply:
            assert reply.status == 200 and await reply.json() == {"ok": True}, "open, and no camera counts for strangers"
        for path in ("/login", "/web/style.css", "/web/js/login.js", "/api/openapi.json"):
            async with anonymous.get(hub.url(path)) as reply:
                assert reply.status == 200, path
        async with anonymous.get(hub.url("/metrics"), headers={"Authorization": "Bearer hub_made_up"}) as reply:
            assert reply.status == 401 and reply.headers["WWW-Authenticate"].startswith("Bearer")


async def test_sign_in_sets_a_strict_cookie_rotates_the_id_and_sign_out_ends_it(hub):
    planted = "planted-session-id"
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Origin": origin(hub)})
    session.cookie_jar.update_cookies({"hub_session": planted})
    try:
        async with session.post(hub.url("/api/login"), json={"user": "tester", "password": TEST_PASSWORD}) as reply:
            assert reply.status == 200
            cookie = reply.headers["Set-Cookie"]
            me = await reply.json()
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie, "plain HTTP here; under TLS the cookie is Secure (test_tls)"
        first = reply.cookies["hub_session"].value
        assert first != planted and me["user"] == "tester" and me["role"] == "admin" and me["csrf"]
        async with session.get(hub.url("/api/streams")) as reply:
            assert reply.status == 200
        async with session.post(hub.url("/api/login"), json={"user": "tester", "password": TEST_PASSWORD}) as reply:
            second = reply.cookies["hub_session"].value
            csrf = (await reply.json())["csrf"]
        assert second != first, "a new id at every sign-in"
        async with aiohttp.ClientSession() as other:  # the old id is dead
            async with other.get(hub.url("/api/me"), headers={"Cookie": f"hub_session={first}"}) as reply:
                assert reply.status == 401
        async with session.post(hub.url("/api/logout"), headers={"X-CSRF-Token": csrf}) as reply:
            assert reply.status == 200
        async with aiohttp.ClientSession() as other:
            async with other.get(hub.url("/api/me"), headers={"Cookie": f"hub_session={second}"}) as reply:
                assert reply.status == 401
    finally:
        await session.close()


async def test_failed_sign_ins_are_limited_per_user_and_per_address(hub):
    for n in range(5):  # one user from five addresses
        session, _, status = await sign_in(hub, "vera", "wrong password", address=f"198.51.100.{n + 1}")
        await session.close()
        assert status == 401
    session, _, status = await sign_in(hub, "vera", TEST_PASSWORD, address="198.51.100.77")
    await session.close()
    assert status == 429, "the right password waits too while the user is locked"
    async with aiohttp.ClientSession(headers={"Origin": origin(hub), "X-Forwarded-For": "198.51.100.78"}) as client:
        async with client.post(hub.url("/api/login"), json={"user": "vera", "password": "x"}) as reply:
            body = await reply.json()
            assert reply.status == 429 and "try again in" in body["error"] and int(reply.headers["Retry-After"]) > 0
    for n in range(5):  # five users from one address
        session, _, status = await sign_in(hub, f"nobody{n}", "wrong password", address="203.0.113.50")
        await session.close()
        assert status == 401
    session, _, status = await sign_in(hub, "otto", TEST_PASSWORD, address="203.0.113.50")
    await session.close()
    assert status == 429
    session, _, status = await sign_in(hub, "otto", TEST_PASSWORD, address="203.0.113.51")
    await session.close()
    assert status == 200, "another address, another user: not limited"
    async with hub.session.get(hub.url("/api/audit?action=login_failed&limit=100")) as reply:
        entries = (await reply.json())["entries"]
    assert {e["address"] for e in entries} >= {"198.51.100.1", "203.0.113.50"}, "addresses from the trusted proxy's header"
    assert all(e["detail"].get("user") for e in entries) and not any("wrong password" in json.dumps(e) for e in entries)


async def test_state_changes_need_the_csrf_token_and_the_hub_s_own_origin(hub):
    session, csrf, _ = await sign_in(hub)
    layout = {"size": 1, "tiles": ["ps-north-1"]}
    try:
        url = hub.url("/api/layouts/mine")
        async with session.put(url, json=layout) as reply:
            assert reply.status == 403 and "X-CSRF-Token" in (await reply.json())["error"]
        async with session.put(url, json=layout, headers={"X-CSRF-Token": "guess"}) as reply:
            assert reply.status == 403
        async with session.put(url, json=layout, headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"}) as reply:
            assert reply.status == 403 and "cross-origin" in (await reply.json())["error"]
        async with session.post(hub.url("/api/reload"), headers={"X-CSRF-Token": csrf, "Origin": "null"}) as reply:
            assert reply.status == 403
        async with session.put(url, json=layout, headers={"X-CSRF-Token": csrf}) as reply:
            assert reply.status == 200
        async with aiohttp.ClientSession(headers={"Origin": "http://evil.example"}) as evil:
            async with evil.post(hub.url("/api/login"), json={"user": "tester", "password": TEST_PASSWORD}) as reply:
                assert reply.status == 403, "no sign-in from another site's form"
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(hub.url("/api/live"), origin="http://evil.example")
        async with session.get(hub.url("/api/events"), headers={"Origin": "http://evil.example"}) as reply:
            assert reply.status == 403
        ws = await session.ws_connect(hub.url("/api/live"), origin=origin(hub))
        await ws.close()
    finally:
        await session.close()


async def _ids(hub, headers: dict, query: str = "") -> tuple[set[str], dict]:
    async with hub.session.get(hub.url("/api/streams" + query), headers=headers) as reply:
        body = await reply.json()
    return {r["id"] for r in body["streams"]}, body


async def test_a_stream_a_user_may_not_see_does_not_exist_for_them_anywhere(hub, sim):
    vera = bearer(hub, "vera")
    ids, body = await _ids(hub, vera)
    assert ids == VISIBLE_TO_VERA
    assert body["summary"]["total"] == 2 and body["estate"]["total"] == 2 and sum(body["estate"]["by_category"].values()) == 2
    assert (await _ids(hub, vera, "?q=south"))[0] == set(), "search finds nothing hidden"
    assert (await _ids(hub, vera, "?category=property"))[0] == set()
    for path in (
        "/api/streams/pr-south-1",
        "/api/streams/cc-nursery",
        "/api/streams/pr-south-1/snapshot.jpg",
        "/api/streams/pr-south-1/snapshot.jpg?width=64",
        "/api/streams/cc-nursery/snapshot.jpg?width=3840",
    ):
        async with hub.session.get(hub.url(path), headers=vera) as reply:
            hidden = await reply.json()
        async with hub.session.get(
            hub.url(path.replace("pr-south-1", "no-such").replace("cc-nursery", "no-such")), headers=vera
        ) as reply:
            unknown = await reply.json()
        assert reply.status == 404 and hidden["error"].replace("pr-south-1", "X").replace("cc-nursery", "X") == unknown[
            "error"
        ].replace("no-such", "X"), "hidden looks exactly like unknown"
    # metrics: only her streams' labels, and counts of only those
    async with hub.session.get(hub.url("/metrics"), headers=vera) as reply:
        families = {f.name: f for f in text_string_to_metric_families(await reply.text())}
    assert {s.labels["stream"] for s in families["hub_stream_up"].samples} == VISIBLE_TO_VERA
    assert sum(s.value for s in families["hub_streams"].samples) == 2
    # layouts: tiles she may not see read as empty; a layout of hidden cameras only does not exist for her
    async with hub.session.put(
        hub.url("/api/layouts/shared"), json={"size": 4, "tiles": ["ps-north-1", "pr-south-1", "cc-nursery", None]}
    ) as reply:
        assert reply.status == 200
    async with hub.session.put(hub.url("/api/layouts/nursery"), json={"size": 1, "tiles": ["cc-nursery"]}) as reply:
        assert reply.status == 200
    async with hub.session.get(hub.url("/api/layouts"), headers=vera) as reply:
        assert (await reply.json())["layouts"] == {
            "shared": {"size": 4, "tiles": ["ps-north-1", None, None, None], "tour_s": None}
        }
    otto = bearer(hub, "otto")  # may arrange walls; the nursery is hidden from him
    async with hub.session.put(hub.url("/api/layouts/shared"), json={"size": 1, "tiles": []}, headers=otto) as reply:
        assert reply.status == 200 and (await reply.json())["tiles"] == [None], "his save changes what he sees"
    async with hub.session.get(hub.url("/api/layouts")) as reply:
        assert (await reply.json())["layouts"]["shared"]["tiles"] == ["cc-nursery"], "and keeps the nursery on the admin's wall"
    for name in ("nursery", "no-such-layout"):
        async with hub.session.delete(hub.url(f"/api/layouts/{name}"), headers=otto) as reply:
            assert (reply.status, await reply.json()) == (404, {"error": "no such layout"}), "hidden reads as unknown"
    async with hub.session.put(hub.url("/api/layouts/hers"), json={"size": 1, "tiles": ["cc-nursery"]}, headers=otto) as reply:
        assert (reply.status, (await reply.json())["error"]) == (400, "unknown stream ids: cc-nursery")
    async with hub.session.put(hub.url("/api/layouts/hers"), json={"size": 1, "tiles": ["pr-south-1"]}, headers=otto) as reply:
        assert reply.status == 200
    async with hub.session.put(hub.url("/api/layouts/hers%0A"), json={"size": 1, "tiles": []}, headers=otto) as reply:
        assert reply.status == 400, "a trailing newline is no part of a name"
    async with hub.session.put(hub.url("/api/layouts/x"), json={"size": 1, "tiles": ["pr-south-1"]}, headers=vera) as reply:
        assert reply.status == 403, "a viewer only watches"
    # live: a hidden stream asked for is as unknown; only hers get status
    async with hub.session.ws_connect(hub.url("/api/live"), headers=vera) as ws:
        await ws.send_str(json.dumps({"follow": ["ps-north-1", "pr-south-1", "cc-nursery"]}))
        message = await _next_status(ws)
        assert set(message["streams"]) == {"ps-north-1"}
    # events: her hello counts two; a change on a hidden camera never reaches her
    await hub.wait_for("pr-south-1", "online", timeout=60)
    await hub.wait_for("ps-north-2", "online", timeout=60)
    async with hub.session.get(hub.url("/api/events"), headers=vera) as events:
        hello = await events.content.readuntil(b"\n\n")
        assert json.loads(hello.split(b"data: ", 1)[1])["summary"]["total"] == 2
        await asyncio.to_thread(sim.set_fault, "pr-south-1", "black")
        await hub.wait_for("pr-south-1", "degraded", "black", timeout=60)
        await asyncio.to_thread(sim.set_fault, "ps-north-2", "black")
        try:
            while True:
                chunk = await asyncio.wait_for(events.content.readuntil(b"\n\n"), 60)
                assert b"pr-south-1" not in chunk
                if chunk.startswith(b"event: state") and b"ps-north-2" in chunk:
                    break
        finally:
            await asyncio.to_thread(sim.clear_fault, "pr-south-1")
            await asyncio.to_thread(sim.clear_fault, "ps-north-2")


async def _next_status(ws) -> dict:
    while True:
        message = await asyncio.wait_for(ws.receive(), 30)
        if message.type == aiohttp.WSMsgType.TEXT and json.loads(message.data).get("type") == "status":
            return json.loads(message.data)


async def test_sensitive_streams_need_an_explicit_grant_and_a_reason_that_the_audit_keeps(hub):
    otto, olga = bearer(hub, "otto"), bearer(hub, "olga")
    assert "cc-nursery" not in (await _ids(hub, otto))[0], "category=* does not open childcare"
    assert "cc-nursery" in (await _ids(hub, olga))[0]
    await hub.wait_for("cc-nursery", "online", timeout=60)
    snapshot = hub.url("/api/streams/cc-nursery/snapshot.jpg?width=160")
    async with hub.session.get(snapshot, headers=olga) as reply:
        body = await reply.json()
        assert reply.status == 403 and body["reason_required"] is True
    async with hub.session.ws_connect(hub.url("/api/live"), headers=olga) as ws:
        await ws.send_str(json.dumps({"watch": ["cc-nursery"]}))
        while True:
            message = json.loads((await asyncio.wait_for(ws.receive(), 30)).data)
            if message["type"] == "error":
                break
        assert message["reason_required"] == ["cc-nursery"]
    async with hub.session.post(hub.url("/api/streams/cc-nursery/open"), json={"reason": ""}, headers=olga) as reply:
        assert reply.status == 400
    reason = "parent reported a fall at 10:05, incident 4471"
    async with hub.session.post(hub.url("/api/streams/cc-nursery/open"), json={"reason": reason}, headers=olga) as reply:
        assert reply.status == 200
    for _ in range(100):  # the first picture may take a moment
        async with hub.session.get(snapshot, headers=olga) as reply:
            if reply.status == 200:
                assert reply.content_type == "image/jpeg"
                break
            assert reply.status == 503
        await asyncio.sleep(0.2)
    async with hub.session.ws_connect(hub.url("/api/live"), headers=olga) as ws:
        await ws.send_str(json.dumps({"watch": ["cc-nursery"]}))
        assert set((await _next_status(ws))["streams"]) == {"cc-nursery"}
    async with hub.session.get(hub.url("/api/audit?stream=cc-nursery")) as reply:
        entries = (await reply.json())["entries"]
    actions = [e["action"] for e in entries]
    opened = next(e for e in entries if e["action"] == "open_sensitive")
    assert opened["detail"]["reason"] == reason and opened["who"].endswith("olga") and opened["address"] == "127.0.0.1"
    assert "snapshot" in actions and "live_start" in actions
    stop = next(e for e in entries if e["action"] == "live_stop")
    assert stop["detail"]["seconds"] >= 0


async def test_roles_limit_what_each_may_do(hub):
    vera, otto = bearer(hub, "vera"), bearer(hub, "otto")
    for headers, status in ((vera, 403), (otto, 403)):
        async with hub.session.post(hub.url("/api/reload"), headers=headers) as reply:
            assert reply.status == status
        async with hub.session.get(hub.url("/api/audit"), headers=headers) as reply:
            assert reply.status == 403
    async with hub.session.post(hub.url("/api/reload")) as reply:
        assert reply.status == 200, "the admin may"
    async with hub.session.get(hub.url("/healthz")) as reply:
        assert "capacity" in await reply.json(), "details for an admin"
    async with hub.session.get(hub.url("/healthz"), headers=vera) as reply:
        assert await reply.json() == {"ok": True}
    token_id = hub.tokens["vera"].split("_")[1]
    with TokenStore(users_db_for(hub.config_path)) as tokens:  # as `hub token revoke` does, from another process
        assert tokens.revoke(token_id)
    async with hub.session.get(hub.url("/api/streams"), headers=vera) as reply:
        assert reply.status == 401, "a revoked token stops working at once, without a restart"


async def test_audit_lists_and_filters_who_did_what_from_where(hub):
    session, csrf, _ = await sign_in(hub, "vera", TEST_PASSWORD, address="192.0.2.33")
    try:
        async with session.get(hub.url("/api/streams/ps-north-1/snapshot.jpg")) as reply:
            assert reply.status in (200, 503)
        async with session.post(hub.url("/api/logout"), headers={"X-CSRF-Token": csrf}) as reply:
            assert reply.status == 200
    finally:
        await session.close()
    async with hub.session.get(hub.url("/api/audit?who=vera")) as reply:
        entries = (await reply.json())["entries"]
    assert [e["action"] for e in entries][:3] == ["logout", "snapshot", "login"], "newest first"
    assert {e["address"] for e in entries[:3]} == {"192.0.2.33"}
    async with hub.session.get(hub.url("/api/audit?since=2000-01-01&action=login&limit=1")) as reply:
        assert len((await reply.json())["entries"]) == 1
    for bad in ("?limit=0", "?since=yesterday", "?colour=red", "?limit=99999"):
        async with hub.session.get(hub.url("/api/audit" + bad)) as reply:
            assert reply.status == 400 and (await reply.json())["error"], bad
    async with hub.session.get(hub.url("/api/audit?action=token_used")) as reply:
        used = (await reply.json())["entries"]
    assert used and all(e["who"].startswith("token:") for e in used)
