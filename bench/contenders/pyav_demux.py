"""Contender (b): a bare PyAV demux loop, one thread per stream, doing nothing with the packets.

The floor for any Python tool built on FFmpeg. Usage: python pyav_demux.py URL [URL ...]
Prints "ready" once every stream is open; runs until killed.
"""

import sys
import threading

import av

opened = threading.Semaphore(0)


def read(url: str) -> None:
    # FFmpeg's own socket timeout, not PyAV's read timeout: PyAV's takes the GIL on every
    # socket poll and nearly doubles the cost of this loop with 100 threads.
    container = av.open(url, options={"rtsp_transport": "tcp", "timeout": "10000000"}, timeout=(20, None))
    opened.release()
    for _ in container.demux(video=0):
        pass


def main() -> None:
    urls = sys.argv[1:]
    for url in urls:
        threading.Thread(target=read, args=(url,), daemon=True).start()
    for _ in urls:
        opened.acquire()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
