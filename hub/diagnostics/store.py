"""Where picture diagnostics keep what must outlive a restart: references, mutes and baselines.

Who runs where: opened on the event loop at start (`load`); every write runs in a worker thread
(`asyncio.to_thread`, one at a time under the caller's lock), given plain data copied on the loop. The file
sits next to the config (`streams.toml` -> `streams.diagnostics.sqlite`), opened like the other stores
(`hub.auth.sqlite_file`: WAL, owner-only), so a committed mute or reference survives a killed hub.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hub.auth.sqlite_file import SqliteFile
from hub.diagnostics.checks import Baseline
from hub.diagnostics.diagnosis import Mute, Reference
from hub.diagnostics.moved import Features, View

SCHEMA = """
CREATE TABLE IF NOT EXISTS refs (
    stream TEXT NOT NULL, position INTEGER NOT NULL, night INTEGER NOT NULL, at REAL NOT NULL, by TEXT NOT NULL,
    thumb BLOB NOT NULL, height INTEGER NOT NULL, dhash TEXT NOT NULL,
    points BLOB, descriptors BLOB, width INTEGER, PRIMARY KEY (stream, position));
CREATE TABLE IF NOT EXISTS mutes (
    stream TEXT NOT NULL, check_name TEXT NOT NULL, until REAL NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL,
    at REAL NOT NULL, PRIMARY KEY (stream, check_name));
CREATE TABLE IF NOT EXISTS baselines (stream TEXT PRIMARY KEY, data TEXT NOT NULL);
"""


def diagnostics_db_for(config_path: Path) -> Path:
    return config_path.with_name(config_path.stem + ".diagnostics.sqlite")


@dataclass
class Saved:
    """One stream's kept state."""

    references: list[Reference] = field(default_factory=list)
    mutes: dict[str, Mute] = field(default_factory=dict)
    baseline: Baseline | None = None


@dataclass(frozen=True)
class Change:
    """What to write for one stream (copied on the loop; None: leave that part as it is)."""

    stream: str
    references: tuple[Reference, ...] | None = None
    mutes: tuple[Mute, ...] | None = None
    baseline: dict | None = None


class DiagnosticsStore(SqliteFile):
    def __init__(self, path: Path):
        super().__init__(path, SCHEMA, any_thread=True)

    def load(self) -> dict[str, Saved]:
        saved: dict[str, Saved] = {}
        for row in self._db.execute(
            "SELECT stream, night, at, by, thumb, height, dhash, points, descriptors, width FROM refs ORDER BY stream, position"
        ):
            saved.setdefault(row[0], Saved()).references.append(_reference(row[1:]))
        for stream, check, until, reason, by, at in self._db.execute(
            "SELECT stream, check_name, until, reason, by, at FROM mutes"
        ):
            saved.setdefault(stream, Saved()).mutes[check] = Mute(check, until, reason, by, at)
        for stream, data in self._db.execute("SELECT stream, data FROM baselines"):
            try:
                saved.setdefault(stream, Saved()).baseline = Baseline.from_json(json.loads(data))
            except (ValueError, KeyError, TypeError, IndexError):
                pass  # an unreadable baseline is learnt again
        return saved

    def write(self, changes: list[Change]) -> None:
        """One transaction for all the changes (a worker thread)."""
        with self._db:
            self._db.execute("BEGIN")
            for change in changes:
                self._write_one(change)

    def _write_one(self, change: Change) -> None:
        sid = change.stream
        if change.references is not None:
            self._db.execute("DELETE FROM refs WHERE stream = ?", (sid,))
            self._db.executemany(
                "INSERT INTO refs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(sid, i, *_reference_row(r)) for i, r in enumerate(change.references)],
            )
        if change.mutes is not None:
            self._db.execute("DELETE FROM mutes WHERE stream = ?", (sid,))
            self._db.executemany(
                "INSERT INTO mutes VALUES (?,?,?,?,?,?)", [(sid, m.check, m.until, m.reason, m.by, m.at) for m in change.mutes]
            )
        if change.baseline is not None:
            self._db.execute("INSERT OR REPLACE INTO baselines VALUES (?, ?)", (sid, json.dumps(change.baseline)))

    def forget(self, streams: list[str]) -> None:
        """Streams removed from the config lose their kept state (a worker thread)."""
        with self._db:
            self._db.execute("BEGIN")
            for table in ("refs", "mutes", "baselines"):
                self._db.executemany(f"DELETE FROM {table} WHERE stream = ?", [(s,) for s in streams])


def _reference_row(reference: Reference) -> tuple:
    view, features = reference.view, reference.view.features
    return (
        int(reference.night),
        reference.at,
        reference.by,
        view.thumb.tobytes(),
        view.thumb.shape[0],
        str(view.dhash),
        None if features is None else features.points.tobytes(),
        None if features is None else features.descriptors.tobytes(),
        None if features is None else features.width,
    )


def _reference(row: tuple) -> Reference:
    night, at, by, thumb, height, dhash, points, descriptors, width = row
    image = np.frombuffer(thumb, np.uint8).reshape(height, -1).copy()
    features = None
    if points is not None:
        features = Features(
            np.frombuffer(points, np.float32).reshape(-1, 2).copy(),
            np.frombuffer(descriptors, np.uint8).reshape(-1, 32).copy(),
            width,
        )
    return Reference(View(image, int(dhash), features), bool(night), at, by)
