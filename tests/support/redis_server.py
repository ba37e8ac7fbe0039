"""Debian's `redis-server` on a free loopback port, for the cluster's tests (apt install redis-server).

Who runs where: the server is a child process of the test; `start` waits until it answers PING (a
deadline, not a sleep), `kill` and `restart` are what the failover tests do to it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from support.processes import free_port


class RedisServer:
    """One throwaway Redis: no persistence (a restart loses everything, the harshest case)."""

    def __init__(self, folder: Path, port: int | None = None):
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed: apt install redis-server (scripts/test.sh does)")
        self.folder, self.port = folder, port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, deadline_s: float = 20.0) -> RedisServer:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([*args, "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        end = time.monotonic() + deadline_s
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()
