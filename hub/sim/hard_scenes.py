"""Scenes that are hard for picture diagnostics: where video-quality-diagnosis products raise false alarms.

Pure, deterministic functions of a `FrameSpec`, like `hub.sim.scenes` (which registers them); run in the
clip encoders' worker processes.

| scene | what it is | what it tempts a check into |
|---|---|---|
| `night` | a yard at night under an infrared lamp: grey, dim edges, grainy, a walker lit | dark, noisy, IR-cut, low contrast |
| `rain` | an overcast street in heavy rain: streaks in every frame | noisy, blurred, low contrast, striped |
| `office` | an empty office: nothing moves but the frame counter | covered (plain walls), frozen |
| `traffic` | a busy road: a dozen cars and trucks in four lanes | moved (the picture changes a lot) |
| `clock` | a corridor with a big ticking clock overlay | moved, frozen (only the clock changes) |
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from hub.sim.frame import FrameSpec, Picture, scaled


def _night(spec: FrameSpec) -> Picture:
    w, h, t = spec.width, spec.height, spec.index / spec.fps
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lamp = np.exp(-(((xx - w / 2) / (0.55 * w)) ** 2 + ((yy - 0.6 * h) / (0.6 * h)) ** 2))  # the IR lamp's falloff
    grey = 25 + 70 * lamp
    grey[(2 * h) // 3 :] += 12  # paving reflects the IR better than the wall
    for i in range(5):  # windows: dark panes in a lit wall
        x = int((i + 0.4) * w / 5)
        grey[h // 8 : h // 3, x : x + w // 14] -= 18
    walker = int((t * scaled(spec, 40)) % (w + scaled(spec, 40))) - scaled(spec, 20)
    cv2.rectangle(grey, (walker - scaled(spec, 7), int(0.55 * h)), (walker + scaled(spec, 7), int(0.85 * h)), 150.0, -1)
    noise = np.random.default_rng(spec.index % 25).normal(0, 3.5, (h, w)).astype(np.float32)
    picture = np.clip(grey + noise, 0, 255).astype(np.uint8)
    return cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR)


def _rain(spec: FrameSpec) -> Picture:
    w, h, t = spec.width, spec.height, spec.index / spec.fps
    img = np.empty((h, w, 3), np.uint8)
    img[: h // 3] = (105, 100, 95)  # wet facades
    for i in range(6):
        x = int((i + 0.25) * w / 6)
        cv2.rectangle(img, (x, h // 10), (x + w // 16, h // 4), (140, 150, 150), -1)
    img[h // 3 :] = (62, 62, 60)  # wet asphalt
    cx = int((t * scaled(spec, 70)) % (w + scaled(spec, 100))) - scaled(spec, 50)
    cv2.rectangle(img, (cx - scaled(spec, 40), int(0.6 * h)), (cx + scaled(spec, 40), int(0.7 * h)), (50, 50, 150), -1)
    rng = np.random.default_rng(1000 + spec.index % 30)
    streaks = np.zeros((h, w), np.uint8)
    for x, y in zip(rng.integers(0, w, 260), rng.integers(0, h, 260), strict=False):
        cv2.line(streaks, (int(x), int(y)), (int(x) - scaled(spec, 3), int(y) + scaled(spec, 14)), 70, 1, cv2.LINE_AA)
    return cv2.add(img, cv2.cvtColor(streaks, cv2.COLOR_GRAY2BGR))


def _office(spec: FrameSpec) -> Picture:
    w, h = spec.width, spec.height
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (205, 210, 212)  # plain walls
    img[(3 * h) // 4 :] = (120, 130, 140)  # carpet
    cv2.rectangle(img, (w // 12, h // 6), (w // 3, h // 2), (230, 200, 170), -1)  # window
    cv2.line(img, ((w // 12 + w // 3) // 2, h // 6), ((w // 12 + w // 3) // 2, h // 2), (90, 90, 90), scaled(spec, 3))
    cv2.rectangle(img, (w // 2, int(0.55 * h)), (int(0.9 * w), int(0.62 * h)), (60, 90, 130), -1)  # desk
    cv2.rectangle(img, (int(0.62 * w), int(0.4 * h)), (int(0.74 * w), int(0.55 * h)), (30, 30, 30), -1)  # monitor
    for i in range(5):  # books on a shelf
        x = int(0.04 * w) + i * scaled(spec, 14)
        cv2.rectangle(
            img, (x, int(0.62 * h)), (x + scaled(spec, 10), int(0.74 * h)), (40 + 40 * i, 160 - 25 * i, 90 + 20 * i), -1
        )
    return img


def _traffic(spec: FrameSpec) -> Picture:
    w, h, t = spec.width, spec.height, spec.index / spec.fps
    img = np.empty((h, w, 3), np.uint8)
    img[: h // 4] = (150, 140, 120)  # a wall of shops
    for i in range(10):
        x = int(i * w / 10)
        cv2.rectangle(img, (x + 4, h // 12), (x + w // 12, h // 5), (60 + 15 * i, 150, 200 - 12 * i), -1)
    img[h // 4 :] = (75, 75, 75)
    for lane in range(1, 4):
        y = h // 4 + lane * (3 * h // 4) // 4
        cv2.line(img, (0, y), (w, y), (200, 200, 200), max(1, scaled(spec, 2)))
    for k in range(14):  # cars and trucks, four lanes, both ways
        lane, speed = k % 4, (90 + 23 * (k % 5)) * (1 if k % 4 < 2 else -1)
        length = scaled(spec, 110 if k % 5 == 0 else 60)
        x = int((t * scaled(spec, speed) + k * w / 3.5) % (w + 2 * length)) - length
        y = h // 4 + lane * (3 * h // 4) // 4 + scaled(spec, 8)
        colour = (30 + 37 * k % 220, 60 + 53 * k % 190, 200 - 29 * k % 180)
        cv2.rectangle(img, (x, y), (x + length, y + (3 * h // 4) // 4 - scaled(spec, 16)), colour, -1)
    return img


def _clock(spec: FrameSpec) -> Picture:
    w, h, t = spec.width, spec.height, spec.index / spec.fps
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (170, 180, 185)  # a corridor
    cv2.fillPoly(img, [np.array([[0, h], [w // 3, h // 2], [(2 * w) // 3, h // 2], [w, h]], np.int32)], (110, 120, 130))
    cv2.rectangle(img, (w // 3, h // 5), ((2 * w) // 3, h // 2), (90, 100, 110), -1)  # the far door
    for side in (0, 1):
        x = w // 10 if side == 0 else (8 * w) // 10
        cv2.rectangle(img, (x, h // 4), (x + w // 10, (3 * h) // 4), (60, 110, 150), -1)
    seconds = 13 * 3600 + 37 * 60 + int(t)  # the clock ticks once a second
    text = f"2026-11-27 {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    scale = w / 640
    cv2.rectangle(img, (int(w * 0.45), int(h * 0.82)), (w, h), (20, 20, 20), -1)
    cv2.putText(
        img,
        text,
        (int(w * 0.47), int(h * 0.93)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.75 * scale,
        (255, 255, 255),
        max(1, round(2 * scale)),
        cv2.LINE_AA,
    )
    return img


HARD_SCENES: dict[str, Callable[[FrameSpec], Picture]] = {
    "night": _night,
    "rain": _rain,
    "office": _office,
    "traffic": _traffic,
    "clock": _clock,
}
