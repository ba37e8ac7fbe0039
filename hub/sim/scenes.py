"""Synthetic camera scenes drawn with numpy and OpenCV.

Every picture is a pure function of (scene, frame index, size, fps, label), so
the generated clips are deterministic. Runs wherever the clip generator runs
(a worker process of the simulator); no state is kept between calls.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from hub.sim.frame import FrameSpec, Picture
from hub.sim.frame import scaled as _scaled
from hub.sim.hard_scenes import HARD_SCENES


def _street(spec: FrameSpec) -> Picture:
    w, h, t = spec.width, spec.height, spec.index / spec.fps
    img = np.empty((h, w, 3), np.uint8)
    img[: h // 3] = (120, 110, 100)  # buildings
    for i in range(8):  # windows give the keyframes some detail
        x = int((i + 0.3) * w / 8)
        cv2.rectangle(img, (x, h // 12), (x + w // 20, h // 5), (170, 190, 200), -1)
    img[h // 3 :] = (70, 70, 70)  # asphalt
    lane_y = (2 * h) // 3
    offset = int(t * _scaled(spec, 60)) % _scaled(spec, 80)
    for x in range(-offset, w, _scaled(spec, 80)):
        cv2.rectangle(img, (x, lane_y - 2), (x + _scaled(spec, 40), lane_y + 2), (230, 230, 230), -1)
    cars = [((40, 40, 200), 90, 0.45), ((200, 120, 30), -130, 0.8), ((30, 180, 220), 60, 0.55)]
    for colour, speed, row in cars:
        cx = int((t * _scaled(spec, speed)) % (w + _scaled(spec, 120))) - _scaled(spec, 60)
        if speed < 0:
            cx = w - cx
        cy = int(h * row)
        half_w, half_h = _scaled(spec, 45), _scaled(spec, 20)
        cv2.rectangle(img, (cx - half_w, cy - half_h), (cx + half_w, cy + half_h), colour, -1)
    return img


def _gate(spec: FrameSpec) -> Picture:
    w, h, t = spec.width, spec.height, spec.index / spec.fps
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (150, 160, 150)
    img[(3 * h) // 5 :] = (90, 110, 90)  # lawn
    cv2.rectangle(img, (w // 3, h // 6), ((2 * w) // 3, (3 * h) // 5), (100, 120, 160), -1)
    cv2.rectangle(img, (w // 2 - w // 16, h // 3), (w // 2 + w // 16, (3 * h) // 5), (40, 60, 80), -1)
    angle = 0.5 + 0.5 * np.sin(t * 0.8)  # the barrier arm swings
    end = (int(w // 5 + np.cos(angle) * w / 4), int((3 * h) // 5 - np.sin(angle) * h / 4))
    cv2.line(img, (w // 5, (3 * h) // 5), end, (20, 20, 230), _scaled(spec, 6))
    for i in range(3):  # people walking
        x = int((t * _scaled(spec, 35 + 15 * i) + i * w / 3) % w)
        y = int(h * (0.72 + 0.08 * i))
        cv2.circle(img, (x, y - _scaled(spec, 28)), _scaled(spec, 9), (60, 80, 200), -1)
        cv2.rectangle(
            img, (x - _scaled(spec, 8), y - _scaled(spec, 18)), (x + _scaled(spec, 8), y + _scaled(spec, 12)), (200, 90, 40), -1
        )
    return img


def _room(spec: FrameSpec) -> Picture:
    w, h, t = spec.width, spec.height, spec.index / spec.fps
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (200, 225, 240)
    img[(2 * h) // 3 :] = (140, 190, 230)  # play mat
    # What stays put in a room, and shows when the camera is turned: a window, a shelf of boxes, a door.
    cv2.rectangle(img, (w // 12, h // 6), (w // 4, h // 2), (235, 205, 170), -1)
    cv2.rectangle(img, (w // 12, h // 6), (w // 4, h // 2), (120, 130, 140), _scaled(spec, 4))
    cv2.line(img, ((w // 12 + w // 4) // 2, h // 6), ((w // 12 + w // 4) // 2, h // 2), (120, 130, 140), _scaled(spec, 3))
    shelf = [(80, 90, 200), (90, 170, 90), (190, 140, 60), (60, 170, 210)]
    for i, colour in enumerate(shelf):
        x0 = w // 2 + i * w // 20
        cv2.rectangle(img, (x0, h // 3), (x0 + w // 24, (2 * h) // 3), colour, -1)
    cv2.rectangle(img, ((4 * w) // 5, h // 5), ((9 * w) // 10, (2 * h) // 3), (60, 100, 150), -1)
    colours = [(60, 60, 230), (60, 200, 60), (230, 120, 40), (40, 200, 230)]
    for i, colour in enumerate(colours):
        phase = t * (1.1 + 0.3 * i) + i
        x = int(w * (0.15 + 0.7 * (0.5 + 0.5 * np.sin(phase * 0.7))))
        y = int(h * (0.45 + 0.35 * abs(np.sin(phase * 1.9))))
        cv2.circle(img, (x, y), _scaled(spec, 18 + 4 * i), colour, -1)
    return img


def _road(spec: FrameSpec) -> Picture:
    w, h, t = spec.width, spec.height, spec.index / spec.fps
    img = np.empty((h, w, 3), np.uint8)
    horizon = h // 3
    img[:horizon] = (210, 170, 120)  # sky
    img[horizon:] = (60, 65, 60)
    road = np.array([[w // 2 - w // 40, horizon], [w // 2 + w // 40, horizon], [w, h], [0, h]], np.int32)
    cv2.fillPoly(img, [road], (85, 85, 85))
    for k in range(6):  # dashes rushing towards the camera
        depth = ((k + t * 1.5) % 6) / 6
        y0 = int(horizon + (h - horizon) * depth**2)
        y1 = int(horizon + (h - horizon) * min(1.0, (depth + 0.06) ** 2))
        half = max(1, int(w * 0.01 * (1 + 6 * depth)))
        cv2.rectangle(img, (w // 2 - half, y0), (w // 2 + half, y1), (240, 240, 240), -1)
    return img


def _bars(spec: FrameSpec) -> Picture:
    w, h = spec.width, spec.height
    colours = [(192, 192, 192), (0, 192, 192), (192, 192, 0), (0, 192, 0), (192, 0, 192), (0, 0, 192), (192, 0, 0)]
    img = np.empty((h, w, 3), np.uint8)
    for i, colour in enumerate(colours):
        img[:, i * w // 7 : (i + 1) * w // 7] = colour
    x = (spec.index * _scaled(spec, 8)) % w
    img[(4 * h) // 5 :, :] = 30
    cv2.rectangle(img, (x, (4 * h) // 5), (x + _scaled(spec, 30), h), (255, 255, 255), -1)
    return img


SCENES: dict[str, Callable[[FrameSpec], Picture]] = {
    "street": _street,
    "gate": _gate,
    "room": _room,
    "road": _road,
    "bars": _bars,
    **HARD_SCENES,
}


def _ascii(text: str) -> str:
    """OpenCV's Hershey fonts draw ASCII only; show other characters as '?'."""
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


