"""Contender (b): a bare PyAV demux loop, one thread per stream, doing nothing with the packets.

The floor for any Python tool built on FFmpeg. Usage: python pyav_demux.py URL [URL ...]
Prints "ready N" once the streams are open (N = how many opened), then "frames N" every second.
"""

import sys
import threading
import time

import av

opened = threading.Semaphore(0)
counts: list[int] = []


def read(slot: int, url: str) -> None:
    try:
        # FFmpeg's own socket timeout, not PyAV's read timeout: PyAV's takes the GIL on every
        # socket poll and nearly doubles the cost of this loop with 100 threads.
        container = av.open(url, options={"rtsp_transport": "tcp", "timeout": "10000000"}, timeout=(20, None))
    finally:
        opened.release()
    for _ in container.demux(video=0):
        counts[slot] += 1


def main() -> None:
    urls = sys.argv[1:]
    counts.extend([0] * len(urls))
    for slot, url in enumerate(urls):
        threading.Thread(target=read, args=(slot, url), daemon=True).start()
    deadline = time.monotonic() + 90
    done = sum(opened.acquire(timeout=max(0.1, deadline - time.monotonic())) for _ in urls)
    print(f"ready {done}", flush=True)
    while True:
        time.sleep(1)
        print(f"frames {sum(counts)}", flush=True)


if __name__ == "__main__":
    main()
