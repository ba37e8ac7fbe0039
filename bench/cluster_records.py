"""What sharing the cameras' records costs Redis and each node, from 1,555 to 100,000 cameras (no video).

Every node shows the whole estate: each holder writes its cameras' records to Redis (`ClusterStore.share`,
the fenced Lua script `hub serve` runs) and every node reads every change (`ClusterStore.changes`). A
record is written at each state change and at most every 5 s while its measurements move: a live
camera's every 5 s, a patrolled camera's once a patrol period. This benchmark runs the real store code:
one loopback `redis-server`, and in this process one `ClusterStore` per simulated node (its own
connection, a live heartbeat, its share of the claims), each writing its cameras' records at that rate,
with the reference estate's share of live cameras, and up to `--readers` of them (8) reading the changes
once a second as `hub.cluster.estate` does: this one process cannot read for 66 nodes, so the reads of
the rest are worked out from what the readers cost. Real records (a live camera's JSON) are written; the
readers count them.

Measured per size (cameras, nodes as in the sizing table):
- writers alone, then writers and readers: Redis's CPU (share of one core), its network out, commands a
  second; records written and read a second (needed: written x nodes);
- from the two phases, Redis's CPU per record written and per record read, and so Redis's CPU and
  network out with every node reading;
- a node's own CPU to take in the others' records (`EstateSync._apply`: parse, index, events), per record
  and as a share of a core at the full rate.

Run: python bench/cluster_records.py              (about 3 minutes)
     python bench/cluster_records.py --smoke      (1,555 cameras on 2 nodes, short: CI)
Results: bench/results/cluster_records.json and its markdown on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import redis.asyncio as redis_asyncio
from common import RESULTS, cpu_seconds, header_markdown, machine, table_markdown, write_results

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.redis_server import RedisServer  # noqa: E402

from hub.cluster.assign import NodeShare  # noqa: E402
from hub.cluster.estate import READ_COUNT, EstateSync  # noqa: E402
from hub.cluster.sharing import REFRESH_S  # noqa: E402
from hub.cluster.store import ClusterStore  # noqa: E402
from hub.config import Config, Stream  # noqa: E402
from hub.index import Index, StreamRecord  # noqa: E402

SIZES = ((1555, 2), (10_000, 8), (100_000, 66))  # the sizing table's (cameras, nodes: one spare)
PATROL_PERIOD_S = 300.0
STEP_S = 1.0


def live_share() -> float:
    """The reference run's share of live cameras before the kill (mode auto on two nodes), else 15 %."""
    try:
        before = json.loads((RESULTS / "cluster_reference.json").read_text())["before"]
    except (OSError, KeyError, ValueError):
        return 0.15
    return sum(n["live"] for n in before.values()) / sum(n["held"] for n in before.values())


def record_body(camera: str, at: float) -> bytes:
    """A live camera's record as its holder shares it."""
    stream = Stream(camera, f"Gate {camera}", "public-security", "rtsp://10.1.2.3/live", site="Fangxing-3",
                    tags=("gate", "north"), position=(39.9042, 116.4074))  # fmt: skip
    record = StreamRecord.from_stream(stream)
    record.state, record.fps, record.last_frame_at, record.bytes_total = "online", 24.8, at, 123_456_789
    record.codec, record.width, record.height, record.node, record.mode = "h264", 1920, 1080, "node-01", "auto"
    return record.json_bytes()


