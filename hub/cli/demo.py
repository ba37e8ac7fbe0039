"""`hub demo`: the simulator as a child process and the hub in this one, on the demo config inside the package.

Who runs where: the main thread's event loop (`run_demo`); the demo config is copied into the state
folder first (`write_demo_config`), where the demo's accounts, audit trail and layouts live beside it.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path

from hub.cli.run_loop import StartFailed, stop_follows, unless_stopped
from hub.config import Config, Listen
from hub.safe.files import private_dir, write_private

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "demo" / "streams.toml"  # package data


def write_demo_config() -> Path:
    """The 40-camera demo config for `hub demo`, copied from the package into the state folder: the
    package may be read-only, and the demo's accounts, audit trail and layouts live beside its config."""
    return _demo_file("demo.toml", DEMO_CONFIG.read_text(encoding="utf-8"))


def write_demo_estate() -> Path:
    """The estate config for `hub demo --estate`, in the state folder (its saved layouts live beside it)."""
    from hub.inventory.estate import estate_config

    return _demo_file("estate.toml", estate_config())


def with_demo_ports(config: Config, listen: Listen | None, sim_listen: Listen | None, sim_control: Listen | None) -> Config:
    """The config with the ports given on the command line in place of its own."""
    hub = replace(config.hub, listen=listen or config.hub.listen)
    sim = replace(config.sim, listen=sim_listen or config.sim.listen, control=sim_control or config.sim.control)
    return replace(config, hub=hub, sim=sim)


def state_dir() -> Path:
    """Where the demo keeps its config and state: $XDG_STATE_HOME/hub, else ~/.local/state/hub."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "hub"


def _demo_file(name: str, text: str) -> Path:
    """`text` as `name` in the state folder, rewritten only when it changed."""
    path = private_dir(state_dir()) / name
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        write_private(path, text)
    return path


DEMO_RIVAL = "another `hub demo` (Ctrl-C in its terminal stops it)"


def _reserve_demo_ports(config: Config):
    """Bind the hub's port and check the simulator's, before anything starts; PortBusy names every one taken
    (one line each), so that one try says all that stands in the way."""
    from hub.ports import PortBusy, bind_tcp, ensure_free

    taken, sock = [], None
    try:
        sock = bind_tcp(config.hub.listen, "the hub's UI and API", DEMO_RIVAL, None)
    except PortBusy as exc:
        taken.append(str(exc))
    for listen, purpose in ((config.sim.listen, "the simulator's RTSP"), (config.sim.control, "the simulator's control API")):
        try:
            ensure_free(listen, purpose, DEMO_RIVAL, None)
        except PortBusy as exc:
            taken.append(str(exc))
    if taken:
        if sock is not None:
            sock.close()
        raise PortBusy("\n".join(taken))
    return sock


def _drive_vehicles(config: Config, sock, stop: asyncio.Event, token: str) -> asyncio.Task:
    """The demo's simulated vehicles report GPS fixes to the hub, driving along the basemap's streets."""
    from hub.ports import bound_port, local_url
    from hub.sim.vehicles import drive

    vehicles = [s.id for s in config.streams if s.sim is not None and s.reports_position]
    url = local_url(config, bound_port(sock))
    return asyncio.get_running_loop().create_task(drive(url, vehicles, stop, token), name="vehicles")


async def run_demo(config: Config, stop: asyncio.Event, config_path: str | None = None) -> None:
    """The simulator as a child process on the config's [sim] ports, the hub in this one.

    Every port is checked before anything starts. The simulator runs in its own session, so Ctrl-C
    reaches only this process, which stops the hub first and then the simulator: no stream is seen to
    end because its camera went away first.
    """
    from hub.cli.run import run_serve
    from hub.sim.clips import cache_dir
    from hub.sim.process import spawn_sim
    from hub.sim.simulator import missing_clips

    sock = _reserve_demo_ports(config)
    missing = missing_clips(config)
    if missing:
        print(f"hub demo: encoding {len(missing)} sample clips into {cache_dir()} (first start only, about a minute)", flush=True)
    sim = spawn_sim(Path(config_path or config.source), config.sim.listen, config.sim.control, own_session=True)
    try:
        ready, _ = await unless_stopped(asyncio.to_thread(sim.wait_ready), stop)
    except RuntimeError:
        # A Ctrl-C in the instant the child is spawned can reach it before it leaves our session.
        ready = False
        if not await stop_follows(stop):
            sock.close()
            raise StartFailed(f"demo: the simulator did not start: {sim.last_words()}") from None
    if not ready:
        sock.close()
        await asyncio.to_thread(sim.stop)
        print("hub demo: stopped", flush=True)
        return
    print(f"hub demo: simulator on rtsp://{sim.rtsp}/<id>, faults on http://{sim.control}/faults", flush=True)
    from hub.auth.bootstrap import demo_login, demo_vehicle_token

    source = Path(config_path or config.source)
    password = await asyncio.to_thread(demo_login, source)
    print(f"hub demo: sign in as demo with password {password} (a new one at every start)", flush=True)
    driving = _drive_vehicles(config, sock, stop, await asyncio.to_thread(demo_vehicle_token, source))
    try:
        await run_serve(config, None, stop, config_path, sock)
    finally:
        driving.cancel()
        await asyncio.gather(driving, return_exceptions=True)
        await asyncio.to_thread(sim.stop)
        print("hub demo: stopped the hub, then the simulator", flush=True)
