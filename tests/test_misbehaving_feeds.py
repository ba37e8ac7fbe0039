"""Feeds that misbehave at the protocol level: the hub reports them and keeps every other stream going."""

from __future__ import annotations

import asyncio

from conftest import sim_stream
from hubrun import hub_config_text, running_hub


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
    return (f'[[streams]]\nid = "{stream_id}"\nname = "Broken {stream_id}"\ncategory = "property"\n'
            f'position = [31.77, 117.30]\nurl = "rtsp://user:hunter2@127.0.0.1:{port}/live"\n')


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
    path.write_text(hub_config_text("".join(streams) + sim_stream("h264-360", "sim://street?size=640x360&fps=25&codec=h264"), sim.rtsp, sim.control))
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


async def test_ffmpeg_may_only_speak_rtsp_whatever_the_url_says(tmp_path):
    # The config accepts rtsp/rtsps (and sim) URLs only; FFmpeg itself is held to the RTSP family too,
    # so no URL (nor a redirect) can make the hub read local files or speak other protocols.
    import threading

    import av
    import numpy as np

    from hub.ingest.mailbox import Mailbox
    from hub.ingest.observations import Closed
    from hub.ingest.reader import Reader, ReaderSettings

    secret = tmp_path / "secret.mp4"  # a real video file, which FFmpeg would happily read
    with av.open(str(secret), "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        for _ in range(10):
            out.mux(video.encode(av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")))
        out.mux(video.encode(None))
    loop = asyncio.get_running_loop()
    got: list = []
    done = asyncio.Event()

    def receive(items):
        got.extend(items)
        if any(isinstance(i, Closed) for i in items):
            done.set()

    reader = Reader(ReaderSettings(f"file://{secret}", "tcp", 2.0, 5.0), 1, Mailbox(loop, receive), threading.Event())
    threading.Thread(target=reader.run, daemon=True).start()
    await asyncio.wait_for(done.wait(), 30)
    closed = [i for i in got if isinstance(i, Closed)]
    assert closed and not closed[0].had_frames, "FFmpeg read a local file"
    assert [i for i in got if type(i).__name__ in ("Opened", "PacketBatch")] == []
