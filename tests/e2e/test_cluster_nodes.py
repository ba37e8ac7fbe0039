"""Three `hub serve` nodes, one real `redis-server` and one simulator on loopback: every camera is
pulled by exactly one node, and when a node is killed (-9) a survivor pulls its cameras again, at no
moment two sessions on one feed. Proof comes from the simulator's own session counts (`GET /sessions`
on its control port), sampled every 100 ms by a thread for the whole test. Waits are on conditions
with generous deadlines (the 15 s failover target is measured by the cluster benchmark, not here).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request

import pytest
from support.estates import sim_for, sim_stream
from support.processes import Command, free_port
from support.redis_server import RedisServer

pytestmark = pytest.mark.redis
CAMERAS = [f"cam-{i:02d}" for i in range(9)]
ESTATE = "".join(sim_stream(c, "sim://street?size=320x180&fps=10&codec=h264") for c in CAMERAS)
SECRET = "cluster-secret-for-tests-0001"
serving = sim_for(ESTATE)


class SessionWatch:
    """Samples the simulator's sessions per feed every 100 ms in a thread; keeps the worst seen."""

    def __init__(self, control: str):
        self.url = f"http://{control}/sessions"
        self.latest: dict[str, int] = {}
        self.worst: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="session-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            try:
                with urllib.request.urlopen(self.url, timeout=2) as reply:
                    sessions = json.load(reply)["sessions"]
            except OSError:
                continue
            self.latest = {c: sessions.get(c, 0) for c in CAMERAS}
            for camera, count in self.latest.items():
                self.worst[camera] = max(self.worst.get(camera, 0), count)

    def each_pulled_once(self) -> bool:
        return len(self.latest) == len(CAMERAS) and all(count == 1 for count in self.latest.values())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def wait(condition, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)
    return time.monotonic() - start


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()


def start_node(folder, name: str, redis_url: str, serving) -> Command:
    """A node in a folder of its own (its users and audit trail sit beside its config), same estate."""
    folder.mkdir()
    config = folder / "hub.toml"
    config.write_text(
        f'[sim]\nlisten = "{serving.rtsp}"\ncontrol = "{serving.control}"\n'
        '[monitor]\nmodes = { public-security = "live" }\n'
        f'[cluster]\nredis = "{redis_url}"\nnode = "{name}"\n' + ESTATE
    )
    env = {"HUB_CLUSTER_SECRET": SECRET}
    return Command("serve", "--config", str(config), "--listen", f"127.0.0.1:{free_port()}", env=env, cwd=folder)


def test_three_nodes_pull_each_camera_once_and_a_killed_nodes_cameras_come_back_on_the_survivors(tmp_path, redis_server, serving):
    watch = SessionWatch(serving.control)
    nodes = [start_node(tmp_path / n, n, redis_server.url, serving) for n in ("n1", "n2", "n3")]
    try:
        for node in nodes:
            node.wait_for_line("cluster: joined as", timeout=60)

        def spread() -> dict[str, int] | None:  # the first node up takes every camera; the others get theirs gradually
            pulling = {n: _pulling(node) for n, node in zip(("n1", "n2", "n3"), nodes, strict=True)}
            settled = sum(pulling.values()) == len(CAMERAS) and all(pulling.values()) and watch.each_pulled_once()
            return pulling if settled else None

        wait(spread, 120, "the cameras spread over the three nodes, each pulled once")
        pulling = spread()
        victim = max(pulling, key=pulling.get)
        os.killpg(nodes[["n1", "n2", "n3"].index(victim)].process.pid, signal.SIGKILL)
        lost = {c for c, n in watch.latest.items() if n == 1}
        assert lost
        wait(lambda: sum(watch.latest.values()) < len(CAMERAS), 30, "the killed node's sessions to end")
        took = wait(watch.each_pulled_once, 60, "the killed node's cameras pulled again by the survivors")
        print(f"failover: all cameras pulled again {took:.1f} s after the kill's sessions ended")
        assert all(count <= 1 for count in watch.worst.values()), f"a feed had two sessions at once: {watch.worst}"
    finally:
        watch.stop()
        for node in nodes:
            if node.process.poll() is None:
                node.ctrl_c()
                node.finish(60)


def _pulling(node: Command) -> int:
    """The node's last 'now pulling N cameras' line."""
    lines = [line for line in node.lines if "cluster: now pulling" in line]
    return int(lines[-1].split("now pulling ")[1].split()[0]) if lines else 0
