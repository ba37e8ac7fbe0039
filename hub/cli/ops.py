"""`hub import`, `hub export` and `hub status`: the ops team's tools around a config and a running hub.

Who runs where: the command line only. Import and export read and write files (the config is replaced
atomically, so a running hub never reads half of it; `systemctl reload hub` or SIGHUP applies it).
Status asks a running hub over HTTP, once or every few seconds (`--watch`) until Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from hub.cli.options import command
from hub.config import Config, ConfigError, load_config, parse_config
from hub.safe.files import write_private


def add_parsers(commands) -> None:
    imp = command(
        commands,
        "import",
        "add the cameras of an inventory CSV to the config",
        (
            "hub import cameras.csv",
            "hub import cameras.csv --skip-bad --config /etc/hub/streams.toml",
            "hub import cameras.csv --stdout > new-streams.toml",
        ),
        config="the config to add them to",
    )
    imp.add_argument("file", help="CSV: id, name, category, site, lat, lon, url, sub_url, tags (Chinese headers too)")
    imp.add_argument("--skip-bad", action="store_true", help="add the good rows even if some are bad (they are still reported)")
    imp.add_argument("--stdout", action="store_true", help="print the new [[streams]] tables instead of adding them")
    exp = command(
        commands,
        "export",
        "the configured cameras as an inventory CSV, credentials redacted",
        ("hub export", "hub export --out cameras.csv --config /etc/hub/streams.toml"),
        config="the config to export",
    )
    exp.add_argument("--out", default="-", help="file to write ('-', the default: standard output)")
    status = command(
        commands,
        "status",
        "the estate in the terminal: counts by category and state, worst problems first",
        ("HUB_TOKEN=hub_... hub status", "hub status --watch 10 --url https://hub.example:8443"),
        config="where to find the hub's address ([hub] listen)",
    )
    status.add_argument("--url", help="the hub's address (default: [hub] listen of --config)")
    status.add_argument(
        "--token-env", default="HUB_TOKEN", metavar="VAR", help="environment variable holding a token (default: %(default)s)"
    )
    status.add_argument(
        "--watch", nargs="?", const=5.0, type=float, metavar="SECONDS", help="refresh every SECONDS (5) until Ctrl-C"
    )
    status.add_argument("--problems", type=int, default=20, help="how many problem streams to list (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    return {"import": run_import, "export": run_export, "status": run_status}[args.command](args)


def run_import(args: argparse.Namespace) -> int:
    from hub.inventory.csv_io import read_rows, streams_toml

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"hub import: cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 1
    config_path = Path(args.config)
    try:
        existing = None if args.stdout else config_to_extend(config_path)
    except ConfigError as exc:
        print("hub import: " + str(exc), file=sys.stderr)
        return 1
    imported = read_rows(text, args.file, existing)
    for problem in imported.problems:
        print(problem, file=sys.stderr)
    if imported.problems and not args.skip_bad:
        print(
            f"hub import: {len(imported.problems)} problems; nothing was added (--skip-bad adds the good rows)", file=sys.stderr
        )
        return 1
    if not imported.good:
        print("hub import: no camera to add", file=sys.stderr)
        return 1
    tables = streams_toml(imported.good)
    if args.stdout:
        sys.stdout.write(tables)
        return 0
    note = f" ({imported.bad_rows} bad rows skipped)" if imported.bad_rows else ""
    return append_streams(config_path, tables, len(imported.good), "hub import", note)


def config_to_extend(config_path: Path) -> Config:
    """The config new streams will join; ConfigError (one message listing its problems) if it is not valid."""
    try:
        return load_config(config_path)
    except ConfigError as exc:
        raise ConfigError(["the config has problems; fix them first:\n" + "\n".join(exc.problems)]) from None


def append_streams(config_path: Path, tables: str, count: int, command: str, note: str = "") -> int:
    """Add `[[streams]]` tables to the end of a config (its comments and layout kept), only if the result
    is valid; the file is replaced atomically. Returns the exit status; says what happened."""
    current = config_path.read_text(encoding="utf-8")
    new = current + ("" if current.endswith("\n") or not current else "\n") + "\n" + tables
    try:
        parse_config(new, str(config_path), base=config_path.parent)
    except ConfigError as exc:
        print(f"{command}: the config would not be valid; nothing was added:\n" + "\n".join(exc.problems), file=sys.stderr)
        return 1
    write_private(config_path, new, mode=config_path.stat().st_mode & 0o7777)  # the config keeps its own mode
    print(
        f"{command}: added {count} camera{'s' if count != 1 else ''} to {config_path}{note}; "
        "reload the hub to watch them (SIGHUP)"
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from hub.inventory.csv_io import export_csv

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    text = export_csv(config)
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"hub export: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"hub export: {len(config.streams)} cameras written to {args.out}", file=sys.stderr)
    return 0


def run_status(args: argparse.Namespace) -> int:
    from hub.cli.status import StatusError, fetch, render

    token = os.environ.get(args.token_env, "")
    if not token:
        print(
            f"hub status: set {args.token_env} to a token (hub token add NAME --role viewer --grant 'category=*')",
            file=sys.stderr,
        )
        return 1
    try:
        url = args.url or _hub_url(args.config)
        while True:
            text = render(fetch(url, token), args.problems)
            if args.watch and sys.stdout.isatty():
                sys.stdout.write("\x1b[H\x1b[2J")
            sys.stdout.write(text)
            sys.stdout.flush()
            if not args.watch:
                return 0
            time.sleep(args.watch)
    except StatusError as exc:
        print(f"hub status: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def _hub_url(config_path: str) -> str:
    from hub.cli.status import StatusError

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise StatusError(f"no --url, and the config cannot tell the address: {exc.problems[0]}") from None
    from hub.ports import local_url

    return local_url(config, config.hub.listen.port) + "/"
