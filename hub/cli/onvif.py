"""`hub onvif add` and `hub onvif discover`: onboarding cameras through ONVIF.

Who runs where: the command line only, on a short-lived event loop. `add` reads one device
(`hub.onvif.device`), turns each of its video sources into a stream entry (`hub.onvif.entries`), checks
the entries as the hub would, and appends them to the config (atomically, only if the whole config
stays valid) or prints them. `discover` sends a WS-Discovery probe and lists who answers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from hub.cli.options import actions, command
from hub.config import CATEGORIES, ConfigError, parse_config
from hub.safe.numbers import ascii_float


def add_parsers(commands) -> None:
    onvif = command(
        commands,
        "onvif",
        "add cameras from ONVIF devices, or find devices",
        (
            "hub onvif discover",
            "CAM_PASS='...' hub onvif add http://10.1.2.3 --user admin --password-env CAM_PASS "
            "--category property --site Fangxing-3 --position 31.776,117.301",
        ),
        config="the config to add them to",
    )
    verbs = actions(onvif, dest="onvif_command")
    add = command(
        verbs,
        "add",
        "read a device's profiles and add one stream per video source",
        (
            "CAM_PASS='...' hub onvif add http://10.1.2.3 --user admin --password-env CAM_PASS --category property "
            "--position 31.776,117.301",
        ),
        config="the config to add them to",
    )
    add.add_argument("address", help="the device: http://HOST[:PORT] (port 80 by default), as `hub onvif discover` lists it")
    add.add_argument("--user", required=True, help="the device's user name")
    add.add_argument(
        "--password-env",
        required=True,
        metavar="VAR",
        help="environment variable holding the password; the config gets ${VAR}, never the password",
    )
    add.add_argument("--category", required=True, choices=CATEGORIES)
    add.add_argument("--site", default="", help="site of the new streams")
    add.add_argument("--position", metavar="LAT,LON", help="where they are (required for every category but vehicle)")
    add.add_argument("--id-prefix", default="", help="stream ids start with this (default: onvif-<host>)")
    add.add_argument("--name", default="", help="stream name (default: the device's channel name, or its make and model)")
    add.add_argument("--tags", default="", help="comma-separated tags")
    add.add_argument("--stdout", action="store_true", help="print the [[streams]] tables instead of adding them")
    add.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for the device (default: %(default)s)")
    find = command(
        verbs,
        "discover",
        "find ONVIF devices with WS-Discovery",
        ("hub onvif discover", "hub onvif discover --interface eth1", "hub onvif discover --probe 10.1.2.3:3702"),
        config=None,
    )
    find.add_argument("--interface", help="send from this interface (name such as eth0, or its IPv4 address)")
    find.add_argument(
        "--probe",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="ask this device directly instead of the multicast group (repeatable)",
    )
    find.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for answers (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    return run_add(args) if args.onvif_command == "add" else run_discover(args)


def _fail(message: str) -> int:
    print(f"hub onvif: {message}", file=sys.stderr)
    return 1


def _position(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    lat, lon, *rest = [ascii_float(v.strip()) for v in text.split(",")] + [None, None]
    if lat is None or lon is None or any(v is not None for v in rest):
        raise ValueError(f"--position {text!r}: expected LAT,LON such as 31.23,121.47")
    return lat, lon


def run_add(args: argparse.Namespace) -> int:
    from hub.cli.ops import append_streams, config_to_extend
    from hub.inventory.csv_io import tables_toml
    from hub.onvif.device import DeviceError, device_address, read_device
    from hub.onvif.entries import Placement, stream_tables

    password = os.environ.get(args.password_env)
    if password is None:
        return _fail(f"--password-env {args.password_env}: that environment variable is not set")
    try:
        host, port = device_address(args.address)
        placement = Placement(
            args.category,
            args.site,
            _position(args.position),
            args.id_prefix,
            args.name,
            tuple(t.strip() for t in args.tags.split(",") if t.strip()),
        )
    except ValueError as exc:
        return _fail(str(exc))
    config_path = Path(args.config)
    try:
        existing = None if args.stdout else config_to_extend(config_path)
    except ConfigError as exc:
        return _fail(str(exc))
    try:
        report = asyncio.run(read_device(host, port, args.user, password, args.timeout))
    except DeviceError as exc:
        return _fail(str(exc))
    tables = stream_tables(report, placement, args.user, args.password_env)
    if not tables:
        return _fail(f"{host}:{port} ({report.manufacturer} {report.model}) has no profile with an RTSP stream")
    taken = [t["id"] for t in tables if existing is not None and existing.stream(t["id"]) is not None]
    if taken:
        return _fail(f"already in {config_path}: {', '.join(taken)}; nothing was added (--id-prefix gives them other ids)")
    text = tables_toml(tables)
    try:
        parse_config(text, f"{host}:{port}")
    except ConfigError as exc:
        return _fail("the device's streams do not make valid entries:\n" + "\n".join(exc.problems))
    print(
        f"hub onvif: {host}:{port} is {report.manufacturer} {report.model} (serial {report.serial or '?'}): "
        f"{len(report.profiles)} profiles, {len(tables)} video source{'s' if len(tables) != 1 else ''}",
        file=sys.stderr,
    )
    if args.stdout:
        sys.stdout.write(text)
        return 0
    return append_streams(config_path, text, len(tables), "hub onvif add")


def run_discover(args: argparse.Namespace) -> int:
    from hub.onvif.discover import discover, parse_probe_target

    try:
        targets = [parse_probe_target(t) for t in args.probe]
        found = asyncio.run(discover(args.interface, targets, args.timeout))
    except ValueError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot send the probe: {exc.strerror or exc}")
    if not found:
        where = ", ".join(args.probe) if args.probe else "the multicast group"
        print(f"hub onvif: no ONVIF device answered ({where}, {args.timeout:g} s)", file=sys.stderr)
        return 1
    width = max(len(d.address) for d in found)
    for device in found:
        details = "  ".join(p for p in (device.name, device.hardware) if p)
        print(f"{device.address:<{width}}  {details}")
    print(
        f"\n{len(found)} device{'s' if len(found) != 1 else ''}; add one with: hub onvif add ADDRESS --user USER "
        "--password-env VAR --category CATEGORY --position LAT,LON",
        file=sys.stderr,
    )
    return 0
