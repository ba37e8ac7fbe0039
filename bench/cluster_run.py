"""What the cluster benchmarks share: a node's own cluster gauges, and stopping a loopback cluster.

Who runs where: the benchmark's own process (bench/cluster.py, bench/cluster_reference.py), over the
nodes' HTTP APIs and the child processes it started.
"""

from __future__ import annotations

import urllib.request

from hubproc import HubProcess


def cluster_gauge(node: HubProcess, name: str) -> int:
    """One of the node's own `hub_cluster_*` gauges (0 when absent)."""
    request = urllib.request.Request(node.url("/metrics"), headers=node.headers)
    with urllib.request.urlopen(request, timeout=30) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith(name + "{"):
                return int(float(line.rsplit(" ", 1)[1]))
    return 0


def claims(node: HubProcess) -> int:
    """Cameras the node holds (and pulls)."""
    return cluster_gauge(node, "hub_cluster_claims")


def stop_cluster(sessions, nodes: dict[str, HubProcess], sim, redis) -> None:
    """The session watch, every node still running, the simulator and Redis."""
    sessions.stop()
    for node in nodes.values():
        if node.process.poll() is None:
            node.stop()
    sim.stop()
    redis.kill()
