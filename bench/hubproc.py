"""Run `hub serve` as a child process for benchmarks, and read its API and event stream."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BENCH_USER, BENCH_PASSWORD = "bench", "bench-password-1"


def bench_credentials(config: Path) -> str:
    """An admin token and the user `bench` (for browsers), made with the hub's own CLI; returns the token."""
    env = {**os.environ, "HUB_BENCH_PASSWORD": BENCH_PASSWORD}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "user",
            "--config",
            str(config),
            "add",
            BENCH_USER,
            "--role",
            "admin",
            "--password-env",
            "HUB_BENCH_PASSWORD",
        ],
        env=env,
        capture_output=True,
        text=True,
    )  # exists already: fine
    made = subprocess.run(
        [sys.executable, "-m", "hub", "token", "--config", str(config), "add", "bench", "--role", "admin"],
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.rsplit("not stored): ", 1)[1].strip()


async def sign_in(page, url: str) -> None:
    """A browser signs in on the login page, as a person does."""
    await page.goto(url + "/login")
    await page.fill("#user", BENCH_USER)
    await page.fill("#password", BENCH_PASSWORD)
    await page.click("#sign-in")
    await page.wait_for_url(lambda u: not u.endswith("/login"))


@contextlib.asynccontextmanager
async def signed_in_page(hub: HubProcess, viewport: tuple[int, int] = (1600, 900)):
    """Headless Chromium (Debian's), signed in to `hub`, its page loaded: yields the page."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-background-networking", "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            page = await browser.new_page(viewport={"width": viewport[0], "height": viewport[1]}, bypass_csp=True)
            await sign_in(page, hub.url(""))
            yield page
        finally:
            await browser.close()


class HubProcess:
    def __init__(self, config: Path, log_level: str = "WARNING"):
        self.port = free_port()
        self.token = bench_credentials(config)
        self.headers = {"Authorization": f"Bearer {self.token}"}
        command = [
            sys.executable,
            "-m",
            "hub",
            "--log-level",
            log_level,
            "serve",
            "--config",
            str(config),
            "--listen",
            f"127.0.0.1:{self.port}",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"hub exited with {self.process.poll()}")
            if "UI and API on" in line:
                return
        raise RuntimeError("hub did not start")

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(urllib.request.Request(self.url(path), headers=self.headers), timeout=30) as reply:
            return json.loads(reply.read())

    def wait_online(self, count: int, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        summary = {}
        while time.monotonic() < deadline:
            summary = self.get("/api/streams")["summary"]
            if summary["by_state"]["online"] >= count:
                return
            time.sleep(0.5)
        raise RuntimeError(f"only {summary} online after {timeout} s")

    def wait_for(self, stream_id: str, state: str, reason: str, timeout: float = 120.0) -> None:
        """Poll until the stream is in `state` with `reason` among its reasons."""
        deadline = time.monotonic() + timeout
        record = {}
        while time.monotonic() < deadline:
            record = self.get(f"/api/streams/{stream_id}")
            if record["state"] == state and reason in record["reasons"]:
                return
            time.sleep(0.5)
        raise RuntimeError(f"{stream_id} not {state}/{reason} after {timeout} s: {record.get('state')} {record.get('reasons')}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def sim_section(sim) -> str:
    return f'[sim]\nlisten = "{sim.rtsp}"\ncontrol = "{sim.control}"\n'


@contextlib.contextmanager
def sim_and_hub(sim_config: str, hub_config: Callable[[object], str], online: int):
    """A simulator (its own process) and a hub (another) on it; yields (sim, hub) once `online` streams are up."""
    from hub.sim.process import start_sim

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "sim.toml").write_text(sim_config)
        sim = start_sim(folder / "sim.toml")
        hub = None
        try:
            (folder / "hub.toml").write_text(hub_config(sim))
            hub = HubProcess(folder / "hub.toml")
            hub.wait_online(online)
            yield sim, hub
        finally:
            if hub is not None:
                hub.stop()
            sim.stop()
