"""Contender (c): an OpenCV VideoCapture read loop per stream, what most Python camera tools do.

Every frame is decoded and converted to BGR by `read()`. Usage: python opencv_read.py URL [URL ...]
Prints "ready N" once the streams are open (N = how many opened), then "frames N" every second.
"""

import os
import sys
import threading
import time

os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

import cv2  # noqa: E402

opened = threading.Semaphore(0)
counts: list[int] = []


def read(slot: int, url: str) -> None:
    try:
        capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
    finally:
        opened.release()
    while capture.read()[0]:
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
