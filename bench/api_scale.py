"""API and metrics at estate scale: 1,555 streams (1,000 public-security, 538 property, 14 childcare,
3 vehicle), 50 concurrent clients.

Run: python bench/api_scale.py [--pulling 40] [--seconds 10]
The first `--pulling` streams pull real video from the simulator; the rest
point at a closed local port, so their records are real (offline,
unreachable, reconnecting with backoff) without costing video. Measured from
50 clients polling as UIs do (lists once a second each, records ten times a second
each, random ids): p50/p99; the same endpoints saturated by wrk (50 connections,
as fast as they go): throughput and latency; one /metrics scrape's time and
size; SSE fan-out to 100 subscribers.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import header_markdown, machine, table_markdown, write_results  # noqa: E402
from hubproc import HubProcess, sim_and_hub  # noqa: E402

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
            block = (
                f'[[streams]]\nid = "{sid}"\nname = "Estate camera {sid}"\ncategory = "{category}"\n'
                f'site = "Block {i % 40}"\nposition = [{lat:.5f}, {lon:.5f}]\nurl = "{url}"\ntags = ["t{i % 7}"]\nmode = "live"\n'
            )
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
                    key = str(int(float(raw.split(b'"at":')[1].split(b"}")[0])))
                    received.append((time.perf_counter() - sent_at[key]) * 1000)
                    got += 1
                    if got == events:
                        return

    tasks = [asyncio.create_task(subscriber()) for _ in range(subscribers)]
    for _ in range(subscribers):
        await ready.acquire()
    first_at = int(time.time()) - events  # past fixes in order: a fix dated in the future is refused
    for i in range(events):
        at = first_at + i
        sent_at[f"{at}"] = time.perf_counter()
        async with session.put(hub.url("/api/streams/vh-0000/position"), json={"lat": 31.77, "lon": 117.3, "at": at}) as r:
            assert r.status == 200
        await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    return received


RANDOM_RECORD_LUA = """
request = function()
  return wrk.format("GET", string.format("/api/streams/ps-%04d", math.random(0, 999)))
end
"""


def wrk(url: str, seconds: float, script: str | None = None, headers: dict | None = None) -> dict[str, float]:
    """Latency percentiles (ms) from wrk: 50 connections, 2 threads (a C client: the client's own cost stays small)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        command = ["wrk", "-t2", "-c50", f"-d{max(1, int(seconds))}s", "--latency", url]
        for name, value in (headers or {}).items():
            command[1:1] = ["-H", f"{name}: {value}"]
        if script:
            lua.write(script)
            lua.flush()
            command[1:1] = ["-s", lua.name]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = {}
    for line in output.splitlines():
        match = re.match(r"\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)", line)
        if match:
            found[match.group(1)] = float(match.group(2)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(3)]
        if "Requests/sec" in line:
            found["rps"] = float(line.split()[-1])
    return found


async def paced(session: aiohttp.ClientSession, make_url, clients: int, per_client_hz: float, seconds: float) -> list[float]:
    """`clients` clients, each sending `per_client_hz` requests a second (as UIs poll): latencies in ms."""
    out: list[float] = []

    async def client(offset: float) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time() + offset
        for k in range(int(seconds * per_client_hz)):
            delay = start + k / per_client_hz - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            began = time.perf_counter()
            async with session.get(make_url()) as response:
                await response.read()
            out.append((time.perf_counter() - began) * 1000)

    await asyncio.gather(*(client(i / clients / per_client_hz) for i in range(clients)))
    return out


async def measure(hub: HubProcess, seconds: float) -> dict:
    saturated_list = await asyncio.to_thread(wrk, hub.url("/api/streams"), seconds, None, hub.headers)
    saturated_record = await asyncio.to_thread(wrk, hub.url("/api/streams/ps-0000"), seconds, RANDOM_RECORD_LUA, hub.headers)
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector, headers=hub.headers) as session:
        lists = await paced(session, lambda: hub.url("/api/streams"), 50, 1.0, seconds)
        records = await paced(session, lambda: hub.url(f"/api/streams/ps-{random.randrange(1000):04d}"), 50, 10.0, seconds)
        scrapes = await latencies(session, [hub.url("/metrics")] * 20, 1)
        async with session.get(hub.url("/metrics")) as response:
            size = len(await response.read())
        async with session.get(hub.url("/api/streams")) as response:
            list_size = len(await response.read())
        fan = await fan_out(hub, session, 100, 20)
    return {
        "list_p50_ms": statistics.median(lists),
        "list_p99_ms": percentile(lists, 0.99),
        "list_bytes": list_size,
        "record_p50_ms": statistics.median(records),
        "record_p99_ms": percentile(records, 0.99),
        "saturated_list_rps": saturated_list["rps"],
        "saturated_list_p50_ms": saturated_list["50"],
        "saturated_list_p99_ms": saturated_list["99"],
        "saturated_record_rps": saturated_record["rps"],
        "saturated_record_p50_ms": saturated_record["50"],
        "saturated_record_p99_ms": saturated_record["99"],
        "scrape_ms": statistics.median(scrapes),
        "scrape_max_ms": max(scrapes),
        "scrape_bytes": size,
        "sse_subscribers": 100,
        "sse_p50_ms": statistics.median(fan),
        "sse_p99_ms": percentile(fan, 0.99),
    }


async def run(pulling: int, seconds: float) -> dict:
    random.seed(7)
    sim_config, _ = estate_config(pulling, "127.0.0.1:1", "127.0.0.1:1")

    def hub_config(sim) -> str:
        random.seed(7)  # the same positions as the simulator's copy
        return estate_config(pulling, sim.rtsp, sim.control)[1]

    with sim_and_hub(sim_config, hub_config, pulling) as (_, hub):
        return await measure(hub, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pulling", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk run length per endpoint")
    args = parser.parse_args()
    info = machine()
    result = asyncio.run(run(args.pulling, args.seconds))
    rows = [[k, f"{v:.1f}" if isinstance(v, float) else v, TARGETS.get(k, "")] for k, v in result.items()]
    print(header_markdown(info))
    print(f"\n1,555 streams ({args.pulling} pulling video), 50 concurrent clients (paced), and wrk at saturation\n")
    print(table_markdown(["measure", "value", "target"], rows))
    path = write_results("api_scale", {"machine": info, "pulling": args.pulling, "seconds": args.seconds, **result})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
