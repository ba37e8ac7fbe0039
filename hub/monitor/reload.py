"""Hot reload: which running streams a new config keeps, restarts, stops and starts.

Pure; the monitor's `apply` asks, then does it. A stream keeps its connection when its reader would
read the same thing the same way (`reader_settings`) in the same mode; only its description (name,
site, tags, position) and health settings are taken over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.config import Config
from hub.ingest.sources import reader_settings
from hub.monitor.watched import Watched


@dataclass(frozen=True)
class ReloadResult:
    started: tuple[str, ...]
    stopped: tuple[str, ...]
    restarted: tuple[str, ...]
    unchanged: tuple[str, ...]

    def to_json(self) -> dict:
        return {k: list(getattr(self, k)) for k in ("started", "stopped", "restarted", "unchanged")}


def plan_reload(old: Config, new: Config, watched: Mapping[str, Watched]) -> ReloadResult:
    new_ids = {s.id for s in new.streams}
    started, restarted, unchanged = [], [], []
    for stream in new.streams:
        running = watched.get(stream.id)
        if running is None:
            started.append(stream.id)
        elif reader_settings(running.stream, old) != reader_settings(stream, new) or running.mode != new.mode_of(stream):
            restarted.append(stream.id)
        else:
            unchanged.append(stream.id)
    stopped = [sid for sid in watched if sid not in new_ids]
    return ReloadResult(tuple(started), tuple(stopped), tuple(restarted), tuple(unchanged))
