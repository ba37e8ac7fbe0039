"""Simulated vehicle terminals: drive routes along the basemap's streets and report GPS fixes to the hub.

Runs on the `hub demo` process's event loop, as an HTTP client of the hub (`PUT
/api/streams/{id}/position`), exactly as a vehicle's terminal would over the network. The route
arithmetic (`position_at`) is pure and takes the time as an argument.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from hub.inventory.estate import load_basemap, point_along, streets

log = logging.getLogger("hub.vehicles")

FIX_EVERY_S = 2.0
SPEED_DEG_S = 0.00008  # about 9 m/s (32 km/h) at this latitude


def position_at(route: list[tuple[float, float]], length_deg: float, elapsed_s: float) -> tuple[float, float]:
    """Where a vehicle driving `route` back and forth at SPEED_DEG_S is after `elapsed_s`."""
    lap = 2 * length_deg
    travelled = (elapsed_s * SPEED_DEG_S) % lap if lap else 0.0
    share = travelled / length_deg if travelled <= length_deg else (lap - travelled) / length_deg
    return point_along(route, min(1.0, share))


async def _hub_answers(session: aiohttp.ClientSession, hub_url: str, stop: asyncio.Event) -> None:
    """Wait until the hub serves (it binds first and serves once its monitor runs)."""
    while not stop.is_set():
        try:
            async with session.get(f"{hub_url}/healthz") as reply:
                if reply.status == 200:
                    return
        except (TimeoutError, aiohttp.ClientError):
            pass
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            pass


def _length(route: list[tuple[float, float]]) -> float:
    return sum(((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in zip(route, route[1:], strict=False))


async def drive(hub_url: str, vehicle_ids: list[str], stop: asyncio.Event, token: str = "") -> None:
    """Report every vehicle's position every FIX_EVERY_S until `stop`; vehicle i drives street i."""
    routes = [line for _, line in streets(load_basemap())]
    if not vehicle_ids or not routes:
        return
    plan = {vid: routes[i % len(routes)] for i, vid in enumerate(vehicle_ids)}
    started = time.time()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # The demo's own hub: with TLS its certificate is whatever the config names, often self-signed.
    connector = aiohttp.TCPConnector(ssl=False) if hub_url.startswith("https") else None
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5), headers=headers, connector=connector) as session:
        await _hub_answers(session, hub_url, stop)
        while not stop.is_set():
            now = time.time()
            for i, (vid, route) in enumerate(plan.items()):
                lat, lon = position_at(route, _length(route), now - started + 40.0 * i)
                try:
                    async with session.put(
                        f"{hub_url}/api/streams/{vid}/position", json={"lat": lat, "lon": lon, "at": now}
                    ) as reply:
                        if reply.status != 200:
                            log.warning("vehicle %s: the hub refused a fix: %s", vid, await reply.text())
                except (TimeoutError, aiohttp.ClientError) as exc:
                    log.warning("vehicle %s: could not report a fix: %s", vid, exc)
            try:
                await asyncio.wait_for(stop.wait(), FIX_EVERY_S)
            except TimeoutError:
                pass
