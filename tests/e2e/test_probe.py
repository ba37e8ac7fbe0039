"""The RTSP probe: pure message helpers, then real cameras (the simulator) and hostile peers on loopback."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from hub.patrol.probe import OK, probe


async def test_probe_tells_ok_not_found_unauthorized_and_unreachable_apart(sim):
    cases = {
        sim.url("h264-360"): OK,
        sim.url("h264-auth", "viewer:s3cret"): OK,
        sim.url("h264-auth", "viewer:wrong"): "auth_failed",
        sim.url("h264-auth"): "auth_failed",
        sim.url("no-such-camera"): "not_found",
        "rtsp://127.0.0.1:9/live": "unreachable",
    }
    results = await asyncio.gather(*(probe(url, timeout_s=10) for url in cases))
    for (url, expected), result in zip(cases.items(), results, strict=False):
        assert result.outcome == expected, (url, result)
        assert "s3cret" not in result.message and "wrong" not in result.message, result.message
    assert "(no credentials configured)" in results[3].message
    assert results[4].status == 404 and results[2].status == 401


async def test_probe_sees_faults_set_at_run_time(sim):
    await asyncio.to_thread(sim.set_fault, "fault-auth", "auth")
    await asyncio.to_thread(sim.set_fault, "fault-stall", "stall")  # a hung camera: RTSP requests go unanswered
    try:
        refused, hung = await asyncio.gather(probe(sim.url("fault-auth"), 10), probe(sim.url("fault-stall"), 2))
    finally:
        await asyncio.to_thread(sim.clear_fault, "fault-auth")
        await asyncio.to_thread(sim.clear_fault, "fault-stall")
    assert refused.outcome == "auth_failed", refused
    assert hung.outcome == "stalled" and hung.seconds >= 2, hung  # the timeout is honoured, not cut short
    assert (await probe(sim.url("fault-auth"), 10)).outcome == OK, "cleared: answers again"


@contextlib.asynccontextmanager
async def peer(answer: bytes | None):
    """A TCP server on loopback that sends `answer` to whatever it hears (None: closes at once)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if answer is not None:
            await reader.read(1024)
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"rtsp://admin:topsecret@127.0.0.1:{server.sockets[0].getsockname()[1]}/live"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "not an RTSP answer"),
        (b"\x00\xff garbage \x17" * 10, "not an RTSP answer"),
        (None, "connection lost (closed by the camera)"),
        (b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n", "connection lost (closed by the camera)"),
        (b"RTSP/1.0 503 Service Unavailable\r\nCSeq: 1\r\n\r\n", "OPTIONS answered 503 Service Unavailable"),
    ],
)
async def test_hostile_or_broken_peers_are_unreachable_with_a_reason(answer, said):
    async with peer(answer) as url:
        result = await probe(url, timeout_s=5)
    assert result.outcome == "unreachable" and said in result.message, result
    assert "topsecret" not in result.message and "rtsp://***@127.0.0.1" in result.message
