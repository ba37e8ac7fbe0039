"""The simulator's sessions per feed (`GET /sessions` on its control port), sampled every 100 ms: the
proof that no camera is pulled twice. Used by the cluster tests and `bench/cluster.py`.

Who runs where: one daemon thread per watch samples; the test or benchmark reads `latest`, `worst` and
`double_s` from its own thread (plain values, replaced whole).
"""

from __future__ import annotations

import json
import threading
import urllib.request


class SessionWatch:
    """`latest`: each camera's sessions now; `worst`: the most each ever had; `double_s`: feed-seconds
    with two sessions or more (each sample counts 0.1 s per such feed)."""

    def __init__(self, control: str, cameras: list[str]):
        self.url, self.cameras = f"http://{control}/sessions", cameras
        self.latest: dict[str, int] = {}
        self.worst: dict[str, int] = {}
        self.double_s = 0.0
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
            self.latest = {c: sessions.get(c, 0) for c in self.cameras}
            self.worst = {c: max(self.worst.get(c, 0), n) for c, n in self.latest.items()}
            self.double_s += 0.1 * sum(1 for n in self.latest.values() if n > 1)

    def each_pulled_once(self) -> bool:
        return len(self.latest) == len(self.cameras) and all(count == 1 for count in self.latest.values())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
