"""Hub commands as real subprocesses, for the end-to-end tests that run `hub serve`, `hub demo` and friends.

Who runs where: each command is a child process in its own process group (so Ctrl-C goes to the whole
group, as a terminal sends it); threads collect its output lines as they come. Waits are on output
lines and process exits, with generous deadlines.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

DEAD = '[[streams]]\nid = "dead-cam"\nname = "Dead"\ncategory = "property"\nposition = [31.77, 117.30]\nurl = "rtsp://u:topsecret@127.0.0.1:9/x"\n'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command:
    """A `hub` subprocess in its own process group; its output lines are collected as they come."""

    def __init__(self, *args: str, env: dict | None = None, program: list[str] | None = None, cwd: Path | None = None):
        self.process = subprocess.Popen(
            [*(program or [sys.executable, "-m", "hub"]), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        self.lines: list[str] = []
        self._new: queue.Queue = queue.Queue()
        for stream in (self.process.stdout, self.process.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip())
            self._new.put(line)
        self._new.put(None)

    def wait_for_line(self, text: str, timeout: float = 120.0) -> None:
        closed = 0
        while not any(text in line for line in self.lines):
            try:
                if self._new.get(timeout=timeout) is None:
                    closed += 1
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} in {timeout} s:\n" + "\n".join(self.lines)) from None
            if closed == 2 and not any(text in line for line in self.lines):
                raise AssertionError(f"exited without a line with {text!r}:\n" + "\n".join(self.lines))

    def ctrl_c(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self, timeout: float = 60.0) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def demo_sign_in(port: int, password: str) -> int:
    origin = f"http://127.0.0.1:{port}"
    request = urllib.request.Request(
        f"{origin}/api/login",
        data=json.dumps({"user": "demo", "password": password}).encode(),
        headers={"Origin": origin, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def start_hub(config, scheme: str = "http") -> tuple[subprocess.Popen, str, list[str]]:
    """`hub serve` on a free port; returns the process, its URL and the lines it printed up to then."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=config.parent,
    )
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(rf"UI and API on ({scheme}://\S+)/", line)
        if found:
            return process, found.group(1), lines
    process.kill()
    raise AssertionError("hub did not start: " + "".join(lines))
