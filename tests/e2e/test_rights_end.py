"""Rights end when they end, on open connections too: a live socket or an event stream closes (4401) or
drops exactly the streams no longer allowed when its session, user, grant or token ends (issue: security
hardening). The cameras here are unreachable on purpose: records, rights and sockets need no video."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from support.hubrun import provision, running_hub, sign_in, until

from hub.auth import passwords
from hub.auth.tokens import TokenStore
from hub.auth.users import UserStore, users_db_for

DEAD = "rtsp://127.0.0.1:9/live"
DEADLINE_S = 15.0  # generous: the hub checks every 0.5 s and promises 2 s


def camera(stream_id: str, category: str) -> str:
    return (
        f'[[streams]]\nid = "{stream_id}"\nname = "Camera {stream_id}"\ncategory = "{category}"\nsite = "North"\n'
        f'position = [31.775, 117.303]\nurl = "{DEAD}"\n'
    )


ESTATE = camera("ps-north-1", "public-security") + camera("ps-north-2", "public-security") + camera("cc-nursery", "childcare")


@pytest.fixture
async def hub(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(ESTATE)
    async with running_hub(path) as running:
        running.vera_token = provision(path, "vera", "operator", (("site", "North"), ("category", "childcare")))
        yield running


async def _until_text(ws, wanted, timeout: float = DEADLINE_S) -> dict:
    """The next text message for which `wanted(message)` is true."""
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            assert message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), f"socket ended: {message}"
            if message.type == aiohttp.WSMsgType.TEXT and wanted(body := json.loads(message.data)):
                return body


async def _closed(ws) -> tuple[int, str, float]:
    """(close code, reason, seconds it took) once the hub closes the socket."""
    started = time.monotonic()
    async with asyncio.timeout(DEADLINE_S):
        while True:
            message = await ws.receive()
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return ws.close_code, message.extra or "", time.monotonic() - started


async def _sse_until(events, kind: str) -> dict:
    async with asyncio.timeout(DEADLINE_S):
        while True:
            chunk = await events.content.readuntil(b"\n\n")
            if chunk.startswith(f"event: {kind}\n".encode()):
                return json.loads(chunk.split(b"data: ", 1)[1])


def _status_has(*ids: str):
    return lambda body: body.get("type") == "status" and set(body["streams"]) == set(ids)


async def _watching(client, hub, headers: dict | None = None, watch=("ps-north-1",)):
    """A live socket watching `watch`, and an event stream past its hello."""
    ws = await client.ws_connect(hub.url("/api/live"), headers=headers or {})
    await ws.send_str(json.dumps({"watch": list(watch)}))
    await _until_text(ws, _status_has(*watch))
    events = await client.get(hub.url("/api/events"), headers=headers or {})
    await _sse_until(events, "hello")
    return ws, events


async def _audit(hub, action: str, stream: str) -> list[dict]:
    async with hub.session.get(hub.url(f"/api/audit?action={action}&stream={stream}")) as reply:
        return (await reply.json())["entries"]


async def test_signing_out_closes_the_session_s_socket_and_event_stream_and_the_audit_says_why(hub):
    session, csrf, status = await sign_in(hub, "vera")
    assert status == 200
    try:
        ws, events = await _watching(session, hub)
        async with session.post(hub.url("/api/logout"), headers={"X-CSRF-Token": csrf}) as reply:
            assert reply.status == 200
        code, reason, _ = await _closed(ws)
        assert (code, reason) == (4401, "signed out")
        assert await _sse_until(events, "closed") == {"code": 4401, "reason": "signed out"}
        assert await events.content.read() == b"", "the event stream ends after saying why"
        stops = await until(lambda: _audit(hub, "live_stop", "ps-north-1"), DEADLINE_S, "live_stop in the audit")
        assert stops[0]["detail"]["reason"] == "signed out" and stops[0]["who"] == "vera"
    finally:
        await session.close()


@pytest.mark.parametrize("change, why", [("passwd", "password changed"), ("del", "user deleted")])
async def test_a_changed_password_or_a_deleted_user_closes_every_socket_of_that_user(hub, change, why):
    session, _, _ = await sign_in(hub, "vera")
    try:
        ws, events = await _watching(session, hub)
        with UserStore(users_db_for(hub.config_path)) as users:  # as `hub user passwd|del` does, from another terminal
            if change == "passwd":
                users.set_password("vera", passwords.hash_password("another-password-2"))
            else:
                users.delete("vera")
        code, reason, seconds = await _closed(ws)
        assert (code, reason) == (4401, why), f"closed after {seconds:.1f} s"
        assert (await _sse_until(events, "closed"))["reason"] == why
        async with session.get(hub.url("/api/me")) as reply:
            assert reply.status == 401 and (await reply.json())["ended"] == why, "the page's next request learns why too"
    finally:
        await session.close()


async def test_a_revoked_grant_drops_exactly_the_streams_no_longer_allowed_and_refuses_them_after(hub):
    session, csrf, _ = await sign_in(hub, "vera")
    try:
        async with session.post(
            hub.url("/api/streams/cc-nursery/open"), json={"reason": "incident 4471"}, headers={"X-CSRF-Token": csrf}
        ) as reply:
            assert reply.status == 200
        ws, events = await _watching(session, hub, watch=("ps-north-1", "cc-nursery"))
        with UserStore(users_db_for(hub.config_path)) as users:  # as `hub user revoke` does
            assert users.revoke("vera", "category", "childcare")
        revoked = await _until_text(ws, lambda body: body.get("type") == "revoked")
        assert revoked["streams"] == ["cc-nursery"]
        await _until_text(ws, _status_has("ps-north-1"))
        assert await _sse_until(events, "removed") == {"id": "cc-nursery"}
        await ws.send_str(json.dumps({"watch": ["ps-north-1", "cc-nursery"]}))  # asked again: as if it did not exist
        await _until_text(ws, _status_has("ps-north-1"))
        assert not ws.closed, "the socket stays open for what is still allowed"
        async with session.get(hub.url("/api/streams/cc-nursery")) as reply:
            assert reply.status == 404
        stops = await _audit(hub, "live_stop", "cc-nursery")
        assert stops and stops[0]["detail"]["reason"] == "rights revoked"
        assert not await _audit(hub, "live_stop", "ps-north-1"), "the stream still allowed plays on"
        await ws.close()
        events.close()
    finally:
        await session.close()


async def test_a_revoked_token_closes_its_socket_and_event_stream(hub):
    bearer = {"Authorization": f"Bearer {hub.vera_token}"}
    async with aiohttp.ClientSession() as client:
        ws, events = await _watching(client, hub, bearer)
        with TokenStore(users_db_for(hub.config_path)) as tokens:  # as `hub token revoke` does
            assert tokens.revoke(hub.vera_token.split("_")[1])
        assert (await _closed(ws))[:2] == (4401, "token revoked")
        assert (await _sse_until(events, "closed")) == {"code": 4401, "reason": "token revoked"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(hub.url("/api/live"), headers=bearer)
        assert refused.value.status == 401
