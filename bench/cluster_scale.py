"""The cluster's control plane at a city's scale, in simulation: 100,000 cameras over 50 nodes on one
loopback `redis-server`, no video. Each simulated node is a process running a real
`hub.cluster.node.ClusterNode` (its heartbeat, assignment, moves, fenced claims and Redis reads, all as
in `hub serve`) whose monitor pulls nothing: it only keeps the cameras it is given (`CountingMonitor`).
Record sharing is left out (a node's record traffic is sized from its rate in docs/cluster.md);
everything else is the code nodes run. This process watches from outside, through Redis alone.

Measured: how long until every camera has exactly one live holder from a cold start; Redis at steady
state (client commands per second, calls with those scripts make, network bytes, the server's CPU); how
evenly the cameras spread (per node: least, most, spread over the mean); the time one node takes to
work out the whole assignment (`assign`, 100,000 x 50) and to work it out again when a node leaves
(`Assigner`); after a node is killed (SIGKILL), how long until its cameras have new live holders, and
how many moved. All 50 nodes share this machine's two cores, which a real cluster does not: times here
are upper bounds.

Run: python bench/cluster_scale.py [--cameras 100000] [--nodes 50]   (about 5 minutes)
     python bench/cluster_scale.py --smoke                            (5,000 cameras, 10 nodes: CI)
Results: bench/results/cluster_scale.json and its markdown on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis.asyncio as redis_asyncio
from common import cpu_seconds, header_markdown, machine, table_markdown, write_results

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.redis_server import RedisServer  # noqa: E402

from hub.cluster import lease as lease_module  # noqa: E402
from hub.cluster import node as node_module  # noqa: E402
from hub.cluster.assign import Assigner, NodeShare, assign  # noqa: E402
from hub.cluster.node import ClusterNode  # noqa: E402
from hub.config import Config, Stream  # noqa: E402
from hub.config.cluster import ClusterSettings  # noqa: E402
from hub.index import Index  # noqa: E402

STEADY_S = 30.0  # steady state measured over this long
SECRET = "scale-bench-secret-0001"


class CountingMonitor:
    """A monitor that pulls nothing: it keeps the streams it is given, as the cluster node sees it."""

    def __init__(self):
        self.index, self.keep_records, self.streams = Index(), True, 0
        self.meter = type("Meter", (), {"cores": 2})()

    async def apply(self, config: Config) -> None:
        self.streams = len(config.streams)

    def capacity(self) -> dict:
        return {"live_budget": 0, "patrol_capacity": None}

    def set_pull_until(self, until: float | None) -> None:
        pass


class NoSharing:
    """Record sharing left out of the simulation (`hub.cluster.estate` sized on paper)."""

    def configure(self, config) -> None: ...
    def taking(self, cameras) -> None: ...
    def holding(self, cameras) -> None: ...
    def holders_alive(self, members) -> None: ...
    async def step(self) -> None: ...


def camera_ids(count: int) -> list[str]:
    return [f"cam-{i:06d}" for i in range(count)]


def dilate(factor: float) -> None:
    """Every period of the cluster's clockwork (heartbeat, expiry, stop margin, cool-down) times `factor`,
    in this node process only: 50 nodes' work squeezed onto two cores would otherwise starve the
    heartbeats, which no real cluster of 50 machines does. Periodic Redis traffic then comes `factor`
    times less often, and a takeover takes about `factor` times longer: the results are scaled back."""
    lease_module.RENEW_EVERY_S *= factor
    lease_module.TTL_S *= factor
    lease_module.STOP_MARGIN_S *= factor
    lease_module.GAP_S *= factor
    for name in ("RENEW_EVERY_S", "TTL_S", "GAP_S", "COOLDOWN_S"):
        setattr(node_module, name, getattr(node_module, name) * factor)


async def run_node(name: str, redis_url: str, cameras: int, factor: float) -> None:
    """One simulated node, until killed. It gets ready (imports, its config), says so, and joins only
    when every node is ready: 50 processes starting on two cores would otherwise starve those running."""
    dilate(factor)
    streams = tuple(Stream(c, c, "public-security", "rtsp://127.0.0.1/x") for c in camera_ids(cameras))
    config = Config(streams=streams, cluster=ClusterSettings(redis_url, name, secret=SECRET))
    client = redis_asyncio.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    await client.sadd("bench:ready", name)
    while not await client.exists("bench:go"):
        await asyncio.sleep(0.2)
    node = ClusterNode(config, CountingMonitor(), client=client, estate=NoSharing())
    node.lease = lease_module.Lease(lease_module.TTL_S, lease_module.STOP_MARGIN_S)  # the dilated lease
    await node.run()


async def live_holders(client) -> dict[str, int]:
    """Cameras per node, counting only claims whose holder's heartbeat lives with their epoch."""
    claims = await client.hgetall("hub:claims")
    names = sorted(n.decode() for n in await client.smembers("hub:nodes"))
    beats = await client.mget([f"hub:node:{n}" for n in names]) if names else []
    epochs = {n: json.loads(b)["epoch"] for n, b in zip(names, beats, strict=True) if b is not None}
    counts: dict[str, int] = {}
    for value in claims.values():
        node, _, epoch = value.decode().rpartition("|")
        if epochs.get(node) == int(epoch):
            counts[node] = counts.get(node, 0) + 1
    return counts


