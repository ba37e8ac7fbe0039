"""The `hub` command line: serve, sim, check, estate, and the parser of every command (demo in
`hub/demo_cli.py`; users, tokens and audit in `hub/auth/`; import, export and status in `hub/ops_cli.py`;
onvif in `hub/onvif/`).

Each long-running command runs one asyncio event loop in the main thread (`hub/run_loop.py`) and
stops cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from hub import __version__, logs
from hub.config import Config, ConfigError, Listen, load_config, parse_listen
from hub.run_loop import StartFailed, run_until_stopped, stop_follows, unless_stopped

DEFAULT_CONFIG = "streams.toml"
log = logging.getLogger("hub")


def _listen_arg(text: str) -> Listen:
    try:
        return parse_listen(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="Video-feed aggregation and monitoring hub.")
    parser.add_argument("--version", action="version", version=f"hub {__version__}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the hub: ingest, health, API, UI, metrics")
    serve.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: %(default)s)")
    serve.add_argument("--listen", type=_listen_arg, help="HOST:PORT, overrides [hub] listen")
    serve.add_argument("--log-format", choices=logs.FORMATS, default="text",
                       help="text lines, or one JSON object per line for Loki or ELK (default: %(default)s)")
    sim = commands.add_parser("sim", help="run the camera simulator for every sim:// stream")
    sim.add_argument("--config", default=DEFAULT_CONFIG, help="config file (default: %(default)s)")
    sim.add_argument("--listen", type=_listen_arg, help="RTSP HOST:PORT, overrides [sim] listen")
    sim.add_argument("--control", type=_listen_arg, help="control API HOST:PORT, overrides [sim] control")
    sim.add_argument("--log-format", choices=logs.FORMATS, default="text", help="text or json (default: %(default)s)")
    demo = commands.add_parser("demo", help="simulator and hub together on the default config")
    demo.add_argument("--config", help=argparse.SUPPRESS)  # tests: the demo on another config
    demo.add_argument("--listen", type=_listen_arg, help="HOST:PORT of the UI and API (default: 127.0.0.1:8080)")
    demo.add_argument("--sim-listen", type=_listen_arg, help="the simulator's RTSP HOST:PORT (default: 127.0.0.1:8554)")
    demo.add_argument("--sim-control", type=_listen_arg, help="the simulator's control API HOST:PORT (default: 127.0.0.1:8555)")
    demo.add_argument("--estate", action="store_true",
                      help="the whole 1,555-camera reference estate (written to <cache>/estate.toml) instead of the 40-camera demo")
    estate = commands.add_parser("estate", help="write the 1,555-camera reference estate as a config")
    estate.add_argument("--out", required=True, help="file to write ('-' for standard output)")
    estate.add_argument("--seed", type=int, default=1555, help="which faults land where (default: %(default)s)")
    check = commands.add_parser("check", help="validate a config file")
    check.add_argument("file")
    from hub import ops_cli
    from hub.auth import admin_cli
    from hub.auth import cli as user_cli
    from hub.onvif import cli as onvif_cli

    user_cli.add_parser(commands)
    admin_cli.add_parsers(commands)
    ops_cli.add_parsers(commands)
    onvif_cli.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.log_level, getattr(args, "log_format", "text"))
    from hub.web.middleware import QuietProtocolErrors

    logging.getLogger("aiohttp.server").addFilter(QuietProtocolErrors())
    if args.command == "check":
        return run_check(args.file)
    if args.command == "user":
        from hub.auth import cli as user_cli

        return user_cli.run(args)
    if args.command in ("token", "audit"):
        from hub.auth import admin_cli

        return admin_cli.run_token(args) if args.command == "token" else admin_cli.run_audit(args)
    if args.command in ("import", "export", "status"):
        from hub import ops_cli

        return ops_cli.run(args)
    if args.command == "onvif":
        from hub.onvif import cli as onvif_cli

        return onvif_cli.run(args)
    if args.command == "estate":
        return run_estate(args.out, args.seed)
    if args.command == "demo" and not args.config:
        from hub.demo_cli import write_demo_config, write_demo_estate

        args.config = str(write_demo_estate() if args.estate else write_demo_config())
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    if args.command == "sim":
        return run_until_stopped(lambda stop: run_sim(config, args.listen, args.control, stop))
    if args.command == "demo":
        from hub.demo_cli import run_demo, with_demo_ports

        config = with_demo_ports(config, args.listen, args.sim_listen, args.sim_control)
        return run_until_stopped(lambda stop: run_demo(config, stop, config.source))
    return run_until_stopped(lambda stop: run_serve(config, args.listen, stop, config.source))


def run_check(path: str) -> int:
    try:
        config = load_config(path)
    except ConfigError as exc:
        print("\n".join(exc.problems))
        return 1
    if not config.streams:
        print(f"{path}: warning: no [[streams]]: the hub would watch nothing")
    print(f"{path}: OK, {len(config.streams)} streams")
    return 0


def run_estate(out: str, seed: int) -> int:
    from hub.estate import estate_config

    text = estate_config(seed)
    if out == "-":
        sys.stdout.write(text)
        return 0
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"hub estate: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"{out}: the reference estate, {text.count('[[streams]]')} streams")
    return 0


async def run_sim(config: Config, rtsp: Listen | None, control: Listen | None, stop: asyncio.Event) -> None:
    from concurrent.futures.process import BrokenProcessPool

    from hub.sim.simulator import Simulator

    sim = Simulator(config, rtsp, control)
    try:
        started, addresses = await unless_stopped(sim.start(), stop)
    except BrokenProcessPool:  # Ctrl-C reached a clip encoder as it started: a stop, not a crash
        await sim.stop()
        if not await stop_follows(stop):
            raise StartFailed("simulator: a clip-encoding process died; run `hub sim` again") from None
        started = False
    if not started:
        await sim.stop()
        print("simulator: stopped before it was ready; clips encoded so far are kept for the next start", flush=True)
        return
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
        from hub.web.access import ACCESS

        result = await reload_from_disk(app)
        app[ACCESS].record(None, "reload", via="SIGHUP", refused="error" in result)
        if "error" in result:
            log.error("reload refused: %s", "; ".join(result["problems"]))
        else:
            log.info("reloaded: %s", {k: len(v) for k, v in result.items() if isinstance(v, list)})

    def on_sighup() -> None:
        task = asyncio.get_running_loop().create_task(reload())
        tasks.add(task)  # keep a reference until it finishes
        task.add_done_callback(tasks.discard)

    return on_sighup


async def run_serve(config: Config, listen: Listen | None, stop: asyncio.Event, config_path: str | None = None, sock=None) -> None:
    """Run the hub until `stop` is set; SIGHUP re-reads the config file.

    The port is bound (or `sock` is already bound) before any camera is contacted.
    """
    from aiohttp import web

    from hub.auth.bootstrap import first_admin
    from hub.binding import bind_tcp, bound_port
    from hub.web.app import create_app
    from hub.web.server import CAP, runner_options

    listen = listen or config.hub.listen
    sock = sock or bind_tcp(listen, "the hub's UI and API", "another hub or `hub demo`", "--listen")
    password = await asyncio.to_thread(first_admin, Path(config_path or config.source))
    if password is not None and logs.current_format() == "json":  # logs are stored: a password must not go there
        logs.announce("first start: created user admin with a password that is not shown; "
                      "set one with `hub user passwd admin --config <this config>`")
    elif password is not None:  # printed once, never logged: the terminal of whoever started the hub sees it
        print(f"hub: first start: created user admin with password {password}\n"
              "hub: sign in and change it (hub user passwd admin); this password is not shown again", flush=True)
    app = create_app(config, config_path)
    runner = web.AppRunner(app, access_log=None, **runner_options(config.hub))
    try:
        await runner.setup()  # starts the monitor: cameras are contacted from here on
        app[CAP].install(runner.server)
        await web.SockSite(runner, sock, shutdown_timeout=2.0, ssl_context=_tls_context(config)).start()
    except BaseException:
        await runner.cleanup()
        sock.close()
        raise
    port = bound_port(sock)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, _reload_on_signal(app))
    # Everything built so far lives as long as the hub: keep it out of the collector's full passes,
    # which otherwise pause the loop for tens of milliseconds with thousands of streams.
    gc.freeze()
    # Hundreds of reader threads take turns on the GIL; a shorter switch interval keeps the event
    # loop (API, SSE, health) from queueing behind them for 5 ms at a time.
    sys.setswitchinterval(0.001)
    scheme = "https" if config.hub.tls.enabled else "http"
    logs.announce(f"{len(config.streams)} streams; UI and API on {scheme}://{listen.host}:{port}/")
    try:
        await stop.wait()
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        await runner.cleanup()


def _tls_context(config: Config):
    """HTTPS with the config's certificate and key ([hub] tls_cert, tls_key), or None for plain HTTP."""
    if not config.hub.tls.enabled:
        return None
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.hub.tls.cert, config.hub.tls.key)
    except (OSError, ssl.SSLError) as exc:
        raise StartFailed(f"cannot use the TLS certificate and key ({config.hub.tls.cert}, {config.hub.tls.key}): {exc}") from None
    return context
