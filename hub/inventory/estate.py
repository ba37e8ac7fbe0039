"""The reference estate as a config: 1,555 simulated cameras of the Fangxing community. Pure: text out.

`estate_config()` places the four categories on the basemap that the UI draws:
- 1,000 public-security cameras along its streets, on both sides, evenly spaced;
- 538 property cameras inside the twenty residential compounds (the basemap's blocks);
- 14 childcare rooms in three kindergartens, tagged sensitive;
- 3 vehicles that report their own positions (`hub demo --estate` drives them along the streets).
About 3 % of the cameras carry a fault, every kind in turn. Every camera has a substream: health and
patrol read it, big wall tiles play the main stream. Clips are shared per scene and size
(`[sim] clip_labels = "scene"`), so the simulator encodes a dozen clips, not 1,555.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from hub.config import FAULTS

BASEMAP = Path(__file__).resolve().parent.parent / "ui" / "basemap.geojson"
COUNTS = {"public-security": 1000, "property": 538, "childcare": 14, "vehicle": 3}
FAULT_SHARE = 0.03
KINDERGARTENS = (("Sunflower Kindergarten", 5), ("Little Dipper Kindergarten", 5), ("Bamboo Grove Kindergarten", 4))
VEHICLES = ("Patrol car 3", "Patrol e-bike 7", "Community shuttle bus")
MAIN, SUB = "1280x720", "640x360"


@dataclass(frozen=True)
class Camera:
    id: str
    name: str
    category: str
    site: str
    scene: str
    tags: tuple[str, ...]
    position: tuple[float, float] | None
    size: str = MAIN
    sub: str | None = SUB
    fault: str | None = None

    def toml(self) -> str:
        query = f"size={self.size}" + (f"&sub={self.sub}" if self.sub else "") + "&fps=25&codec=h264"
        lines = [
            "[[streams]]",
            f'id = "{self.id}"',
            f"name = {json.dumps(self.name)}",
            f'category = "{self.category}"',
            f"site = {json.dumps(self.site)}",
            f'url = "sim://{self.scene}?{query}"',
            "tags = [" + ", ".join(json.dumps(t) for t in self.tags) + "]",
        ]
        if self.position is not None:
            lines.append(f"position = [{self.position[0]:.6f}, {self.position[1]:.6f}]")
        if self.fault:
            lines.append(f'fault = "{self.fault}"')
        return "\n".join(lines) + "\n"


def load_basemap(path: Path = BASEMAP) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def streets(basemap: dict) -> list[tuple[str, list[tuple[float, float]]]]:
    """(name, [(lat, lon), ...]) of every street line."""
    out = []
    for feature in basemap["features"]:
        if feature["properties"].get("kind") == "street":
            out.append((feature["properties"]["name"], [(lat, lon) for lon, lat in feature["geometry"]["coordinates"]]))
    return out


def blocks(basemap: dict) -> list[tuple[float, float, float, float]]:
    """(south, west, north, east) of every residential block, in basemap order."""
    out = []
    for feature in basemap["features"]:
        if feature["properties"].get("kind") == "block":
            ring = feature["geometry"]["coordinates"][0]
            lons, lats = [p[0] for p in ring], [p[1] for p in ring]
            out.append((min(lats), min(lons), max(lats), max(lons)))
    return out


def point_along(line: list[tuple[float, float]], share: float) -> tuple[float, float]:
    """The point `share` (0..1) of the way along a polyline, by length in degrees (fine at this scale)."""
    lengths = [((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in zip(line, line[1:], strict=False)]
    target = share * sum(lengths)
    for (a, b), length in zip(zip(line, line[1:], strict=False), lengths, strict=False):
        if target <= length or length == 0:
            t = target / length if length else 0.0
            return a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
        target -= length
    return line[-1]


def _street_cameras(basemap: dict, count: int) -> list[Camera]:
    lines = streets(basemap)
    cameras = []
    for n in range(count):
        name, line = lines[n % len(lines)]
        k = n // len(lines)
        per_street = -(-count // len(lines))
        lat, lon = point_along(line, (k + 0.5) / per_street)
        side = 1 if k % 2 else -1  # both sides of the road
        position = (lat + side * 0.00006, lon + side * 0.00006)
        facing = ("N", "E", "S", "W")[k % 4]
        cameras.append(
            Camera(
                f"ps-{n + 1:04d}",
                f"{name} #{k + 1:03d} {facing}",
                "public-security",
                name,
                "street",
                ("street", name.lower().replace(" ", "-")),
                position,
            )
        )
    return cameras


def _compound_cameras(basemap: dict, count: int, rng: random.Random) -> list[Camera]:
    boxes = blocks(basemap)
    cameras = []
    for n in range(count):
        b = n % len(boxes)
        south, west, north, east = boxes[b]
        position = (rng.uniform(south, north), rng.uniform(west, east))
        compound = f"Fangxing-{b + 1}"
        what = ("gate", "car park", "lobby", "corridor", "perimeter")[n // len(boxes) % 5]
        cameras.append(
            Camera(
                f"pr-{n + 1:04d}",
                f"{compound} {what} {n // len(boxes) + 1}",
                "property",
                compound,
                "gate",
                ("compound", compound.lower()),
                position,
            )
        )
    return cameras


def _childcare_cameras(basemap: dict) -> list[Camera]:
    boxes = blocks(basemap)
    cameras, n = [], 0
    for k, (school, rooms) in enumerate(KINDERGARTENS):
        south, west, north, east = boxes[(k * 7 + 3) % len(boxes)]
        for room in range(rooms):
            n += 1
            position = (south + (north - south) * (0.3 + 0.1 * room), west + (east - west) * 0.5)
            cameras.append(
                Camera(
                    f"cc-{n:04d}",
                    f"{school} room {room + 1}",
                    "childcare",
                    school,
                    "room",
                    ("kindergarten", "sensitive"),
                    position,
                )
            )
    return cameras


def _vehicles() -> list[Camera]:
    return [
        Camera(f"vh-{n + 1:04d}", name, "vehicle", "mobile", "road", ("vehicle",), None, size="640x360", sub=None)
        for n, name in enumerate(VEHICLES)
    ]


def estate_cameras(seed: int = 1555, basemap: dict | None = None) -> list[Camera]:
    """Every camera of the reference estate; the same seed gives the same estate."""
    basemap = basemap or load_basemap()
    rng = random.Random(seed)
    cameras = (
        _street_cameras(basemap, COUNTS["public-security"])
        + _compound_cameras(basemap, COUNTS["property"], rng)
        + _childcare_cameras(basemap)
        + _vehicles()
    )
    fixed = [i for i, c in enumerate(cameras) if c.category in ("public-security", "property")]
    faulted = rng.sample(fixed, round(FAULT_SHARE * len(cameras)))
    for n, i in enumerate(sorted(faulted)):
        c = cameras[i]
        cameras[i] = Camera(c.id, c.name, c.category, c.site, c.scene, c.tags, c.position, c.size, c.sub, FAULTS[n % len(FAULTS)])
    return cameras


HEADER = """# The reference estate: {total} simulated cameras of the Fangxing community ({counts}).
# Written by `hub estate`; run it with `hub demo --estate` or `hub serve --config` next to `hub sim --config`.
# Every camera is in mode auto (the default): as many live as this machine carries, the rest on patrol.

[hub]
listen = "127.0.0.1:8080"
ingest_processes = "auto"      # readers and visits in one worker process per core; the hub process keeps the API fast

[sim]
listen = "127.0.0.1:8554"
control = "127.0.0.1:8555"
clip_labels = "scene"

[monitor]
patrol_period_s = 300
probe_interval_s = 30
patrol_concurrency = 48          # over a thousand patrolled cameras, visits of about 4 s: room to spare within a period

[map]
center = [31.7750, 117.3030]
zoom = 16

"""


def estate_config(seed: int = 1555) -> str:
    cameras = estate_cameras(seed)
    counts = ", ".join(f"{n} {category}" for category, n in COUNTS.items())
    return HEADER.format(total=len(cameras), counts=counts) + "\n".join(c.toml() for c in cameras)