async def redis_stats(client) -> dict:
    info = await client.info("all")
    return {
        "commands": info["total_commands_processed"],
        "all_calls": sum(v["calls"] for k, v in info.items() if k.startswith("cmdstat_")),  # scripts' own calls too
        "net_in": info["total_net_input_bytes"],
        "net_out": info["total_net_output_bytes"],
    }


async def wait_until(condition, timeout: float, what: str, processes=()) -> float:
    start = time.monotonic()
    while not await condition():
        if any(p.poll() is not None for p in processes):
            raise RuntimeError(f"{what}: a node process ended (exit {[p.poll() for p in processes if p.poll() is not None]})")
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"{what}: not within {timeout} s")
        await asyncio.sleep(1.0)
    return time.monotonic() - start


def timed_assignments(cameras: int, nodes: int) -> tuple[float, float]:
    """(one whole assignment, the same worked out again after a node left), seconds, on this process."""
    ids, shares = tuple(camera_ids(cameras)), {f"node-{i:02d}": NodeShare(2.0, 1_000_000) for i in range(nodes)}
    started = time.perf_counter()
    assign(ids, shares)
    whole = time.perf_counter() - started
    assigner = Assigner()
    assigner(ids, shares)
    shares.pop(sorted(shares)[0])
    started = time.perf_counter()
    assigner(ids, shares)
    return whole, time.perf_counter() - started


