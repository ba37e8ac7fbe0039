"""API and metrics at estate scale: 1,555 streams (1,000 public-security, 538 property, 14 childcare,
3 vehicle), 50 concurrent clients.

Run: python bench/api_scale.py [--pulling 40] [--requests 2000]
The first `--pulling` streams pull real video from the simulator; the rest
point at a closed local port, so their records are real (offline,
unreachable, reconnecting with backoff) without costing video. Measured from
a client process: GET /api/streams p50/p99, GET /api/streams/{id} p99, one
/metrics scrape's time and size, and SSE fan-out to 100 subscribers.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import header_markdown, machine, table_markdown, write_results  # noqa: E402
from hubproc import HubProcess  # noqa: E402

from hub.sim.process import start_sim  # noqa: E402

ESTATE = (("public-security", 1000, "ps"), ("property", 538, "pr"), ("childcare", 14, "cc"), ("vehicle", 3, "vh"))
TARGETS = {"list_p99_ms": 50, "record_p99_ms": 5, "scrape_ms": 250}


def estate_config(pulling: int, sim_rtsp: str, sim_control: str) -> tuple[str, str]:
    """(simulator config, hub config): the first `pulling` streams are simulated, the rest dead."""
    sim_blocks, hub_blocks, n = [], [f'[sim]\nlisten = "{sim_rtsp}"\ncontrol = "{sim_control}"\n'], 0
    for category, count, prefix in ESTATE:
        for i in range(count):
            sid = f"{prefix}-{i:04d}"
            lat, lon = 31.775 + random.uniform(-0.01, 0.01), 117.303 + random.uniform(-0.01, 0.01)
            url = "sim://street?size=640x360&fps=25&codec=h264" if n < pulling else f"rtsp://admin:pw@127.0.0.1:9/{sid}"
            block = (f'[[streams]]\nid = "{sid}"\nname = "Estate camera {sid}"\ncategory = "{category}"\n'
                     f'site = "Block {i % 40}"\nposition = [{lat:.5f}, {lon:.5f}]\nurl = "{url}"\ntags = ["t{i % 7}"]\n')
            hub_blocks.append(block)
            if n < pulling:
                sim_blocks.append(block)
            n += 1
    return "\n".join(sim_blocks), "\n".join(hub_blocks)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def latencies(session: aiohttp.ClientSession, urls: list[str], concurrency: int) -> list[float]:
    queue: asyncio.Queue = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    out: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            url = queue.get_nowait()
            started = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
                assert response.status == 200, url
            out.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out


async def fan_out(hub: HubProcess, session: aiohttp.ClientSession, subscribers: int, events: int) -> list[float]:
    """Delivery latency (ms) of position events to every subscriber."""
    received: list[float] = []
    sent_at: dict[str, float] = {}
    ready = asyncio.Semaphore(0)

    async def subscriber() -> None:
        async with session.get(hub.url("/api/events")) as response:
            await response.content.readuntil(b"\n\n")
            ready.release()
            got = 0
            async for raw in response.content:
                if raw.startswith(b"data: ") and b'"lat"' in raw:
                    key = raw.split(b'"at":')[1].split(b"}")[0].decode()
                    received.append((time.perf_counter() - sent_at[key]) * 1000)
                    got += 1
                    if got == events:
                        return

    tasks = [asyncio.create_task(subscriber()) for _ in range(subscribers)]
    for _ in range(subscribers):
        await ready.acquire()
    for i in range(events):
        at = 1_800_000_000 + i
        sent_at[f"{at}"] = time.perf_counter()
        async with session.put(hub.url("/api/streams/vh-0000/position"), json={"lat": 31.77, "lon": 117.3, "at": at}) as r:
            assert r.status == 200
        await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    return received


async def measure(hub: HubProcess, requests: int) -> dict:
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:
        await latencies(session, [hub.url("/api/streams")] * 20, 5)  # warm-up
        lists = await latencies(session, [hub.url("/api/streams")] * (requests // 4), 50)
        ids = [f"ps-{random.randrange(1000):04d}" for _ in range(requests)]
        records = await latencies(session, [hub.url(f"/api/streams/{i}") for i in ids], 50)
        scrapes = await latencies(session, [hub.url("/metrics")] * 20, 1)
        async with session.get(hub.url("/metrics")) as response:
            size = len(await response.read())
        async with session.get(hub.url("/api/streams")) as response:
            list_size = len(await response.read())
        fan = await fan_out(hub, session, 100, 20)
    return {
        "list_p50_ms": statistics.median(lists), "list_p99_ms": percentile(lists, 0.99), "list_bytes": list_size,
        "record_p50_ms": statistics.median(records), "record_p99_ms": percentile(records, 0.99),
        "scrape_ms": statistics.median(scrapes), "scrape_max_ms": max(scrapes), "scrape_bytes": size,
        "sse_subscribers": 100, "sse_p50_ms": statistics.median(fan), "sse_p99_ms": percentile(fan, 0.99),
    }


async def run(pulling: int, requests: int) -> dict:
    random.seed(7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        placeholder_sim, _ = estate_config(pulling, "127.0.0.1:1", "127.0.0.1:1")
        (folder / "sim.toml").write_text(placeholder_sim)
        sim = start_sim(folder / "sim.toml")
        hub = None
        try:
            random.seed(7)
            _, hub_config = estate_config(pulling, sim.rtsp, sim.control)
            (folder / "hub.toml").write_text(hub_config)
            hub = HubProcess(folder / "hub.toml")
            await asyncio.to_thread(hub.wait_online, pulling)
            return await measure(hub, requests)
        finally:
            if hub is not None:
                hub.stop()
            sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pulling", type=int, default=40)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    info = machine()
    result = asyncio.run(run(args.pulling, args.requests))
    rows = [[k, f"{v:.1f}" if isinstance(v, float) else v, TARGETS.get(k, "")] for k, v in result.items()]
    print(header_markdown(info))
    print(f"\n1,555 streams ({args.pulling} pulling video), 50 concurrent clients\n")
    print(table_markdown(["measure", "value", "target"], rows))
    path = write_results("api_scale", {"machine": info, "pulling": args.pulling, "requests": args.requests, **result})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
