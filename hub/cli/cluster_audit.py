"""`hub audit verify|export` on a cluster node's config: every node's chain, as copied to Redis.

Who runs where: the command line, with Redis's synchronous client (`hub.cluster.audit` does the walking
and the merging); Redis that does not answer is an error that says so, exit 1.
"""

from __future__ import annotations

import csv
import sys
from typing import TextIO

from hub.cluster.audit import export_cluster, verify_cluster

HEADER = ["node", "seq", "time_utc", "who", "action", "stream", "address", "detail", "hash"]


def _client(settings):
    import redis  # only a cluster needs the client

    return redis.Redis.from_url(settings.redis, socket_timeout=10.0, socket_connect_timeout=5.0)


def verify(settings, out: TextIO) -> bool:
    """Print each node's finding; True when every chain is whole."""
    import redis

    try:
        with _client(settings) as client:
            found = verify_cluster(client)
    except redis.RedisError as error:
        print(f"hub audit: the cluster's trail could not be read from Redis ({error})", file=sys.stderr)
        return False
    if not found:
        print("cluster: no node has copied entries to Redis yet", file=out)
    for node, _, finding in found:
        print(f"cluster node {node}: {finding}", file=out)
    return all(whole for _, whole, _ in found)


def export(settings, since: float | None, out: TextIO) -> int:
    """Every node's entries as CSV (a `node` column first), merged by time; the exit code."""
    import redis

    writer = csv.writer(out)
    writer.writerow(HEADER)
    try:
        with _client(settings) as client:
            for row in export_cluster(client, since):
                writer.writerow(row)
    except redis.RedisError as error:
        print(f"hub audit: the cluster's trail could not be read from Redis ({error})", file=sys.stderr)
        return 1
    return 0