async def simulate(args) -> dict:
    names = [f"node-{i:02d}" for i in range(args.nodes)]
    whole_s, again_s = timed_assignments(args.cameras, args.nodes)
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp)).start()
        admin = redis_asyncio.Redis.from_url(server.url, socket_timeout=60)
        nodes: dict[str, subprocess.Popen] = {}
        try:
            for name in names:
                command = [sys.executable, __file__, "--node", name, "--redis", server.url, "--cameras", str(args.cameras),
                           "--dilate", str(args.dilate)]  # fmt: skip
                nodes[name] = subprocess.Popen(command, stdout=subprocess.DEVNULL)

            async def ready() -> bool:
                return await admin.scard("bench:ready") == args.nodes

            await wait_until(ready, 900, "every node process ready", nodes.values())
            await admin.set("bench:go", 1)
            started = time.monotonic()

            async def all_held() -> bool:
                counts = await live_holders(admin)
                return sum(counts.values()) == args.cameras and len(counts) == args.nodes

            await wait_until(all_held, 900, "every camera held by a live node, every node holding some", nodes.values())
            spread_s = time.monotonic() - started
            await asyncio.sleep((node_module.COOLDOWN_S + 5) * args.dilate)  # past the cool-down: the assignment is final
            await wait_until(all_held, 300, "every camera held after the cool-down")
            before, cpu_before, since = await redis_stats(admin), cpu_seconds(server.process.pid), time.monotonic()
            await asyncio.sleep((STEADY_S if not args.smoke else 10.0) * args.dilate)
            after, cpu_after, took = await redis_stats(admin), cpu_seconds(server.process.pid), time.monotonic() - since
            counts = await live_holders(admin)
            held = sorted(counts.values())
            mean = statistics.mean(held)
            victim = max(counts, key=counts.get)
            moved = counts[victim]
            nodes[victim].send_signal(signal.SIGKILL)
            nodes[victim].wait(10)
            died_at = time.monotonic()

            async def taken_over() -> bool:
                counts = await live_holders(admin)
                return sum(counts.values()) == args.cameras and victim not in counts

            await wait_until(taken_over, 600, "the killed node's cameras held by the others")
            failover_s = time.monotonic() - died_at
        finally:
            for process in nodes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
            await admin.aclose()
            server.kill()
    return {
        "machine": machine(),
        "args": vars(args),
        "cameras": args.cameras,
        "nodes": args.nodes,
        "first_spread_s": round(spread_s / args.dilate, 1),
        "steady_window_s": round(took, 1),
        "dilation": args.dilate,  # rates below are scaled back to the real clockwork (x dilation; times / dilation)
        "redis_commands_per_s": round((after["commands"] - before["commands"]) / took * args.dilate, 1),
        "redis_calls_per_s": round((after["all_calls"] - before["all_calls"]) / took * args.dilate, 1),
        "redis_net_in_bytes_per_s": round((after["net_in"] - before["net_in"]) / took * args.dilate),
        "redis_net_out_bytes_per_s": round((after["net_out"] - before["net_out"]) / took * args.dilate),
        "redis_cpu_share": round((cpu_after - cpu_before) / took * args.dilate, 4),
        "per_node_least": held[0],
        "per_node_most": held[-1],
        "per_node_spread": round((held[-1] - held[0]) / mean, 3),
        "per_node_cv": round(statistics.pstdev(held) / mean, 3),
        "assign_s": round(whole_s, 3),
        "assign_again_s": round(again_s, 3),
        "node_death_moved": moved,
        "node_death_taken_over_s": round(failover_s / args.dilate, 1),
        "node_death_taken_over_measured_s": round(failover_s, 1),
        "first_spread_measured_s": round(spread_s, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--smoke", action="store_true", help="5,000 cameras over 10 nodes")
    parser.add_argument(
        "--dilate", type=float, default=5.0, help="the clockwork's periods times this (default 5; 1 with --smoke)"
    )
    parser.add_argument("--node", help=argparse.SUPPRESS)  # run one simulated node (started by the benchmark)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.node:
        asyncio.run(run_node(args.node, args.redis, args.cameras, args.dilate))
        return 0
    if args.smoke:
        args.cameras, args.nodes, args.dilate = 5_000, 10, 1.0
    result = asyncio.run(simulate(args))
    print(header_markdown(result["machine"]))
    rows = [
        ["cameras / nodes", f"{result['cameras']:,} / {result['nodes']} (clockwork x{result['dilation']:g}, scaled back)"],
        ["every camera held from a cold start", f"{result['first_spread_s']} s"],
        [
            "Redis at steady state",
            f"{result['redis_commands_per_s']} commands/s from clients ({result['redis_calls_per_s']} "
            f"calls/s with those scripts make), {result['redis_cpu_share'] * 100:.1f} % of a core",
        ],  # fmt: skip
        ["Redis network", f"in {result['redis_net_in_bytes_per_s']:,} B/s, out {result['redis_net_out_bytes_per_s']:,} B/s"],
        [
            "cameras per node",
            f"{result['per_node_least']}-{result['per_node_most']} (spread {result['per_node_spread']:.1%} "
            f"of the mean, CV {result['per_node_cv']:.1%})",
        ],  # fmt: skip
        ["assignment worked out by one node", f"{result['assign_s']} s whole, {result['assign_again_s']} s after a node left"],
        ["a node killed: its cameras held again", f"{result['node_death_taken_over_s']} s ({result['node_death_moved']} moved)"],
    ]
    print(table_markdown(["measure", "value"], rows))
    print(f"written to {write_results('cluster_scale', result, args.smoke)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
