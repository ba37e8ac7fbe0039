"""Feeds that misbehave at the protocol level: the hub reports them and keeps every other stream going."""

from __future__ import annotations

import asyncio


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
