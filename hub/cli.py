"""The `hub` command line: serve, sim, demo, check.

Each long-running command runs one asyncio event loop in the main thread and
stops cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from hub.config import Config, ConfigError, Listen, load_config, parse_listen

DEFAULT_CONFIG = "streams.toml"
log = logging.getLogger("hub")


def _listen_arg(text: str) -> Listen:
    try:
        return parse_listen(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="Video-feed aggregation and monitoring hub.")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the hub: ingest, health, API, UI, metrics")
    serve.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: %(default)s)")
    serve.add_argument("--listen", type=_listen_arg, help="HOST:PORT, overrides [hub] listen")
    sim = commands.add_parser("sim", help="run the camera simulator for every sim:// stream")
    sim.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: %(default)s)")
    sim.add_argument("--listen", type=_listen_arg, help="RTSP HOST:PORT, overrides [sim] listen")
    sim.add_argument("--control", type=_listen_arg, help="control API HOST:PORT, overrides [sim] control")
    demo = commands.add_parser("demo", help="simulator and hub together on the default config")
    demo.add_argument("--config", default=DEFAULT_CONFIG, help=argparse.SUPPRESS)
    check = commands.add_parser("check", help="validate a config file")
    check.add_argument("file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "check":
        return run_check(args.file)
    try:
        config = load_config(_find_config(args.config))
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    if args.command == "sim":
        return _run(lambda stop: run_sim(config, args.listen, args.control, stop))
    if args.command == "demo":
        return _run(lambda stop: run_demo(config, stop, config.source))
    return _run(lambda stop: run_serve(config, args.listen, stop, config.source))


def _find_config(name: str) -> Path:
    """The config as given; the default also resolves next to the package (for `hub demo` from anywhere)."""
    path = Path(name)
    if name == DEFAULT_CONFIG and not path.exists():
        bundled = Path(__file__).resolve().parent.parent / DEFAULT_CONFIG
        if bundled.exists():
            return bundled
    return path


def run_check(path: str) -> int:
    try:
        config = load_config(path)
    except ConfigError as exc:
        print("\n".join(exc.problems))
        return 1
    print(f"{path}: OK, {len(config.streams)} streams")
    return 0


def _run(body: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await body(stop)

    try:
        asyncio.run(runner())
    except OSError as exc:  # a port in use, typically
        log.error("%s", exc)
        return 1
    return 0


async def run_sim(config: Config, rtsp: Listen | None, control: Listen | None, stop: asyncio.Event) -> None:
    from hub.sim.simulator import Simulator

    sim = Simulator(config, rtsp, control)
    addresses = await sim.start()
    print(f"simulator: {len(sim.cameras)} cameras on rtsp://{addresses.rtsp}/<id>, control on http://{addresses.control}/faults", flush=True)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def _reload_on_signal(app) -> Callable[[], None]:
    """A SIGHUP handler (event loop) that re-reads the config and logs what changed or why not."""
    from hub.web.api import reload_from_disk

    tasks: set[asyncio.Task] = set()

    async def reload() -> None:
        result = await reload_from_disk(app)
        if "error" in result:
            log.error("reload refused: %s", "; ".join(result["problems"]))
        else:
            log.info("reloaded: %s", {k: len(v) for k, v in result.items() if isinstance(v, list)})

    def on_sighup() -> None:
        task = asyncio.get_running_loop().create_task(reload())
        tasks.add(task)  # keep a reference until it finishes
        task.add_done_callback(tasks.discard)

    return on_sighup


async def run_serve(config: Config, listen: Listen | None, stop: asyncio.Event, config_path: str | None = None) -> None:
    """Run the hub until `stop` is set; SIGHUP re-reads the config file."""
    from aiohttp import web

    from hub.web.app import create_app

    listen = listen or config.hub.listen
    app = create_app(config, config_path)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, listen.host, listen.port, shutdown_timeout=2.0, reuse_address=True)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    port = site._server.sockets[0].getsockname()[1]  # aiohttp exposes no public accessor
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, _reload_on_signal(app))
    # Everything built so far lives as long as the hub: keep it out of the collector's full passes,
    # which otherwise pause the loop for tens of milliseconds with thousands of streams.
    gc.freeze()
    # Hundreds of reader threads take turns on the GIL; a shorter switch interval keeps the event
    # loop (API, SSE, health) from queueing behind them for 5 ms at a time.
    sys.setswitchinterval(0.001)
    print(f"hub: {len(config.streams)} streams; UI and API on http://{listen.host}:{port}/", flush=True)
    try:
        await stop.wait()
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        await runner.cleanup()


async def run_demo(config: Config, stop: asyncio.Event, config_path: str | None = None) -> None:
    """The simulator as a child process on the config's [sim] ports, the hub in this one."""
    from hub.sim.process import start_sim

    print("hub demo: starting the camera simulator (the first start encodes sample clips)", flush=True)
    sim = await asyncio.to_thread(start_sim, Path(config_path or config.source), config.sim.listen, config.sim.control)
    print(f"hub demo: simulator on rtsp://{sim.rtsp}/<id>, faults on http://{sim.control}/faults", flush=True)
    try:
        await run_serve(config, None, stop, config_path)
    finally:
        await asyncio.to_thread(sim.stop)
