"""The read door: the list and record reads answered by a process of its own, exactly as the hub answers
them, with rights that end there as everywhere; everything else handed to the hub unread."""

from __future__ import annotations

import os
import signal

import aiohttp
from support.hubrun import provision, sign_in, until
from yarl import URL

from hub.auth.tokens import TokenStore
from hub.auth.users import users_db_for
from hub.web.access import SESSION_COOKIE
from hub.web.keys import READ_DOOR

DEADLINE_S = 30.0
SAME_HEADERS = ("Content-Type", "Server", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                "Cross-Origin-Opener-Policy", "Content-Security-Policy")  # fmt: skip


async def _served(hub) -> int:
    """How many reads the door has answered, as of now (once it is up: until then the hub accepts itself)."""
    door = hub.app[READ_DOOR]
    await until(lambda: door.running, DEADLINE_S, "the read door taking over")
    assert await door.sync()
    return door.served


async def _get(headers: dict, url, **kwargs) -> tuple[int, dict, object]:
    """On a connection of its own: one the hub took over stays the hub's for its next requests."""
    async with aiohttp.ClientSession(headers=headers) as session, session.get(url, **kwargs) as reply:
        return reply.status, dict(reply.headers), await reply.json()


async def test_the_door_answers_lists_and_records_as_the_hub_does(hub):
    await hub.wait_for("h264-360", "online")
    door = hub.app[READ_DOOR]
    await _served(hub)
    assert door.running and door.pid is not None
    # The same request with an (empty) body is not the door's to answer: the hub answers it.
    for path in ("/api/streams?category=public-security", "/api/streams/dead-camera"):
        before = await _served(hub)
        status, by_door, door_body = await _get(hub.auth, hub.url(path))
        assert status == 200 and await _served(hub) == before + 1, "the door did not answer"
        status, by_hub, hub_body = await _get(hub.auth, hub.url(path), data=b"")
        assert status == 200 and await _served(hub) == before + 1, "the door answered a request with a body"
        assert "Connection" not in by_door  # HTTP/1.1: kept for the client's next request
        assert {h: by_door.get(h) for h in SAME_HEADERS} == {h: by_hub.get(h) for h in SAME_HEADERS}
        if "streams" in door_body:
            assert [s["id"] for s in door_body["streams"]] == [s["id"] for s in hub_body["streams"]]
            assert door_body["estate"]["total"] == hub_body["estate"]["total"] == 15
            assert door_body["summary"]["by_category"] == {"public-security": 14}
        else:
            assert door_body["id"] == hub_body["id"] == "dead-camera"
            assert door_body.keys() == hub_body.keys()


def _counting_connections() -> tuple[aiohttp.TraceConfig, list]:
    """A trace that notes every new connection the client opens."""
    opened: list = []
    trace = aiohttp.TraceConfig()

    async def created(session, context, params) -> None:
        opened.append(params)

    trace.on_connection_create_end.append(created)
    return trace, opened


async def test_a_kept_connection_asks_the_door_again_and_goes_to_the_hub_when_the_door_cannot_answer(hub):
    token = provision(hub.config_path, "poller", role="viewer", grants=(("category", "property"),))
    trace, opened = _counting_connections()
    connector = aiohttp.TCPConnector(limit=1)  # one connection, kept between requests
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers, connector=connector, trace_configs=[trace]) as poller:
        before = await _served(hub)
        for _ in range(3):
            async with poller.get(hub.url("/api/streams/dead-camera")) as reply:
                assert reply.status == 200 and reply.headers.get("Connection") != "close"
                await reply.read()
        assert len(opened) == 1, "the door closed a connection the client meant to keep"
        assert await _served(hub) == before + 3
        # A stream it may not see: the hub answers on the same connection, which stays the hub's.
        async with poller.get(hub.url("/api/streams/h264-360")) as reply:
            assert reply.status == 404
            await reply.read()
        async with poller.get(hub.url("/api/streams")) as reply:
            assert reply.status == 200 and [s["id"] for s in (await reply.json())["streams"]] == ["dead-camera"]
        assert len(opened) == 1 and await _served(hub) == before + 3
    # A client that says it will not ask again is answered and the connection closed.
    closing = {"Authorization": f"Bearer {token}", "Connection": "close"}
    status, headers, _ = await _get(closing, hub.url("/api/streams/dead-camera"))
    assert status == 200 and headers["Connection"] == "close"
    assert await _served(hub) == before + 4


