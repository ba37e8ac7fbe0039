"""Sample clips: generated once with PyAV + libx264/libx265, cached on disk, packetised in memory.

Who runs where: `encode_clip` runs in a worker process of a
`ProcessPoolExecutor` (encoding holds a core for about a second per clip and
must not stall the simulator's event loop); `load_clip` runs on the caller's
thread and only reads the cache and splits bytes.

A clip is stored as an Annex B elementary stream (`.h264` / `.h265`, playable
by ffplay) plus a JSON index of frame offsets, in `HUB_CACHE_DIR` or
`~/.cache/hub/clips`. Files are written to a temporary name and renamed, so
concurrent generators never see half a clip.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from hub.sim import nal, picture_faults, scenes

GENERATOR_VERSION = 3  # bumped when clips change: the room got furniture
CLIP_SECONDS = 6
KEYFRAME_SECONDS = 2
LOW_FPS_DIVISOR = 5

NORMAL, STILL, BLACK, LOW_FPS = "normal", "still", "black", "lowfps"
VARIANTS = (NORMAL, STILL, BLACK, LOW_FPS)


@dataclass(frozen=True)
class ClipSpec:
    """Everything a clip's bytes depend on."""

    scene: str
    width: int
    height: int
    fps: int
    codec: str  # nal.H264 | nal.H265
    label: str
    variant: str = NORMAL

    @property
    def encoded_fps(self) -> int:
        return max(1, self.fps // LOW_FPS_DIVISOR) if self.variant == LOW_FPS else self.fps

    def key(self) -> str:
        label = "" if self.variant == BLACK else self.label
        digest = hashlib.sha1(f"{GENERATOR_VERSION}|{label}".encode()).hexdigest()[:10]
        scene = "black" if self.variant == BLACK else self.scene
        return f"{scene}-{self.width}x{self.height}-{self.fps}-{self.codec}-{self.variant}-{digest}"


@dataclass(frozen=True)
class Frame:
    """One access unit, ready for RTP: payloads in order, parameter sets first on keyframes."""

    keyframe: bool
    payloads: tuple[bytes, ...]


@dataclass(frozen=True)
class Clip:
    spec: ClipSpec
    parameter_sets: nal.ParameterSets
    frames: tuple[Frame, ...]

    @property
    def fps(self) -> int:
        return self.spec.encoded_fps

    @property
    def bitrate_bps(self) -> float:
        size = sum(len(p) for f in self.frames for p in f.payloads)
        return size * 8 * self.fps / len(self.frames)


def cache_dir() -> Path:
    """Where clips live: $HUB_CACHE_DIR, else $XDG_CACHE_HOME/hub/clips, else ~/.cache/hub/clips."""
    if os.environ.get("HUB_CACHE_DIR"):
        return Path(os.environ["HUB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hub" / "clips"


def _paths(spec: ClipSpec) -> tuple[Path, Path]:
    # Not Path.with_suffix: a key holds a fault's strength ("lowcontrast-0.25"), whose dot is no suffix.
    stem = str(cache_dir() / spec.key())
    return Path(f"{stem}.{spec.codec}"), Path(f"{stem}.json")


def is_cached(spec: ClipSpec) -> bool:
    return all(p.exists() for p in _paths(spec))


def _pictures(spec: ClipSpec):
    fps = spec.encoded_fps
    count = CLIP_SECONDS * fps
    step = spec.fps // fps if spec.variant == LOW_FPS else 1
    fault = picture_faults.parse_variant(spec.variant)
    for i in range(count):
        source = 0 if spec.variant == STILL else i * step
        frame = scenes.FrameSpec(source, spec.width, spec.height, spec.fps, spec.label)
        if spec.variant == BLACK:
            yield scenes.black(frame)
        else:
            yield faulty_picture(spec.scene, frame, fault, i)


def faulty_picture(scene: str, frame: scenes.FrameSpec, fault: tuple[str, float] | None, index: int):
    """One picture as a simulated camera shows it: a fault of the lens or the sensor under the camera's
    text overlay, interference and broken blocks over everything."""
    if fault is None:
        return scenes.draw(scene, frame)
    if fault[0] in picture_faults.OPTICAL:
        return scenes.draw(scene, frame, lambda picture: picture_faults.render(*fault, picture, index))
    return picture_faults.render(*fault, scenes.draw(scene, frame), index)


def _encoder(spec: ClipSpec):
    import av  # imported here: worker processes need it, importers of this module may not

    fps = spec.encoded_fps
    gop = KEYFRAME_SECONDS * fps
    area = spec.width * spec.height / (640 * 360)
    ctx = av.CodecContext.create("libx264" if spec.codec == nal.H264 else "libx265", "w")
    ctx.width, ctx.height, ctx.pix_fmt = spec.width, spec.height, "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.framerate = Fraction(fps, 1)
    ctx.gop_size = gop
    ctx.bit_rate = int(500_000 * area**0.75 * fps / spec.fps)
    common = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"
    if spec.codec == nal.H264:
        # One thread makes x264 output deterministic; repeat-headers keeps SPS/PPS in band.
        ctx.options = {"preset": "veryfast", "threads": "1", "x264-params": common}
    else:
        ctx.options = {"preset": "veryfast", "x265-params": f"log-level=error:{common}:pools=1:frame-threads=1:repeat-headers=1"}
    return ctx


def encode_clip(spec: ClipSpec) -> str:
    """Encode `spec` into the cache (no-op when present); returns the stream path. Runs in a worker process."""
    import av

    stream_path, index_path = _paths(spec)
    if stream_path.exists() and index_path.exists():
        return str(stream_path)
    stream_path.parent.mkdir(parents=True, exist_ok=True)
    ctx = _encoder(spec)
    data, index = bytearray(), list[list]()
    for i, picture in enumerate(_pictures(spec)):
        frame = av.VideoFrame.from_ndarray(picture, format="bgr24").reformat(format="yuv420p")
        frame.pts = i
        _append(ctx.encode(frame), data, index)
    _append(ctx.encode(None), data, index)
    meta = {"fps": spec.encoded_fps, "width": spec.width, "height": spec.height, "frames": index}
    _write_atomic(stream_path, bytes(data))
    _write_atomic(index_path, json.dumps(meta).encode())
    return str(stream_path)


def _append(packets, data: bytearray, index: list) -> None:
    for packet in packets:
        payload = bytes(packet)
        index.append([len(data), len(payload), bool(packet.is_keyframe)])
        data += payload


def _write_atomic(path: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as out:
        out.write(content)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def load_clip(spec: ClipSpec) -> Clip:
    """Read a cached clip and packetise every frame for RTP (the parameter sets lead each keyframe)."""
    stream_path, index_path = _paths(spec)
    data = stream_path.read_bytes()
    meta = json.loads(index_path.read_text())
    units_per_frame = [nal.split_annexb(data[o : o + n]) for o, n, _ in meta["frames"]]
    params = nal.parameter_sets(spec.codec, [u for units in units_per_frame for u in units])
    frames = []
    for (_, _, key), units in zip(meta["frames"], units_per_frame, strict=False):
        body = [u for u in units if not nal.is_parameter_set(spec.codec, u) and not nal.is_dropped(spec.codec, u)]
        if key:
            body = list(params.units) + body
        payloads = tuple(p for u in body for p in nal.payloads(spec.codec, u))
        frames.append(Frame(bool(key), payloads))
    return Clip(spec, params, tuple(frames))
