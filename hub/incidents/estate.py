"""What incidents need of the cameras, and the cameras they keep live: the seam between the incidents and
the rest of the hub.

Who runs where: the event loop. `Estate` is a handful of plain functions the app wires to the index and
the monitor (so `hub.incidents` imports neither the web side nor the monitor); `LiveHold` holds the
cameras near open incidents live through the monitor's interest (`hub.patrol.interest.Interest`), as a
wall tile does, and lets go of those no longer near any.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from hub.incidents.geo import Camera


@dataclass(frozen=True)
class Estate:
    cameras: Callable[[bool], list[tuple[Camera, str]]]  # (online only?) -> every placed camera and its site
    snapshot: Callable[[str], tuple[bytes, float] | None]  # a camera's latest picture (JPEG) and its wall time
    sensitive: Callable[[str], bool]  # a camera that needs a reason to be opened (childcare)
    keep_live: Callable[[set[str]], None]  # exactly these cameras held live for incidents (`LiveHold.keep`)
    pulled_here: Callable[[str], bool] = lambda stream_id: True  # in a cluster: this node pulls the camera


class LiveHold:
    """`interest`: anything with `hold(id, now)` and `release(id, now)` on loop time."""

    def __init__(self, interest):
        self.interest = interest
        self.held: set[str] = set()

    def keep(self, wanted: set[str]) -> None:
        now = asyncio.get_running_loop().time()
        for stream_id in sorted(wanted - self.held):
            self.interest.hold(stream_id, now)
        for stream_id in sorted(self.held - wanted):
            self.interest.release(stream_id, now)
        self.held = set(wanted)
