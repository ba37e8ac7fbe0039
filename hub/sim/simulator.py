"""The camera simulator: every `sim://` stream of a config served over RTSP, with faults.

Who runs where: clips are encoded in a process pool (CPU-heavy, first use
only); everything else (RTSP server, frame clock, control API, the ONVIF
device and its WS-Discovery answers on the control port) runs on one asyncio
event loop. `Simulator.start()` returns once both ports listen.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from aiohttp import web

from hub.config import Config, Listen, Stream
from hub.ports import PortBusy, bind_tcp, bound_port
from hub.sim import clips, onvif_device
from hub.sim.camera import Camera, variant_for
from hub.sim.clock import run_clock
from hub.sim.control import create_control_app
from hub.sim.faults import FaultBoard
from hub.sim.onvif_discovery import serve_discovery
from hub.sim.rtsp_server import RtspServer
from hub.sim.warming_up import answer_warming_up

log = logging.getLogger("hub.sim")


@dataclass(frozen=True)
class SimAddresses:
    rtsp: Listen
    control: Listen


SIM_RIVAL = "another simulator or `hub demo`"


def clip_label(stream: Stream, config: Config) -> str:
    """What the clip draws: the camera's name, or (`[sim] clip_labels = "scene"`) only its scene, so that
    a large estate encodes one clip per scene and size instead of one per camera."""
    if config.sim.clip_labels == "name" or stream.sim is None:
        return stream.name
    return stream.sim.scene


def clip_specs(config: Config) -> dict[str, clips.ClipSpec]:
    """The sample clip each simulated feed plays, by feed path (`<id>`, and `<id>/sub` for substreams)."""
    wanted = {}
    for stream in config.streams:
        if stream.sim is not None:
            s, label = stream.sim, clip_label(stream, config)
            wanted[stream.id] = clips.ClipSpec(s.scene, s.width, s.height, s.fps, s.codec, label)
            if s.sub_width:
                wanted[f"{stream.id}/sub"] = clips.ClipSpec(s.scene, s.sub_width, s.sub_height, s.fps, s.codec, label)
    return wanted


def substream_of(stream: Stream) -> Stream:
    """The same camera at its substream's size (what the simulator's `<id>/sub` feed plays)."""
    assert stream.sim is not None  # a simulated stream
    sim = replace(stream.sim, width=stream.sim.sub_width, height=stream.sim.sub_height, sub_width=0, sub_height=0)
    return replace(stream, sim=sim)


def missing_clips(config: Config) -> list[clips.ClipSpec]:
    """The distinct clips not yet in the cache: what a start would have to encode first (each feed's clip,
    and the variant clip of every configured fault that applies at once)."""
    wanted = clip_specs(config)
    specs = list(wanted.values())
    for stream in config.streams:
        variant = variant_for(stream.fault) if stream.fault and not stream.fault.after_s else None
        if variant is not None and stream.id in wanted:
            specs += [replace(wanted[path], variant=variant) for path in (stream.id, f"{stream.id}/sub") if path in wanted]
    return _uncached(dict.fromkeys(specs))


def _uncached(specs) -> list[clips.ClipSpec]:
    return [spec for spec in specs if not clips.is_cached(spec)]


class Simulator:
    def __init__(self, config: Config, rtsp: Listen | None = None, control: Listen | None = None):
        self.config = config
        self.rtsp_listen = rtsp or config.sim.listen
        self.control_listen = control or config.sim.control
        self.cameras: dict[str, Camera] = {}
        self.addresses: SimAddresses | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._server: asyncio.Server | None = None
        self._rtsp: RtspServer | None = None
        self._runner: web.AppRunner | None = None
        self._clock: asyncio.Task | None = None
        self._reaper: asyncio.Task | None = None  # ends silent sessions, when [sim] session_timeout_s is set
        self._discovery: asyncio.DatagramTransport | None = None  # WS-Discovery, UDP at the control port's number
        self._board: FaultBoard | None = None
        self._loaded: dict[clips.ClipSpec, asyncio.Future] = {}

    async def _load(self, spec: clips.ClipSpec) -> clips.Clip:
        """The clip for `spec`, encoded if missing; loaded once and shared by every camera that plays it."""
        if spec not in self._loaded:
            self._loaded[spec] = asyncio.ensure_future(self._encode_and_load(spec))
        try:
            return await asyncio.shield(self._loaded[spec])
        except BaseException:
            if self._loaded.get(spec) is not None and self._loaded[spec].done():
                self._loaded.pop(spec, None)  # a failed or cancelled load is tried again next time
            raise

    async def _encode_and_load(self, spec: clips.ClipSpec) -> clips.Clip:
        loop = asyncio.get_running_loop()
        if not clips.is_cached(spec):
            if self._pool is None:
                # spawn, not fork: forking a process that runs an event loop and threads is unsafe
                spawn = multiprocessing.get_context("spawn")
                # Workers ignore Ctrl-C: the simulator shuts them down itself.
                self._pool = ProcessPoolExecutor(
                    max_workers=max(1, min(4, os.cpu_count() or 1)),
                    mp_context=spawn,
                    initializer=signal.signal,
                    initargs=(signal.SIGINT, signal.SIG_IGN),
                )
            await loop.run_in_executor(self._pool, clips.encode_clip, spec)
        return await loop.run_in_executor(None, clips.load_clip, spec)

    async def _prepare_clips(self) -> dict[str, clips.Clip]:
        """Encode what is missing (in parallel) and load each distinct clip once."""
        wanted = clip_specs(self.config)
        distinct = list(dict.fromkeys(wanted.values()))
        missing = _uncached(distinct)
        if missing:
            log.info("generating %d sample clip(s) into %s (first use only)", len(missing), clips.cache_dir())
        loaded = dict(zip(distinct, await asyncio.gather(*(self._load(spec) for spec in distinct)), strict=False))
        return {stream_id: loaded[spec] for stream_id, spec in wanted.items()}

    async def start(self) -> SimAddresses:
        """Bind both ports (PortBusy if taken), encode missing clips, then serve. Cancellable throughout."""
        rtsp_sock = bind_tcp(self.rtsp_listen, "the simulator's RTSP", SIM_RIVAL, "--listen")
        try:
            control_sock = bind_tcp(self.control_listen, "the simulator's control API", SIM_RIVAL, "--control")
        except PortBusy:
            rtsp_sock.close()
            raise
        try:
            return await self._serve(rtsp_sock, control_sock)
        except BaseException:
            rtsp_sock.close()
            control_sock.close()
            raise

    async def _serve(self, rtsp_sock: socket.socket, control_sock: socket.socket) -> SimAddresses:
        warming = await answer_warming_up(rtsp_sock)  # a client that comes while clips encode is told to come back
        try:
            normal = await self._prepare_clips()
        finally:
            warming.close()
            await warming.wait_closed()
        if self._pool is not None:  # idle workers cost memory; variants start a new pool if needed
            self._pool.shutdown()
            self._pool = None
        feeds = {}
        for stream in self.config.streams:
            if stream.id in normal:
                label = clip_label(stream, self.config)
                camera = self.cameras[stream.id] = feeds[stream.id] = Camera(stream, normal[stream.id], self._load, label)
                if stream.sim is not None and stream.sim.sub_width:
                    sub_path = f"{stream.id}/sub"
                    camera.substream = feeds[sub_path] = Camera(substream_of(stream), normal[sub_path], self._load, label)
        loop = asyncio.get_running_loop()
        self._rtsp = RtspServer(feeds, self.rtsp_listen.host, self.config.sim.session_timeout_s)
        self._server = await loop.create_server(self._rtsp.protocol, sock=rtsp_sock)
        self._board = FaultBoard(self.cameras)
        await self._board.start()
        app = create_control_app(
            self._board,
            lambda: {
                "sessions": {path: len(feed.viewers) for path, feed in feeds.items()},
                "played": {path: feed.plays for path, feed in feeds.items()},
            },
        )
        onvif_device.add_routes(
            app, onvif_device.OnvifDevice(onvif_device.cameras_of(self.config), self.rtsp_listen.host, bound_port(rtsp_sock))
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, control_sock).start()
        self._discovery = await serve_discovery(self.control_listen.host, bound_port(control_sock))
        self._clock = loop.create_task(run_clock(feeds.values()), name="sim-clock")
        if self.config.sim.session_timeout_s:
            self._reaper = loop.create_task(self._rtsp.end_silent_sessions(), name="sim-session-timeout")
        self.addresses = SimAddresses(
            Listen(self.rtsp_listen.host, bound_port(rtsp_sock)), Listen(self.control_listen.host, bound_port(control_sock))
        )
        return self.addresses

    async def stop(self) -> None:
        for task in (self._clock, self._reaper):
            if task is not None:
                task.cancel()
        if self._board is not None:
            self._board.stop()
        if self._server is not None:
            self._server.close()
            if self._rtsp is not None:
                self._rtsp.close_all()
            await self._server.wait_closed()
        if self._discovery is not None:
            self._discovery.close()
        if self._runner is not None:
            await self._runner.cleanup()
        for loading in self._loaded.values():
            loading.cancel()
        if self._pool is not None:  # stopped while encoding: queued clips are dropped, running ones finish
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
