"""Prometheus and Grafana, end to end, with Debian's real `prometheus` (promtool: `test_prometheus_rules.py`).

- A real Prometheus, configured from the shipped `prometheus.yml` (bearer token from a file) on loopback
  ports, scrapes a hub on the simulator with the shipped rules. Only their `for` waits are cut to
  seconds, so that an alert fires within a minute: a camera stalled in the simulator fires
  `HubStreamDown` (with its site, for Alertmanager's inhibition), and clearing the fault resolves it.
- Every query of the Grafana dashboard (`deploy/grafana/hub-dashboard.json`) returns data from that
  Prometheus, with its variables set as Grafana would set them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
import yaml
from support.estates import sim_for
from support.hubrun import hub_config_text, provision, running_hub
from support.paths import DASHBOARD, PROMETHEUS, RULES

pytestmark = [pytest.mark.prometheus, pytest.mark.asyncio(loop_scope="module")]

SIZE = "size=320x180&fps=10&codec=h264"


def camera(stream_id: str, site: str, category: str = "public-security", fault: str = "") -> str:
    lines = [
        "[[streams]]",
        f'id = "{stream_id}"',
        f'name = "Cam {stream_id}"',
        f'category = "{category}"',
        f'site = "{site}"',
        "position = [31.775, 117.303]",
        f'url = "sim://street?{SIZE}"',
    ]
    return "\n".join(lines + ([f'fault = "{fault}"'] if fault else [])) + "\n"


ESTATE = "".join(
    [
        camera("fx3-a", "Fangxing-3"),
        camera("fx3-victim", "Fangxing-3"),
        camera("fx5-a", "Fangxing-5", "property"),
        camera("fx5-black", "Fangxing-5", "property", fault="black"),  # a problem camera for the dashboard's table
        camera("kg-room", "Sunflower Kindergarten", "childcare"),
    ]
)
prometheus_sim = sim_for(ESTATE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def quick_rules() -> str:
    """The shipped rules with every alert's `for` cut to 3 s (expressions, labels and texts unchanged)."""
    rules = yaml.safe_load((RULES / "hub-rules.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                rule["for"] = "3s"
    return yaml.safe_dump(rules, sort_keys=False)


def prometheus_config(folder: Path, hub_address: str) -> str:
    """The shipped prometheus.yml, pointed at this hub and this folder, scraping and evaluating every second."""
    config = yaml.safe_load((RULES / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["alerting"] = {"alertmanagers": []}
    (job,) = config["scrape_configs"]
    job["authorization"]["credentials_file"] = str(folder / "hub.token")
    job["static_configs"] = [{"targets": [hub_address]}]
    return yaml.safe_dump(config, sort_keys=False)


class Prometheus:
    """A real Prometheus server on a loopback port, and its HTTP API."""

    def __init__(self, folder: Path, hub_address: str, token: str):
        (folder / "hub.token").write_text(token + "\n")
        (folder / "hub-rules.yml").write_text(quick_rules())
        (folder / "prometheus.yml").write_text(prometheus_config(folder, hub_address))
        self.port = free_port()
        self.log = folder / "prometheus.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={folder / 'prometheus.yml'}",
                    f"--storage.tsdb.path={folder / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.session: aiohttp.ClientSession | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            with contextlib.suppress(aiohttp.ClientError):
                async with self.session.get(self.url("/-/ready")) as reply:
                    if reply.status == 200:
                        return
            await asyncio.sleep(0.5)
        raise AssertionError(f"Prometheus not ready in {timeout} s:\n{self.log.read_text()}")

    async def api(self, path: str, **params) -> dict:
        async with self.session.get(self.url(path), params=params) as reply:
            body = await reply.json()
        assert body["status"] == "success", body
        return body["data"]

    async def query(self, expr: str) -> list:
        return (await self.api("/api/v1/query", query=expr))["result"]

    async def wait_for(self, what: str, check, timeout: float = 180.0):
        """Poll until `check()` returns something truthy; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.5)
        raise AssertionError(f"{what}: not within {timeout} s")

    async def alerts(self, name: str, stream: str) -> list[dict]:
        return [
            a
            for a in (await self.api("/api/v1/alerts"))["alerts"]
            if a["labels"].get("alertname") == name and a["labels"].get("stream") == stream
        ]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(prometheus_sim, tmp_path_factory):
    """The simulator, a hub on it (metrics behind a token, as by default) and Prometheus scraping it."""
    folder = tmp_path_factory.mktemp("prometheus")
    path = folder / "hub.toml"
    path.write_text(hub_config_text(ESTATE, prometheus_sim.rtsp, prometheus_sim.control))
    # The token README and prometheus.yml tell ops to make: a viewer of every category, childcare too.
    token = provision(path, "prometheus", "viewer", (("category", "*"), ("category", "childcare")))
    async with running_hub(path) as hub:
        prometheus = Prometheus(folder, f"127.0.0.1:{hub.server.port}", token)
        try:
            async with aiohttp.ClientSession() as session:
                prometheus.session = session
                await prometheus.wait_ready()
                await prometheus.wait_for("the hub scraped", lambda: prometheus.query('up{job="hub"} == 1'), 60)
                yield hub, prometheus
        finally:
            prometheus.stop()


async def test_the_scrape_with_the_token_sees_every_camera(stack):
    _hub, prometheus = stack
    streams = await prometheus.wait_for("every camera's series", _all_cameras(prometheus), 60)
    assert streams == {"fx3-a", "fx3-victim", "fx5-a", "fx5-black", "kg-room"}


def _all_cameras(prometheus):
    async def check():
        found = {r["metric"]["stream"] for r in await prometheus.query("hub_stream_info")}
        return found if len(found) == 5 else None

    return check


async def test_a_stalled_camera_fires_its_alert_and_clearing_the_fault_resolves_it(stack, prometheus_sim):
    hub, prometheus = stack
    await hub.wait_for("fx3-victim", "online", timeout=120)
    await asyncio.to_thread(prometheus_sim.set_fault, "fx3-victim", "stall")
    try:

        async def firing():
            return [a for a in await prometheus.alerts("HubStreamDown", "fx3-victim") if a["state"] == "firing"]

        (alert,) = await prometheus.wait_for("HubStreamDown firing for fx3-victim", firing)
        assert alert["labels"]["site"] == "Fangxing-3" and alert["labels"]["severity"] == "warning"
        assert alert["annotations"]["summary"] == "Camera fx3-victim (public-security) has been down for 5 minutes"
        assert not await prometheus.alerts("HubStreamDown", "fx3-a"), "only the faulted camera alerts"
    finally:
        await asyncio.to_thread(prometheus_sim.clear_fault, "fx3-victim")

    async def resolved():
        return not await prometheus.alerts("HubStreamDown", "fx3-victim")

    await prometheus.wait_for("HubStreamDown resolved for fx3-victim", resolved)
    assert (await hub.record("fx3-victim"))["state"] in ("online", "degraded")


async def test_a_failing_check_fires_its_alert_with_the_check(stack):
    _hub, prometheus = stack

    async def firing():
        return [a for a in await prometheus.alerts("HubStreamCheckFailing", "fx5-black") if a["state"] == "firing"]

    alerts = await prometheus.wait_for("HubStreamCheckFailing firing for fx5-black", firing)
    assert {a["labels"]["check"] for a in alerts} == {"black"}


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(row title, panel title, PromQL) of every target of every panel."""
    dashboard, row, out = json.loads(DASHBOARD.read_text()), "", []
    for panel in dashboard["panels"]:
        row = panel["title"] if panel["type"] == "row" else row
        out += [(row, panel["title"], target["expr"]) for target in panel.get("targets", [])]
    return out


def as_grafana_sends(expr: str, stream: str) -> str:
    """The query with the dashboard's variables replaced as Grafana replaces them (All = `.*`)."""
    values = {"stream": stream, "category": ".*", "__rate_interval": "15s", "__range": "5m"}
    return re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)], expr)


async def test_every_dashboard_query_returns_data(stack):
    _hub, prometheus = stack
    stream_values = await prometheus.api("/api/v1/label/stream/values", **{"match[]": "hub_stream_up"})
    assert "fx3-a" in stream_values
    empty = []
    for row, title, expr in dashboard_queries():
        query = as_grafana_sends(expr, "fx3-a")
        if row == "Cluster":  # a single node has no cluster series: the query must run (its names: test_cluster_nodes)
            await prometheus.query(query)
            continue

        async def answered(q=query):
            return await prometheus.query(q)

        try:
            await prometheus.wait_for(f"{title}: {query}", answered, 90)
        except AssertionError:
            empty.append(f"{title}: {query}")
    assert not empty, "panels without data:\n" + "\n".join(empty)
