"""Contender (c): an OpenCV VideoCapture read loop per stream, what most Python camera tools do.

Every frame is decoded and converted to BGR by `read()`. Usage: python opencv_read.py URL [URL ...]
"""

import os

os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

import cv2  # noqa: E402
from harness import run  # noqa: E402


def read(url, count_frame, opened) -> None:
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
    opened()
    while capture.read()[0]:
        count_frame()


if __name__ == "__main__":
    run(read)
