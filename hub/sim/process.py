"""Run `hub sim` as a child process and drive its control API: used by `hub demo`, tests, benchmarks, scripts.

Who runs where: the caller's thread starts the process; a daemon thread reads its output. The child is
told its parent's process id (`HUB_SIM_PARENT`), and `stop_with_parent`, a task of the child's loop,
ends it once that parent is gone, killed with -9 or by the OOM killer included: no simulator is left
holding the ports.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from hub.safe.numbers import ascii_int

PARENT_ENV = "HUB_SIM_PARENT"
PARENT_CHECK_S = 1.0
log = logging.getLogger("hub.sim")
_READY = re.compile(r"rtsp://(?P<rtsp>[\d.]+:\d+)/<id>, control on http://(?P<control>[\d.]+:\d+)/faults")


@dataclass
class SimProcess:
    """A running simulator: its RTSP and control addresses and its output so far."""

    process: subprocess.Popen
    rtsp: str = ""
    control: str = ""
    output: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait_ready(self, timeout: float = 300.0) -> None:
        """Block until the simulator prints its addresses (clips may be encoded first); RuntimeError if it exits."""
        if not self.ready.wait(timeout) or not self.rtsp:
            if self.process.poll() is None:
                self.process.kill()
            raise RuntimeError("simulator did not start:\n" + "\n".join(self.output))

    def last_words(self) -> str:
        """The simulator's last line of output: its reason, when it did not start."""
        last = next((line for line in reversed(self.output) if line.strip()), None)
        if last is not None:
            return last
        code = self.process.poll()
        return "no output" + ("" if code is None else f", exit status {code}")

    def url(self, stream_id: str, credentials: str = "") -> str:
        return f"rtsp://{credentials + '@' if credentials else ''}{self.rtsp}/{stream_id}"

    def control_call(self, method: str, path: str, body: object | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://{self.control}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def set_fault(self, stream_id: str, fault: str) -> None:
        status, body = self.control_call("POST", f"/faults/{stream_id}", {"fault": fault})
        assert status == 200, body

    def clear_fault(self, stream_id: str) -> None:
        status, body = self.control_call("DELETE", f"/faults/{stream_id}")
        assert status == 200, body

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def spawn_sim(
    config: Path, listen: object = "127.0.0.1:0", control: object = "127.0.0.1:0", own_session: bool = False
) -> SimProcess:
    """Start `hub sim` (on free ports by default) and return at once; `wait_ready` waits for its addresses.

    `own_session` keeps the terminal's Ctrl-C from reaching the simulator, so that its parent (`hub demo`)
    stops the hub first and only then the cameras it watches.
    """
    command = [sys.executable, "-m", "hub", "sim", "--config", str(config), "--listen", str(listen), "--control", str(control)]
    env = {**os.environ, PARENT_ENV: str(os.getpid())}  # it ends with this process, even one killed with -9
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=own_session, env=env
    )
    sim = SimProcess(process)

    def pump() -> None:
        assert process.stdout is not None  # stdout=PIPE
        for line in process.stdout:
            sim.output.append(line.rstrip())
            match = _READY.search(line)
            if match:
                sim.rtsp, sim.control = match["rtsp"], match["control"]
                sim.ready.set()
        sim.ready.set()

    threading.Thread(target=pump, name="sim-output", daemon=True).start()
    return sim


def start_sim(
    config: Path, listen: object = "127.0.0.1:0", control: object = "127.0.0.1:0", ready_timeout: float = 300.0
) -> SimProcess:
    """Start `hub sim` and return once it prints its addresses (clips may be encoded first)."""
    sim = spawn_sim(config, listen, control)
    sim.wait_ready(ready_timeout)
    return sim


async def stop_with_parent(stop: asyncio.Event) -> None:
    """In `hub sim`: set `stop` once the process that started it (`HUB_SIM_PARENT`) has gone away."""
    parent = ascii_int(os.environ.get(PARENT_ENV))
    if parent is None:
        return
    while not stop.is_set():
        if os.getppid() != parent:
            log.warning("simulator: the process that started it (%d) is gone: stopping", parent)
            stop.set()
            return
        await asyncio.sleep(PARENT_CHECK_S)