class SimNode:
    """One node's store: its heartbeat, its cameras' claims, its writes at the record rate, its reads."""

    def __init__(self, url: str, name: str, cameras: list[str], per_s: float):
        self.client = redis_asyncio.Redis.from_url(url, socket_timeout=30)
        self.store = ClusterStore(self.client, name)
        self.cameras, self.per_s = cameras, per_s
        self.bodies = {c: record_body(c, time.time()) for c in cameras}
        self.written = self.read = self.read_bytes = 0
        self.last_id = "0-0"
        self.reading = False
        self._next = 0
        self._owed = 0.0

    async def start(self) -> None:
        await self.store.join(NodeShare(2.0, 1_000_000))
        for start in range(0, len(self.cameras), 2000):
            await self.store.claim(self.cameras[start : start + 2000])

    async def run(self, until: float, maxlen: int) -> None:
        beat_at = 0.0
        while (now := time.monotonic()) < until:
            if now - beat_at >= 2.0:
                await self.store.renew(NodeShare(2.0, 1_000_000))
                beat_at = now
            self._owed += self.per_s * STEP_S
            due = int(self._owed)
            self._owed -= due
            batch = [self.cameras[(self._next + i) % len(self.cameras)] for i in range(due)]
            self._next += due
            if batch:
                self.written += await self.store.share([(c, self.bodies[c]) for c in batch], maxlen)
            if self.reading:  # as the estate sync reads: once a step, up to READ_COUNT changes
                changes, _ = await self.store.changes(self.last_id, READ_COUNT)
                if changes:
                    self.last_id = changes[-1][0]
                    self.read += len(changes)
                    self.read_bytes += sum(len(body) for _, _, body in changes)
            await asyncio.sleep(max(0.0, STEP_S - (time.monotonic() - now)))


async def redis_stats(client, pid: int) -> dict:
    info = await client.info("all")
    return {"cpu": cpu_seconds(pid), "out": info["total_net_output_bytes"], "in": info["total_net_input_bytes"],
            "commands": info["total_commands_processed"], "at": time.monotonic()}  # fmt: skip


def rates(before: dict, after: dict) -> dict:
    took = after["at"] - before["at"]
    return {"redis_cpu_share": (after["cpu"] - before["cpu"]) / took, "took_s": took,
            "net_out_bytes_per_s": (after["out"] - before["out"]) / took,
            "commands_per_s": (after["commands"] - before["commands"]) / took}  # fmt: skip


async def phase(nodes: list[SimNode], admin, pid: int, window_s: float, maxlen: int) -> dict:
    """Run the nodes for a warm-up and `window_s`; rates over the window."""
    warm = 3.0
    runs = [asyncio.create_task(n.run(time.monotonic() + warm + window_s, maxlen)) for n in nodes]
    await asyncio.sleep(warm)
    written, read = sum(n.written for n in nodes), sum(n.read for n in nodes)
    read_bytes = sum(n.read_bytes for n in nodes)
    before = await redis_stats(admin, pid)
    await asyncio.gather(*runs)
    after = await redis_stats(admin, pid)
    out = rates(before, after)
    out["written_per_s"] = (sum(n.written for n in nodes) - written) / out["took_s"]
    out["read_per_s"] = (sum(n.read for n in nodes) - read) / out["took_s"]
    out["read_bytes_per_s"] = (sum(n.read_bytes for n in nodes) - read_bytes) / out["took_s"]
    return out


def node_cost_per_record(count: int = 20_000) -> float:
    """CPU seconds a node spends taking in one other node's record (`EstateSync._apply`)."""
    cameras = [f"cam-{i:06d}" for i in range(count)]
    config = Config(streams=tuple(Stream(c, c, "public-security", "rtsp://10.1.2.3/live") for c in cameras))
    sync = EstateSync(store=None, index=Index(), config=config)  # type: ignore[arg-type]
    bodies = [record_body(c, time.time() + i) for i, c in enumerate(cameras)]
    started = time.process_time()
    for body in bodies:
        sync._apply(body)
    return (time.process_time() - started) / count


