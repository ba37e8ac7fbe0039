"""Hostile input: each gets a clear error, and the hub keeps serving everyone else.

Path traversal, unknown and malformed ids, oversized and malformed JSON, wrong methods, markup in names,
a WebSocket client that floods or never reads, slow-loris clients, and huge configs."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time

import aiohttp
import pytest
from support.estates import SIM_ESTATE
from support.hubrun import hub_config_text, running_hub

from hub.web.keys import LIVE
from hub.web.live import MAX_QUEUED
from hub.web.server import CAP

SECRET_LINE = 'url = "rtsp://admin:topsecret@127.0.0.1:9/live"'


@pytest.fixture
async def hub(sim, tmp_path):
    path = tmp_path / "hub.toml"
    dead = f'[[streams]]\nid = "dead"\nname = "Dead"\ncategory = "property"\nposition = [31.77, 117.30]\n{SECRET_LINE}\n'
    path.write_text(hub_config_text(SIM_ESTATE + dead, sim.rtsp, sim.control))
    async with running_hub(path) as running:
        yield running


async def raw_request(hub, request: bytes, read_timeout: float = 30.0) -> bytes:
    """Send bytes exactly as given (no client-side URL normalisation) and read the answer."""
    reader, writer = await asyncio.open_connection(hub.server.host, hub.server.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(1 << 20), read_timeout)
    finally:
        writer.close()


def get(path: str, hub) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {hub.token}\r\nConnection: close\r\n\r\n".encode()


async def still_serving(hub) -> None:
    """Everyone else is still served, promptly."""
    async with hub.session.get(hub.url("/api/streams"), timeout=aiohttp.ClientTimeout(total=10)) as reply:
        assert reply.status == 200 and (await reply.json())["streams"]


async def test_path_traversal_reaches_no_file_outside_the_ui_folder(hub):
    hub.config_path.with_name("secret.txt").write_text("confidential")
    for path in (
        "/web/../hub.toml",
        "/web/%2e%2e/hub.toml",
        "/web/..%2fhub.toml",
        "/web/%2e%2e%2fhub.toml",
        "/web/..%5chub.toml",
        "/web/....//hub.toml",
        "/web//etc/passwd",
        "/web/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/web/../../../../etc/passwd",
        "/web/js/../../secret.txt",
        "/api/streams/..%2f..%2fhub.toml/snapshot.jpg",
        "/api/streams/../../hub.toml",
        "/api/layouts/..%2f..%2fsecret.txt",
    ):
        answer = await raw_request(hub, get(path, hub))
        status = int(answer.split(b" ", 2)[1])
        assert status in (400, 403, 404, 405), (path, answer[:200])
        assert b"topsecret" not in answer and b"confidential" not in answer and b"root:" not in answer, path
    async with hub.session.put(hub.url("/api/layouts/..%2f..%2fevil"), json={"size": 1, "tiles": []}) as reply:
        assert reply.status in (400, 404) and "error" in await reply.json()
    assert not list(hub.config_path.parent.parent.glob("evil*")) and not list(hub.config_path.parent.glob("evil*"))
    await still_serving(hub)


async def test_unknown_and_malformed_ids_get_a_json_404(hub):
    for stream_id in ("no-such", "%00", "%ff%fe", "<script>alert(1)</script>", "x" * 5000, "%E2%80%AE", "..", "ps-0001;rm"):
        for suffix in ("", "/snapshot.jpg", "/snapshot.jpg?width=64"):
            async with hub.session.get(hub.url(f"/api/streams/{stream_id}{suffix}")) as reply:
                assert reply.status in (404, 414) and reply.content_type == "application/json", (stream_id, suffix)
                assert "error" in await reply.json()
        async with hub.session.put(hub.url(f"/api/streams/{stream_id}/position"), json={"lat": 1, "lon": 1}) as reply:
            assert reply.status in (404, 414)
    await still_serving(hub)


async def test_oversized_and_malformed_json_are_refused_clearly(hub):
    cases = {
        b"{" * 10: 400,
        b"not json": 400,
        b"\xff\xfe\x00garbage": 400,
        b"[1, 2, 3]": 400,
        b"[" * 50_000: 400,
        b'{"size": 4, "tiles": ' + b"[" * 20_000 + b"]" * 20_000 + b"}": 400,
        json.dumps({"size": "4"}).encode(): 400,
        b'{"size": 1, "tiles": ["' + b"a" * (2 << 20) + b'"]}': 413,
    }
    for body, status in cases.items():
        async with hub.session.put(hub.url("/api/layouts/x"), data=body, headers={"Content-Type": "application/json"}) as reply:
            assert reply.status == status, (body[:40], reply.status)
            assert (await reply.json())["error"]
    async with hub.session.put(hub.url("/api/streams/h264-360/position"), data=b"[" * 30_000) as reply:
        assert reply.status in (400, 409)
    await still_serving(hub)


async def test_wrong_methods_get_a_json_405(hub):
    for method, path in (
        ("DELETE", "/api/streams"),
        ("POST", "/healthz"),
        ("PATCH", "/api/layouts/x"),
        ("PUT", "/metrics"),
        ("POST", "/api/streams/h264-360/snapshot.jpg"),
        ("GET", "/api/login"),
        ("DELETE", "/api/audit"),
    ):
        async with hub.session.request(method, hub.url(path)) as reply:
            assert reply.status == 405, (method, path)
            assert reply.content_type == "application/json" and "error" in await reply.json()


async def test_no_answer_names_the_server_software(hub):
    anonymous = aiohttp.ClientSession()
    try:
        for method, path, session in (
            ("GET", "/", anonymous),
            ("GET", "/login", anonymous),
            ("GET", "/web/style.css", anonymous),
            ("GET", "/api/streams", anonymous),
            ("GET", "/api/streams", hub.session),
            ("GET", "/no-such-page", hub.session),
            ("DELETE", "/healthz", hub.session),
            ("GET", "/metrics", hub.session),
        ):
            async with session.request(method, hub.url(path), allow_redirects=False) as reply:
                assert reply.headers["Server"] == "hub", (method, path, reply.headers["Server"])
    finally:
        await anonymous.close()
    answer = await raw_request(hub, b"NOT HTTP AT ALL\r\n\r\n")
    assert b"\r\nServer: hub\r\n" in answer and b"Python" not in answer, answer[:300]


async def test_markup_in_layout_names_is_refused_and_names_travel_as_json_text(hub):
    for name in ("<script>alert(1)</script>", 'a"onmouseover="x', "<img src=x onerror=alert(1)>"):
        async with hub.session.put(hub.url(f"/api/layouts/{name}"), json={"size": 1, "tiles": []}) as reply:
            assert reply.status in (400, 404) and "error" in await reply.json()
    async with hub.session.get(hub.url("/api/streams/dead")) as reply:
        assert reply.content_type == "application/json" and reply.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("kind", ["text", "binary"])
async def test_a_websocket_flooding_messages_is_cut_off_and_others_carry_on(hub, kind):
    async with hub.session.ws_connect(hub.url("/api/live")) as flood:
        for _ in range(200):
            if kind == "text":
                await flood.send_str(json.dumps({"watch": ["h264-360"], "follow": ["h265-360"]}))
            else:
                await flood.send_bytes(b"\x00" * 1024)  # binary messages count against the limit too
        closed = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = await flood.receive(timeout=30)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                closed = flood.close_code
                break
        assert closed == 1008, closed
    async with hub.session.ws_connect(hub.url("/api/live")) as calm:
        await calm.send_str(json.dumps({"follow": ["h264-360"]}))
        while json.loads((await calm.receive(timeout=30)).data).get("type") != "status":
            pass
    await still_serving(hub)


async def _websocket_that_never_reads(hub, watch: list[str]) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection(hub.server.host, hub.server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {hub.token}\r\n\r\n"
        ).encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    payload, mask = json.dumps({"watch": watch}).encode(), os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    writer.write(bytes([0x81, 0x80 | 126]) + struct.pack("!H", len(payload)) + mask + masked)
    await writer.drain()
    writer.transport.pause_reading()  # and never read again: the hub's sends back up
    return writer


async def test_a_websocket_client_that_never_reads_costs_bounded_memory(hub):
    watch = ["h264-360", "h265-360", "h264-720", "h265-720-auth"]
    for stream_id in watch:
        await hub.wait_for(stream_id, "online", timeout=60)
    writer = await _websocket_that_never_reads(hub, watch)
    try:
        live = hub.app[LIVE]

        def viewers() -> set:
            return {v for group in live._viewers.values() for v in group}

        deadline = time.monotonic() + 90
        while not any(v.dropped for v in viewers()) and time.monotonic() < deadline:  # the socket's buffers are full
            await still_serving(hub)
            await asyncio.sleep(0.5)
        assert any(v.dropped for v in viewers()), "the hub skips video for the viewer that does not read"
        for _ in range(5):
            await still_serving(hub)
            assert all(v.queue.qsize() <= MAX_QUEUED + 1 for v in viewers()), "and its queue stays capped"
            await asyncio.sleep(0.5)
    finally:
        writer.close()
    deadline = time.monotonic() + 60
    while live.sockets and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert not live.sockets, "the hub lets go of the socket once the client is gone"


async def test_slow_loris_clients_do_not_stop_anybody_else(hub):
    writers = []
    try:
        for _ in range(300):  # from another address than the test's own client (beyond 256, refused at once)
            _, writer = await asyncio.open_connection(hub.server.host, hub.server.port, local_addr=("127.0.0.2", 0))
            writer.write(b"GET /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            writers.append(writer)
        for _ in range(5):
            for writer in writers:
                writer.write(b"a")  # a byte now and then, never the end of the headers
            await still_serving(hub)
            await asyncio.sleep(0.2)
        answer = await raw_request(hub, b"GET /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n")
        status_line, _, rest = answer.partition(b"\r\n")
        assert b" 400 " in status_line and b"Got more than 8190 bytes" in rest, answer[:200]
        assert b"\r\nServer: hub\r\n" in answer and b"aiohttp" not in answer, (
            "not even a request that is not HTTP learns the software"
        )
    finally:
        for writer in writers:
            writer.close()


@pytest.fixture
async def guarded_hub(tmp_path):
    """A hub with a short header deadline and a small cap of connections per address (the tests' client
    is 127.0.0.1, as every one of the slow connections is)."""
    path = tmp_path / "hub.toml"
    path.write_text("[hub]\nheader_timeout_s = 2\nconnections_per_address = 20\n")
    async with running_hub(path) as running:
        yield running


async def _closed_by_hub(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """What the hub sent before it closed the connection (fails if it stays open past `timeout`)."""
    return await asyncio.wait_for(reader.read(), timeout)


async def test_slow_headers_and_too_many_connections_from_one_address_are_cut_off(guarded_hub):
    hub = guarded_hub
    connections = []
    try:
        for _ in range(50):
            reader, writer = await asyncio.open_connection(hub.server.host, hub.server.port)
            writer.write(b"GET /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")  # never the end of the headers
            connections.append((reader, writer))
        endings = await asyncio.gather(*(_closed_by_hub(reader, 30) for reader, _ in connections))
        assert all(ending == b"" for ending in endings), "each closed without an answer: over the cap, or past the deadline"
        assert hub.app[CAP].refused == 30 and not hub.app[CAP].open, "twenty let in, thirty refused, none left open"
    finally:
        for _, writer in connections:
            writer.close()
    async with hub.session.get(hub.url("/api/streams")) as reply:
        assert reply.status == 200, "and a client that sends its request is served"


async def test_a_body_that_trickles_is_answered_408_after_the_deadline(guarded_hub):
    hub = guarded_hub
    reader, writer = await asyncio.open_connection(hub.server.host, hub.server.port)
    try:
        writer.write(
            f"PUT /api/layouts/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {hub.token}\r\n"
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"size": '.encode()
        )
        answer = await asyncio.wait_for(reader.read(4096), 30)
        assert answer.startswith(b"HTTP/1.1 408 ") and b"did not arrive within 2 s" in answer, answer[:200]
    finally:
        writer.close()
