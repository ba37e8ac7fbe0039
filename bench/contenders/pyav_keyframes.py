"""Contender (d): the bare PyAV demux loop that also decodes one keyframe every 2 s, as any tool must that
looks at the picture (frozen, black, blur) without decoding every frame.

The floor for a hub that watches pictures: the keyframe is decoded on the stream's own decoder with the
hub's decoding options (no deblocking) and flushed, then dropped. Usage: python pyav_keyframes.py URL [URL ...]
"""

import time

import av
from harness import run

PICTURE_EVERY_S = 0.9 * 2.0  # as the hub: keyframes every 2.00 s with jitter must not become 4 s


def read(url, count_frame, opened) -> None:
    container = av.open(url, options={"rtsp_transport": "tcp", "timeout": "10000000"}, timeout=(20, None))
    video = container.streams.video[0]
    context = video.codec_context
    context.thread_count = 1
    context.options = {"skip_loop_filter": "all"}
    opened()
    last = -1e9
    for packet in container.demux(video):
        count_frame()
        if packet.is_keyframe and time.monotonic() - last >= PICTURE_EVERY_S:
            last = time.monotonic()
            list(context.decode(packet) or context.decode(None))
            context.flush_buffers()


if __name__ == "__main__":
    run(read)
