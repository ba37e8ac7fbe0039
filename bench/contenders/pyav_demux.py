"""Contender (b): a bare PyAV demux loop, one thread per stream, doing nothing with the packets.

The floor for any Python tool built on FFmpeg. Usage: python pyav_demux.py URL [URL ...]
"""

import av
from harness import run


def read(url, count_frame, opened) -> None:
    # FFmpeg's own socket timeout, not PyAV's read timeout: PyAV's takes the GIL on every
    # socket poll and nearly doubles the cost of this loop with 100 threads.
    container = av.open(url, options={"rtsp_transport": "tcp", "timeout": "10000000"}, timeout=(20, None))
    opened()
    for _ in container.demux(video=0):
        count_frame()


if __name__ == "__main__":
    run(read)
