"""Distances and views on the ground: which cameras are near a spot, and which of them look at it. Pure.

Distances are great-circle (haversine on a sphere of the Earth's mean radius): within a community's few
kilometres the error is far below a GPS fix's. A camera with a `heading` and a `fov` covers a spot when
the spot's bearing from the camera lies within half the field of view of its heading; cameras without
them are near, never "covering".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hub.health import UP_STATES

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Camera:
    """What the incident's camera list needs of one camera."""

    id: str
    lat: float
    lon: float
    heading: float | None = None  # degrees clockwise from north
    fov: float | None = None  # degrees


@dataclass(frozen=True)
class NearCamera:
    id: str
    distance_m: float
    covers: bool  # its configured view includes the spot

    def to_json(self) -> dict:
        return {"id": self.id, "distance_m": round(self.distance_m, 1), "covers": self.covers}


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from the first point to the second, degrees clockwise from north, 0 to under 360."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def covers(camera: Camera, lat: float, lon: float) -> bool:
    """Whether the spot lies within the camera's configured field of view (a spot under the camera does)."""
    if camera.heading is None or camera.fov is None:
        return False
    if distance_m(camera.lat, camera.lon, lat, lon) < 1.0:
        return True
    off = (bearing_deg(camera.lat, camera.lon, lat, lon) - camera.heading + 180.0) % 360.0 - 180.0
    return abs(off) <= camera.fov / 2


class CameraMap:
    """Cameras placed once, asked many times which are near a spot: distances and bearings to all of them at
    once (numpy), so that the cameras near several hundred open incidents are found in milliseconds. The
    same sums as `distance_m`, `bearing_deg` and `covers`, on arrays."""

    def __init__(self, cameras: list[Camera]):
        self.cameras = cameras
        n = len(cameras)
        self._lat = np.radians(np.fromiter((c.lat for c in cameras), float, n))
        self._lon = np.radians(np.fromiter((c.lon for c in cameras), float, n))
        unset = float("nan")  # no view configured: never covers
        self._heading = np.fromiter((unset if c.heading is None or c.fov is None else c.heading for c in cameras), float, n)
        self._half_fov = np.fromiter((unset if c.heading is None or c.fov is None else c.fov / 2 for c in cameras), float, n)

    def nearest(self, lat: float, lon: float, radius_m: float, limit: int) -> list[NearCamera]:
        """The cameras within `radius_m` of the spot: those whose view covers it first, then by distance."""
        if not self.cameras:
            return []
        p2, l2 = math.radians(lat), math.radians(lon)
        a = np.sin((p2 - self._lat) / 2) ** 2 + np.cos(self._lat) * math.cos(p2) * np.sin((l2 - self._lon) / 2) ** 2
        distances = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        near = np.flatnonzero(distances <= radius_m)
        p1, dl = self._lat[near], l2 - self._lon[near]
        y = np.sin(dl) * math.cos(p2)
        x = np.cos(p1) * math.sin(p2) - np.sin(p1) * math.cos(p2) * np.cos(dl)
        off = (np.degrees(np.arctan2(y, x)) % 360.0 - self._heading[near] + 180.0) % 360.0 - 180.0
        seen = (np.abs(off) <= self._half_fov[near]) | ((distances[near] < 1.0) & ~np.isnan(self._heading[near]))
        found = [NearCamera(self.cameras[i].id, float(distances[i]), bool(c)) for i, c in zip(near, seen, strict=True)]
        found.sort(key=lambda c: (not c.covers, c.distance_m, c.id))
        return found[:limit]


def nearest(cameras: list[Camera], lat: float, lon: float, radius_m: float, limit: int) -> list[NearCamera]:
    """The cameras within `radius_m` of the spot: those whose view covers it first, then by distance."""
    return CameraMap(cameras).nearest(lat, lon, radius_m, limit)


def cameras_of(records, online_only: bool) -> list[tuple[Camera, str]]:
    """Every camera of the index with a place (a vehicle's last fix), with its site; `online_only`: those up
    now. `records`: the index's records (`hub.index.StreamRecord`)."""
    return [
        (Camera(r.id, r.position[0], r.position[1], r.heading, r.fov), r.site)
        for r in records
        if r.position is not None and (not online_only or r.state in UP_STATES)
    ]