def overlay(img: Picture, spec: FrameSpec) -> None:
    """The camera's burnt-in text: its name on a black bar at the top, a frame counter at the bottom."""
    scale = spec.width / 640
    thick = max(1, int(round(2 * scale)))
    cv2.rectangle(img, (0, 0), (spec.width, int(34 * scale)), (0, 0, 0), -1)
    cv2.putText(
        img,
        _ascii(spec.label)[:48],
        (int(8 * scale), int(24 * scale)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.7 * scale,
        (255, 255, 255),
        thick,
        cv2.LINE_AA,
    )
    footer = f"frame {spec.index:06d}  {spec.width}x{spec.height} @ {spec.fps} fps"
    cv2.putText(
        img,
        footer,
        (int(8 * scale), spec.height - int(10 * scale)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.55 * scale,
        (255, 255, 255),
        thick,
        cv2.LINE_AA,
    )


def _grain(spec: FrameSpec) -> np.ndarray:
    """Low sensor noise, seeded by frame index so clips stay deterministic."""
    rng = np.random.default_rng(spec.index % 16)
    return rng.integers(-3, 4, size=(spec.height, spec.width, 1), dtype=np.int16)


def draw(scene: str, spec: FrameSpec, optics: Callable[[Picture], Picture] | None = None) -> Picture:
    """One picture of `scene`, with the label and frame counter drawn in; `optics` (a fault of the lens or
    the sensor) changes the picture before the camera burns its text in, as a real camera's would."""
    img = SCENES[scene](spec)
    noisy = np.clip(img.astype(np.int16) + _grain(spec), 0, 255).astype(np.uint8)
    if optics is not None:
        noisy = optics(noisy)
    overlay(noisy, spec)
    return noisy


def black(spec: FrameSpec) -> Picture:
    """A picture of a camera whose sensor sees nothing: flat black."""
    return np.zeros((spec.height, spec.width, 3), np.uint8)
