"""Feeds that misbehave at the protocol level: the hub reports them and keeps every other stream going."""

from __future__ import annotations

import asyncio
import os

from support.estates import sim_stream
from support.hubrun import hub_config_text, running_hub


async def _junk_server(reply: bytes) -> tuple[asyncio.AbstractServer, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(4096)
            writer.write(reply)
            await writer.drain()
            await asyncio.sleep(0.5)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _stream(stream_id: str, port: int) -> str:
    return (
        f'[[streams]]\nid = "{stream_id}"\nname = "Broken {stream_id}"\ncategory = "property"\n'
        f'position = [31.77, 117.30]\nurl = "rtsp://user:hunter2@127.0.0.1:{port}/live"\n'
    )


async def test_garbage_speaking_cameras_are_offline_and_the_rest_stay_online(sim, tmp_path):
    servers = []
    junk = {
        "http-not-rtsp": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "random-bytes": bytes(range(256)) * 8,
        "bad-sdp": b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: 12\r\n\r\nnot an sdp\r\n",
    }
    streams = []
    for stream_id, reply in junk.items():
        server, port = await _junk_server(reply)
        servers.append(server)
        streams.append(_stream(stream_id, port))
    path = tmp_path / "hub.toml"
    path.write_text(
        hub_config_text(
            "".join(streams) + sim_stream("h264-360", "sim://street?size=640x360&fps=25&codec=h264"), sim.rtsp, sim.control
        )
    )
    try:
        async with running_hub(path) as hub:
            for stream_id in junk:
                record = await hub.wait_for(stream_id, "offline", timeout=60)
                assert record["reasons"], record
            healthy = await hub.wait_for("h264-360", "online", timeout=60)
            assert healthy["state"] == "online"
            status, body = await hub.get_json("/healthz")
            assert status == 200
            async with hub.session.get(hub.url("/api/streams")) as response:
                assert "hunter2" not in await response.text()
    finally:
        for server in servers:
            server.close()


async def _garbage_rtp_camera() -> tuple[asyncio.AbstractServer, int]:
    """Answers RTSP properly (an H.264 SDP, SETUP, PLAY), then sends random bytes as interleaved RTP."""
    sdp = (
        b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=junk\r\nt=0 0\r\n"
        b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n"
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method = head.split(b" ", 1)[0]
                cseq = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"cseq"))
                extra, body = b"", b""
                if method == b"DESCRIBE":
                    extra, body = b"Content-Type: application/sdp\r\n", sdp
                elif method == b"SETUP":
                    extra = b"Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 12345678\r\n"
                elif method == b"OPTIONS":
                    extra = b"Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"
                writer.write(
                    b"RTSP/1.0 200 OK\r\nCSeq: " + cseq + b"\r\n" + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body
                )
                await writer.drain()
                if method == b"PLAY":
                    break
            for n in range(25 * 120):  # two minutes of 25 packets a second of noise
                payload = os.urandom(1400)
                rtp = (
                    bytes([0x80, 96])
                    + (n & 0xFFFF).to_bytes(2, "big")
                    + (n * 3600).to_bytes(4, "big")
                    + b"\x12\x34\x56\x78"
                    + payload
                )
                writer.write(b"$\x00" + len(rtp).to_bytes(2, "big") + rtp)
                await writer.drain()
                await asyncio.sleep(0.04)
        except (ConnectionError, asyncio.IncompleteReadError, StopIteration):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_a_camera_sending_garbage_rtp_is_reported_and_the_rest_carry_on(sim, tmp_path):
    server, port = await _garbage_rtp_camera()
    path = tmp_path / "hub.toml"
    path.write_text(
        hub_config_text(
            _stream("noise", port) + sim_stream("h264-360", "sim://street?size=640x360&fps=25&codec=h264"), sim.rtsp, sim.control
        )
    )
    try:
        async with running_hub(path) as hub:
            await hub.wait_for("h264-360", "online", timeout=60)
            deadline = asyncio.get_running_loop().time() + 60
            while True:
                record = await hub.record("noise")
                if record["state"] in ("offline", "degraded") and record["reasons"]:
                    break
                assert asyncio.get_running_loop().time() < deadline, record
                await asyncio.sleep(0.5)
            assert record["state"] != "online"
            assert (await hub.record("h264-360"))["state"] == "online"
            status, _ = await hub.get_json("/healthz")
            assert status == 200
    finally:
        server.close()
