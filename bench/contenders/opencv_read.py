"""Contender (c): an OpenCV VideoCapture read loop per stream, what most Python camera tools do.

Every frame is decoded and converted to BGR by `read()`. Usage: python opencv_read.py URL [URL ...]
Prints "ready" once every stream is open; runs until killed.
"""

import os
import sys
import threading

os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

import cv2  # noqa: E402

opened = threading.Semaphore(0)


def read(url: str) -> None:
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
    opened.release()
    while capture.read()[0]:
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
