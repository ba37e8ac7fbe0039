"""The `hub` command line: serve, sim, demo, check.

Each long-running command runs one asyncio event loop in the main thread and
stops cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
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
        return _run(lambda stop: run_demo(config, stop))
    return _run(lambda stop: run_serve(config, args.listen, stop))


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


async def run_serve(config: Config, listen: Listen | None, stop: asyncio.Event) -> None:
    raise SystemExit("hub serve is not implemented yet (see issue 3); `hub sim` serves the cameras")


async def run_demo(config: Config, stop: asyncio.Event) -> None:
    print("hub demo: the hub itself is not built yet; running the camera simulator only", flush=True)
    await run_sim(config, None, None, stop)