async def measure(cameras: int, nodes: int, share: float, window_s: float, readers: int) -> dict:
    """`readers` of the `nodes` read (this one process cannot read for 66 nodes); the rest is worked out."""
    readers = min(readers, nodes)
    per_camera = share / REFRESH_S + (1 - share) / PATROL_PERIOD_S
    ids = [f"cam-{i:06d}" for i in range(cameras)]
    maxlen = max(10_000, 20 * cameras)  # as `EstateSync.maxlen`
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp)).start()
        admin = redis_asyncio.Redis.from_url(server.url)
        sims = [SimNode(server.url, f"node-{n:02d}", ids[n::nodes], per_camera * len(ids[n::nodes])) for n in range(nodes)]
        try:
            for sim in sims:
                await sim.start()
            alone = await phase(sims, admin, server.process.pid, window_s, maxlen)
            for sim in sims[:readers]:
                sim.reading, sim.last_id = True, (await admin.xinfo_stream("hub:changes"))["last-generated-id"].decode()
            both = await phase(sims, admin, server.process.pid, window_s, maxlen)
        finally:
            for sim in sims:
                await sim.client.aclose()
            await admin.aclose()
            server.kill()
    needed_w = per_camera * cameras
    cost_w = alone["redis_cpu_share"] / max(alone["written_per_s"], 1e-9)
    cost_r = max(0.0, both["redis_cpu_share"] - cost_w * both["written_per_s"]) / max(both["read_per_s"], 1e-9)
    bytes_per_read = both["read_bytes_per_s"] / max(both["read_per_s"], 1e-9)
    return {
        "cameras": cameras,
        "nodes": nodes,
        "records_per_s_needed": round(needed_w, 1),
        "reads_per_s_needed": round(needed_w * nodes, 1),
        "writers_alone": {k: round(v, 4) for k, v in alone.items()},
        "writers_and_readers": {k: round(v, 4) for k, v in both.items()},
        "redis_cpu_per_write_us": round(cost_w * 1e6, 2),
        "redis_cpu_per_read_us": round(cost_r * 1e6, 2),
        "readers": readers,
        "read_kept_up": both["read_per_s"] >= 0.95 * both["written_per_s"] * readers,
        "redis_cpu_share_full_rate": round(cost_w * needed_w + cost_r * needed_w * nodes, 3),
        "redis_net_out_mbit_full_rate": round(8 * bytes_per_read * needed_w * nodes / 1e6, 1),
    }


async def simulate(args) -> dict:
    share = live_share()
    sizes = ((1555, 2),) if args.smoke else SIZES
    runs = [await measure(c, n, share, 5.0 if args.smoke else args.window, args.readers) for c, n in sizes]
    per_record = node_cost_per_record(2000 if args.smoke else 20_000)
    for run in runs:
        run["node_cpu_share_full_rate"] = round(per_record * run["records_per_s_needed"], 3)
    return {"machine": machine(), "args": vars(args), "live_share": round(share, 3), "patrol_period_s": PATROL_PERIOD_S,
            "refresh_s": REFRESH_S, "node_cpu_per_record_us": round(per_record * 1e6, 1), "sizes": runs}  # fmt: skip


def markdown(result: dict) -> str:
    rows = [[f"{r['cameras']:,}", r["nodes"], f"{r['records_per_s_needed']:,.0f}", f"{r['reads_per_s_needed']:,.0f}",
             f"{r['writers_and_readers']['read_per_s']:,.0f} by {r['readers']}", r["redis_cpu_per_read_us"],
             f"{r['redis_cpu_share_full_rate']:.2f}", f"{r['redis_net_out_mbit_full_rate']:,.0f}",
             f"{r['node_cpu_share_full_rate']:.2f}"] for r in result["sizes"]]  # fmt: skip
    columns = ["cameras", "nodes", "records written/s", "reads needed/s", "reads done/s here, by", "Redis µs a read",
               "Redis cores at full rate", "Redis Mbit/s out", "node cores to read"]  # fmt: skip
    return header_markdown(result["machine"]) + "\n\n" + table_markdown(columns, rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured per phase")
    parser.add_argument("--readers", type=int, default=8, help="nodes that read (the others' reads are worked out)")
    parser.add_argument("--smoke", action="store_true", help="1,555 cameras on 2 nodes, short")
    args = parser.parse_args()
    result = asyncio.run(simulate(args))
    write_results("cluster_records", result, smoke=args.smoke)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
