"""`hub incidents generate`: years of made-up incident history in a hub's store, for the map's heat layer, the
list's filters and their benchmark.

Who runs where: the command line, with the hub stopped or running (the store is SQLite in WAL mode; the
running hub reads the new history at once, and takes no open ones from it until it restarts).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hub.cli.options import actions, command
from hub.config import ConfigError, load_config

BATCH = 5000


def add_parsers(commands) -> None:
    incidents = command(
        commands,
        "incidents",
        "incident history: generate years of it (for demos and benchmarks)",
        ("hub incidents generate --count 80000", "hub incidents generate --count 1000 --years 1 --config /etc/hub/streams.toml"),
        config="the config whose cameras place the incidents (the store sits next to it)",
    )
    generate = command(
        actions(incidents),
        "generate",
        "add made-up history: reports around the configured cameras, triaged as incidents are",
        ("hub incidents generate --count 80000",),
        config="the config whose cameras place the incidents (the store sits next to it)",
    )
    generate.add_argument("--count", type=int, default=80_000, help="how many incidents (default: %(default)s)")
    generate.add_argument("--years", type=float, default=9.0, help="spread over this many years up to now (default: %(default)s)")
    generate.add_argument("--seed", type=int, default=2017, help="the generator's seed (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    from hub.incidents.history import generate
    from hub.incidents.store import IncidentStore, incidents_db_for

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print("\n".join(exc.problems))
        return 1
    if not 0 < args.count <= 10_000_000 or not 0 < args.years <= 50:
        print("hub incidents generate: --count must be 1 to 10,000,000 and --years more than 0 and at most 50")
        return 2
    places = [s.position for s in config.streams if s.position is not None]
    now = time.time()
    made = generate(args.count, places, now - args.years * 365.25 * 86400, now, args.seed)
    path = incidents_db_for(Path(args.config))
    with IncidentStore(path) as store:
        batch: list = []
        for incident in made:
            batch.append((incident, []))
            if len(batch) >= BATCH:
                store.add_many(batch)
                batch = []
        if batch:
            store.add_many(batch)
    print(f"{path}: {args.count:,} incidents over {args.years:g} years added")
    return 0
