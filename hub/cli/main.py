"""The `hub` command line: the parser of every command, and `main`, which dispatches to the module that
runs it (`hub.cli`'s README table). Every command takes `--config FILE` before or after its action.

Who runs where: the main thread of the `hub` process; long-running commands run one event loop there
(`hub.cli.run_loop`) and stop cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

from hub import __version__, logs
from hub.cli.options import command, config_option, config_path, listen_arg, node_arg
from hub.cli.run_loop import run_until_stopped
from hub.config import ConfigError, load_config

log = logging.getLogger("hub")

EXAMPLES = """examples:
  hub demo                                    simulator and hub on the demo config; prints where to sign in
  hub serve                                   the hub on ./streams.toml
  hub check streams.toml                      is this config good? one line per problem
  hub user add alice --role operator --grant category='*'
  hub token add prometheus --role viewer --grant category='*' --config /etc/hub/streams.toml
  hub status --watch                          the estate in the terminal (a token in $HUB_TOKEN)

`hub COMMAND --help` says more about each, with examples."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hub",
        description="Video-feed aggregation and monitoring hub.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hub {__version__}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    config_option(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = command(
        commands,
        "serve",
        "run the hub: ingest, health, API, UI, metrics",
        ("hub serve", "hub serve --config /etc/hub/streams.toml --listen 0.0.0.0:8080 --log-format json"),
    )
    serve.add_argument("--listen", type=listen_arg, help="HOST:PORT, overrides [hub] listen")
    serve.add_argument("--node", type=node_arg, help="this cluster node's name, overrides [cluster] node")
    serve.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        default="text",
        help="text lines, or one JSON object per line for Loki or ELK (default: %(default)s)",
    )
    sim = command(
        commands,
        "sim",
        "run the camera simulator for every sim:// stream of the config",
        ("hub sim", "hub sim --listen 127.0.0.1:9554 --control 127.0.0.1:9555"),
    )
    sim.add_argument("--listen", type=listen_arg, help="RTSP HOST:PORT, overrides [sim] listen")
    sim.add_argument("--control", type=listen_arg, help="control API HOST:PORT, overrides [sim] control")
    sim.add_argument("--log-format", choices=logs.FORMATS, default="text", help="text or json (default: %(default)s)")
    demo = command(
        commands,
        "demo",
        "simulator and hub together on the demo config inside the package",
        (
            "hub demo",
            "hub demo --estate",
            "hub demo --listen 127.0.0.1:9080 --sim-listen 127.0.0.1:9554 --sim-control 127.0.0.1:9555",
        ),
        config="another config instead of the demo's",
    )
    demo.add_argument("--listen", type=listen_arg, help="HOST:PORT of the UI and API (default: 127.0.0.1:8080)")
    demo.add_argument("--sim-listen", type=listen_arg, help="the simulator's RTSP HOST:PORT (default: 127.0.0.1:8554)")
    demo.add_argument("--sim-control", type=listen_arg, help="the simulator's control API HOST:PORT (default: 127.0.0.1:8555)")
    demo.add_argument(
        "--estate",
        action="store_true",
        help="the whole 1,555-camera reference estate (written to <state>/estate.toml) instead of the 40-camera demo",
    )
    estate = command(
        commands,
        "estate",
        "write the 1,555-camera reference estate as a config",
        ("hub estate --out estate.toml", "hub estate --out - --seed 7 | less"),
        config=None,
    )
    estate.add_argument("--out", required=True, help="file to write ('-' for standard output)")
    estate.add_argument("--seed", type=int, default=1555, help="which faults land where (default: %(default)s)")
    check = command(
        commands,
        "check",
        "validate a config: exit 0 if good, else 1 with one line per problem",
        ("hub check", "hub check /etc/hub/streams.toml"),
        config="the config to check (or give it as FILE)",
    )
    check.add_argument("file", nargs="?", help="the config to check (default: --config, else streams.toml)")
    from hub.cli import admin, incidents, onvif, ops, users

    users.add_parsers(commands)
    admin.add_parsers(commands)
    ops.add_parsers(commands)
    onvif.add_parsers(commands)
    incidents.add_parsers(commands)
    _complete(parser)
    return parser


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion when argcomplete is installed (`eval "$(register-python-argcomplete hub)"`)."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.config_given = hasattr(args, "config")  # `hub demo` runs its own config unless given one
    args.config = config_path(args)
    logs.setup(args.log_level, getattr(args, "log_format", "text"))
    from hub.web.middleware import QuietProtocolErrors

    logging.getLogger("aiohttp.server").addFilter(QuietProtocolErrors())
    runner = _COMMANDS.get(args.command)
    if runner is not None:
        return runner(args)
    return _run_long(args)


def _run_long(args: argparse.Namespace) -> int:
    """`hub serve`, `hub sim` and `hub demo`: an event loop until Ctrl-C."""
    if args.command == "demo" and not args.config_given:
        from hub.cli.demo import write_demo_config, write_demo_estate

        args.config = str(write_demo_estate() if args.estate else write_demo_config())
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    if args.command == "sim":
        from hub.cli.run import run_sim

        return run_until_stopped(lambda stop: run_sim(config, args.listen, args.control, stop))
    if args.command == "demo":
        from hub.cli.demo import run_demo, with_demo_ports

        config = with_demo_ports(config, args.listen, args.sim_listen, args.sim_control)
        return run_until_stopped(lambda stop: run_demo(config, stop, config.source))
    from hub.cli.run import run_serve

    if args.node:
        config = dataclasses.replace(config, cluster=dataclasses.replace(config.cluster, node=args.node))
    return run_until_stopped(lambda stop: run_serve(config, args.listen, stop, config.source))


def run_check(args: argparse.Namespace) -> int:
    path = args.file or args.config
    try:
        config = load_config(path)
    except ConfigError as exc:
        print("\n".join(exc.problems))
        return 1
    if not config.streams:
        print(f"{path}: warning: no [[streams]]: the hub would watch nothing")
    print(f"{path}: OK, {len(config.streams)} streams")
    return 0


def run_estate(args: argparse.Namespace) -> int:
    from hub.inventory.estate import estate_config

    out = args.out
    text = estate_config(args.seed)
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


def _users(args: argparse.Namespace) -> int:
    from hub.cli import users

    return users.run(args)


def _admin(args: argparse.Namespace) -> int:
    from hub.cli import admin

    return admin.run_token(args) if args.command == "token" else admin.run_audit(args)


def _ops(args: argparse.Namespace) -> int:
    from hub.cli import ops

    return ops.run(args)


def _incidents(args: argparse.Namespace) -> int:
    from hub.cli import incidents

    return incidents.run(args)


def _onvif(args: argparse.Namespace) -> int:
    from hub.cli import onvif

    return onvif.run(args)


_COMMANDS = {
    "check": run_check,
    "estate": run_estate,
    "user": _users,
    "token": _admin,
    "audit": _admin,
    "import": _ops,
    "export": _ops,
    "status": _ops,
    "onvif": _onvif,
    "incidents": _incidents,
}
