"""Natural footage: photographs (scikit-image's sample pictures, shipped in its wheel, so nothing is
downloaded) made into a camera's clips through `hub.sim.optics`, for the benchmark and the tests.

Runs in the process that asks (a benchmark, a test; `encode` in a worker process): `picture` makes one
frame, `encode` a whole H.264 MP4 clip that GStreamer's RTSP server can serve. scikit-image is a test
and benchmark dependency only (`pip install .[test]`); the hub itself never imports this module.
A clip is a pure function of its `ClipPlan`, so it is cached by name under the hub's clip cache (`natural/`).

Scenes: day pictures with colour (a street-like launch site and sky, a table top, an office portrait, a
garage, a cat's fur), grey ones by day (a man with a camera on a lawn under a flat sky, a brick wall,
gravel), night versions (grey, dim, noisier: IR), and every scene can carry slow natural change (the
light rises and falls, a shadow crosses). Every frame carries the camera's burnt-in name and frame count.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from hub.sim import optics, picture_faults, scenes
from hub.sim.clips import cache_dir
from hub.sim.frame import FrameSpec

WIDTH, HEIGHT = 640, 360
# name: (scikit-image picture, where the 16:9 crop starts, as a share of the spare height)
SOURCES = {
    "launch": ("rocket.jpg", 0.15),  # sky, a tower, trees: large smooth areas
    "table": ("coffee.png", 0.5),  # a table top, a cup: smooth with a little texture
    "office": ("astronaut.png", 0.3),  # a portrait, a flag, a plain background
    "garage": ("motorcycle_left.png", 0.5),  # fine detail everywhere
    "fur": ("chelsea.png", 0.5),  # fine texture, close up
    "lawn": ("camera.png", 0.35),  # grey: a man, a camera, a flat sky, grass
    "wall": ("brick.png", 0.5),  # grey: a camera pointed at a brick wall
    "gravel": ("gravel.png", 0.5),  # grey: fine texture only
}
DAY_SCENES = tuple(SOURCES)
NIGHT_SCENES = ("launch-night", "garage-night", "lawn-night")
FAULTS = (*optics.LENS_FAULTS, *picture_faults.FOUND_BY)  # the lens faults, and the simulator's on natural pictures
LENS_FOUND_BY = {"defocus": "blurred", "dirty": "blurred", "fog": "low_contrast"}
FOUND_BY = {**picture_faults.FOUND_BY, **LENS_FOUND_BY}
STRENGTHS = {  # weak, default, strong
    "defocus": (1.5, 3, 6),
    "dirty": (0.3, 0.5, 0.7),
    "fog": (0.5, 0.7, 0.85),
}


@functools.cache
def base(scene: str) -> np.ndarray:
    """A scene's picture at 640x360 through the lens (vignetting), before light, faults, noise and text."""
    try:
        import skimage.data  # the tests' and benchmark's dependency only: the hub never needs it
    except ImportError as error:
        raise RuntimeError("natural footage needs scikit-image's sample pictures: pip install '.[test]'") from error

    name, where = SOURCES[scene.removesuffix("-night")]
    source = Path(skimage.data.data_dir) / name
    picture = cv2.imread(str(source), cv2.IMREAD_COLOR)  # BGR, grey ones too
    if picture is None:
        raise RuntimeError(f"cannot read the sample picture {source}")
    height, width = picture.shape[:2]
    crop = round(width * HEIGHT / WIDTH)
    if crop > height:  # wider than 16:9: the middle columns
        keep = round(height * WIDTH / HEIGHT)
        picture = picture[:, (width - keep) // 2 : (width - keep) // 2 + keep]
    else:
        top = round((height - crop) * where)
        picture = picture[top : top + crop]
    shrinking = picture.shape[1] > WIDTH
    picture = cv2.resize(picture, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    return optics.vignetting(picture)


@dataclass(frozen=True)
class ClipPlan:
    """One natural clip: a scene, maybe a fault (`kind` at `strength`) from `onset_s` on, slow change or not."""

    scene: str
    seconds: int
    fps: int = 5
    kind: str = ""
    strength: float = 0.0
    onset_s: float = 0.0
    change: bool = False
    label: str = "CAM"

    def name(self) -> str:
        fault = f"-{self.kind}-{self.strength:g}-at{self.onset_s:g}" if self.kind else ""
        label = f"{zlib.crc32(self.label.encode()):08x}"
        return f"{self.scene}{fault}{'-change' if self.change else ''}-{self.seconds}s-{self.fps}fps-{label}-v1"


def picture(plan: ClipPlan, index: int) -> np.ndarray:
    """Frame `index` of the clip: light, lens (and its fault), sensor, text."""
    seconds = index / plan.fps
    faulty = bool(plan.kind) and seconds >= plan.onset_s
    if plan.change:
        frame = _lens(optics.lighting(base(plan.scene), seconds), plan.kind if faulty else "", plan.strength, index)
    else:  # a still scene through a still lens: the same picture every frame until the sensor adds its noise
        frame = _still(plan.scene, plan.kind if faulty else "", plan.strength)
        if faulty and plan.kind in PER_FRAME:
            frame = picture_faults.render(plan.kind, plan.strength, frame, index)
    night = plan.scene.endswith("-night")
    if night:
        frame = optics.night(frame)
    frame = cv2.add(frame.astype(np.int16), _noise(index % 32, 4.0 if night else 2.0), dtype=cv2.CV_8U)
    scenes.overlay(frame, FrameSpec(index, WIDTH, HEIGHT, plan.fps, plan.label))
    if faulty and plan.kind in SIGNAL_FAULTS:
        frame = picture_faults.render(plan.kind, plan.strength, frame, index)  # the signal's faults: text too
    return frame


PER_FRAME = frozenset({"noise", "cover"})  # lens and sensor faults that change from frame to frame
SIGNAL_FAULTS = frozenset(picture_faults.PICTURE_FAULTS) - picture_faults.OPTICAL


def _lens(frame: np.ndarray, kind: str, strength: float, index: int) -> np.ndarray:
    if kind in optics.LENS_FAULTS:
        return optics.lens_fault(kind, strength, frame)
    if kind in picture_faults.OPTICAL:
        return picture_faults.render(kind, strength, frame, index)
    return frame


@functools.cache
def _still(scene: str, kind: str, strength: float) -> np.ndarray:
    return _lens(base(scene), "" if kind in PER_FRAME else kind, strength, 0)


@functools.cache
def _noise(seed: int, sigma: float) -> np.ndarray:
    """One of a few frames of sensor noise (int16, BGR): luma noise, and a third of it on each colour."""
    return optics.noise_field(seed, (HEIGHT, WIDTH), sigma)


def path(plan: ClipPlan) -> Path:
    return cache_dir() / "natural" / f"{plan.name()}.mp4"


def add_stream(container, fps: int):
    """An H.264 stream in a PyAV output `container` as the natural clips are encoded: 640x360, a keyframe
    every 2 s (as the simulator's), x264 veryfast at a camera substream's bitrate."""
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    stream.time_base = Fraction(1, fps)
    stream.bit_rate = 500_000 * fps // 25 + 150_000
    gop = 2 * fps
    stream.options = {"preset": "veryfast", "threads": "1", "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"}
    return stream


def encode(plan: ClipPlan) -> str:
    """The clip as an H.264 MP4 (a keyframe every 2 s, as the simulator's), cached; returns its path.
    Runs in a worker process (PyAV's libx264)."""
    import av

    out = path(plan)
    if out.exists():
        return str(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".part.mp4")
    with av.open(str(partial), "w") as container:
        stream = add_stream(container, plan.fps)
        for index in range(plan.seconds * plan.fps):
            frame = av.VideoFrame.from_ndarray(picture(plan, index), format="bgr24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.rename(out)
    return str(out)