async def test_errors_and_unknown_streams_are_the_hub_s_answers(hub):
    for path, status in [
        ("/api/streams?category=zoo", 400),
        ("/api/streams?q=" + "x" * 201, 400),
        ("/api/streams/no-such-camera", 404),
    ]:
        async with hub.session.get(hub.url(path)) as reply:
            assert reply.status == status, path
            assert "error" in await reply.json()
    async with aiohttp.ClientSession() as anonymous, anonymous.get(hub.url("/api/streams")) as reply:
        assert reply.status == 401
    bad = {"Authorization": "Bearer hub_nope_nope"}
    async with aiohttp.ClientSession(headers=bad) as stranger, stranger.get(hub.url("/api/streams/dead-camera")) as reply:
        assert reply.status == 401


async def test_a_viewer_sees_through_the_door_only_what_the_grants_allow(hub):
    token = provision(hub.config_path, "pat", role="viewer", grants=(("category", "property"),))
    pat = {"Authorization": f"Bearer {token}"}
    before = await _served(hub)
    status, _, body = await _get(pat, hub.url("/api/streams"))
    assert status == 200 and [s["id"] for s in body["streams"]] == ["dead-camera"]
    assert body["estate"]["total"] == 1
    assert await _served(hub) == before + 1
    status, _, _ = await _get(pat, hub.url("/api/streams/h264-360"))
    assert status == 404  # a stream it may not see does not exist for it


async def test_a_revoked_token_is_refused_by_its_next_read(hub):
    token = provision(hub.config_path, "scraper", role="viewer", grants=(("category", "property"),))
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as script:
        before = await _served(hub)
        status, _, _ = await _get(script.headers, hub.url("/api/streams/dead-camera"))
        assert status == 200 and await _served(hub) == before + 1, "the door answered while the token was good"
        with TokenStore(users_db_for(hub.config_path)) as tokens:  # what `hub token revoke` does, from outside
            assert tokens.revoke(token.split("_")[1])
        for path in ("/api/streams/dead-camera", "/api/streams"):
            async with script.get(hub.url(path)) as reply:
                assert reply.status == 401, path


async def test_signing_out_ends_the_session_at_the_door_before_the_answer(hub):
    session, csrf, status = await sign_in(hub)
    assert status == 200
    async with session:
        cookie = {"Cookie": f"{SESSION_COOKIE}={session.cookie_jar.filter_cookies(URL(hub.url('/')))[SESSION_COOKIE].value}"}
        before = await _served(hub)
        status, _, body = await _get(cookie, hub.url("/api/streams"))
        assert status == 200 and body["estate"]["total"] == 15
        assert await _served(hub) == before + 1, "the door did not answer the session's list"
        async with session.post(hub.url("/api/logout"), headers={"X-CSRF-Token": csrf}) as reply:
            assert reply.status == 200
    for path in ("/api/streams", "/api/streams/dead-camera"):
        status, _, body = await _get(cookie, hub.url(path))
        assert status == 401 and body.get("ended") == "signed out", path


async def test_if_the_door_dies_the_hub_answers_everything_itself(hub):
    door = hub.app[READ_DOOR]
    await _served(hub)
    os.kill(door.pid, signal.SIGKILL)
    await until(lambda: not door.running and "ended" in door.failure, DEADLINE_S, "the hub noticing the door died")
    for path in ("/api/streams", "/api/streams/dead-camera", "/healthz"):
        async with hub.session.get(hub.url(path)) as reply:
            assert reply.status == 200, path
    async with hub.session.get(hub.url("/healthz")) as reply:
        assert (await reply.json())["read_door"]["running"] is False
