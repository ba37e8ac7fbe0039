"""Where incidents are kept: one SQLite file next to the config (`streams.toml` -> `streams.incidents.sqlite`),
with every incident's full history, its photos and its evidence.

Who runs where: opened on the event loop at start; every call after that runs in a worker thread
(`asyncio.to_thread`), one at a time under the service's lock, so the loop never waits on the disk. WAL
mode, owner-only (`hub.auth.sqlite_file`): a committed report survives a killed hub. Lists are queries
with indexes on what the operators filter by (state, kind, severity, time), so 80,000 incidents of
history filter in milliseconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from hub.auth.sqlite_file import SqliteFile
from hub.incidents.model import OPEN_STATES, Incident, Step

SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, severity INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
    text TEXT NOT NULL, reporter TEXT NOT NULL, reported_at REAL NOT NULL, state TEXT NOT NULL, team TEXT NOT NULL,
    acknowledged_at REAL, escalated INTEGER NOT NULL, merged_into TEXT NOT NULL, client_id TEXT NOT NULL,
    photos TEXT NOT NULL, cameras TEXT NOT NULL DEFAULT '[]', site TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS incidents_client ON incidents(reporter, client_id) WHERE client_id != '';
CREATE INDEX IF NOT EXISTS incidents_state ON incidents(state, severity, reported_at);
CREATE INDEX IF NOT EXISTS incidents_kind ON incidents(kind, reported_at);
CREATE INDEX IF NOT EXISTS incidents_time ON incidents(reported_at);
CREATE INDEX IF NOT EXISTS incidents_reporter ON incidents(reporter, reported_at);
CREATE TABLE IF NOT EXISTS steps (
    incident TEXT NOT NULL REFERENCES incidents(id), seq INTEGER NOT NULL, at REAL NOT NULL, by TEXT NOT NULL,
    action TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (incident, seq));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    incident TEXT NOT NULL REFERENCES incidents(id), name TEXT NOT NULL, kind TEXT NOT NULL, media TEXT NOT NULL,
    at REAL NOT NULL, sha256 TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (incident, name));
"""
COLUMNS = (
    "id, kind, severity, lat, lon, text, reporter, reported_at, state, team, acknowledged_at, escalated, "
    "merged_into, client_id, photos, cameras, site"
)
MAX_LIST = 1000


def incidents_db_for(config_path: Path) -> Path:
    return config_path.with_name(config_path.stem + ".incidents.sqlite")


@dataclass(frozen=True)
class Query:
    """What an operator filters the list by; every part optional."""

    states: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    min_severity: int = 1
    since: float | None = None  # reported at or after (wall time)
    until: float | None = None
    reporter: str = ""  # a reporter sees their own reports only
    open_only: bool = False
    limit: int = 200
    bbox: tuple[float, float, float, float] | None = None  # south, west, north, east


@dataclass(frozen=True)
class StoredFile:
    name: str
    kind: str  # photo | snapshot | clip | export
    media: str  # image/jpeg, video/mp4, application/json
    at: float
    sha256: str
    body: bytes

    @classmethod
    def of(cls, name: str, kind: str, media: str, at: float, body: bytes) -> StoredFile:
        return cls(name, kind, media, at, hashlib.sha256(body).hexdigest(), body)


class IncidentStore(SqliteFile):
    def __init__(self, path: Path):
        super().__init__(path, SCHEMA, any_thread=True)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(incidents)")}
        if "shared" not in columns:  # a store of an older hub: everything in it is to be shared with a cluster
            self._db.execute("ALTER TABLE incidents ADD COLUMN shared INTEGER NOT NULL DEFAULT 0")
            self._db.execute("CREATE INDEX IF NOT EXISTS incidents_unshared ON incidents(shared) WHERE shared = 0")

    def add(self, incident: Incident, cameras: list[dict], files: list[StoredFile]) -> Incident | None:
        """Keep a new incident with its first step and its photos; None if this reporter already sent this
        report (the same `client_id`): the caller answers with the one kept."""
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.execute(
                    f"INSERT INTO incidents ({COLUMNS}, updated_at) VALUES ({', '.join('?' * 18)})",
                    (*_row(incident, cameras), incident.reported_at),
                )
                self._steps(incident.id, incident.history, 0)
                self._files(incident.id, files)
        except sqlite3.IntegrityError:
            return None
        return incident

    def by_client_id(self, reporter: str, client_id: str) -> Incident | None:
        row = self._db.execute(
            f"SELECT {COLUMNS} FROM incidents WHERE reporter = ? AND client_id = ?", (reporter, client_id)
        ).fetchone()
        return None if row is None else self._incident(row)

    def get(self, incident_id: str) -> Incident | None:
        row = self._db.execute(f"SELECT {COLUMNS} FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return None if row is None else self._incident(row)

    def cameras_at_report(self, incident_id: str) -> list[dict]:
        """The cameras that were online near the incident when it was reported."""
        row = self._db.execute("SELECT cameras FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return [] if row is None else json.loads(row[0])

    def update(self, incident: Incident, new_steps: list[Step], files: tuple[StoredFile, ...] = ()) -> None:
        """Write an incident's changed fields and append its new steps, in one transaction."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "UPDATE incidents SET severity = ?, state = ?, team = ?, acknowledged_at = ?, escalated = ?, "
                "merged_into = ?, updated_at = ?, shared = 0 WHERE id = ?",
                (incident.severity, incident.state, incident.team, incident.acknowledged_at, int(incident.escalated),
                 incident.merged_into, new_steps[-1].at if new_steps else incident.reported_at, incident.id),
            )  # fmt: skip
            seq = self._db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM steps WHERE incident = ?", (incident.id,))
            self._steps(incident.id, new_steps, seq.fetchone()[0])
            self._files(incident.id, list(files))

    def merge(self, incident: Incident, cameras: list[dict] | None, files: list[StoredFile], shared: bool) -> None:
        """Keep an incident as merged with another node's copy (`hub.incidents.model.replay`): its fields, its
        whole history (replacing the steps kept), the files not kept yet; `cameras`: those near it when
        reported (None: as kept); `shared`: whether the cluster has all of it now. A phone that sent one
        report to two nodes (its queue retried through another) made two incidents: the second keeps no
        `client_id` here, and the duplicates offer shows them side by side."""
        try:
            self._merge(incident, cameras, files, shared)
        except sqlite3.IntegrityError:
            self._merge(dataclasses.replace(incident, client_id=""), cameras, files, shared)

    def _merge(self, incident: Incident, cameras: list[dict] | None, files: list[StoredFile], shared: bool) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                f"INSERT INTO incidents ({COLUMNS}, updated_at, shared) VALUES ({', '.join('?' * 19)}) "
                "ON CONFLICT(id) DO UPDATE SET severity = excluded.severity, state = excluded.state, "
                "team = excluded.team, acknowledged_at = excluded.acknowledged_at, escalated = excluded.escalated, "
                "merged_into = excluded.merged_into, updated_at = excluded.updated_at, shared = excluded.shared"
                + (", cameras = excluded.cameras" if cameras is not None else ""),
                (*_row(incident, cameras or []), max([incident.reported_at] + [s.at for s in incident.history]), int(shared)),
            )  # fmt: skip
            self._db.execute("DELETE FROM steps WHERE incident = ?", (incident.id,))
            self._steps(incident.id, incident.history, 0)
            self._db.executemany(
                "INSERT OR IGNORE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(incident.id, f.name, f.kind, f.media, f.at, f.sha256, f.body) for f in files],
            )

    def unshared(self, limit: int) -> list[tuple[str, float]]:
        """Incidents changed here that the cluster does not have yet: (id, the change's time)."""
        rows = self._db.execute("SELECT id, updated_at FROM incidents WHERE shared = 0 LIMIT ?", (limit,))
        return [(incident_id, at) for incident_id, at in rows]

    def mark_shared(self, incident_id: str, updated_at: float) -> None:
        """The cluster has the incident as it was at `updated_at` (a later change stays to be shared)."""
        self._db.execute("UPDATE incidents SET shared = 1 WHERE id = ? AND updated_at = ?", (incident_id, updated_at))

    def unshare_all(self) -> None:
        """Everything to be shared again (the cluster's Redis is empty: new, or restarted without its data)."""
        self._db.execute("UPDATE incidents SET shared = 0 WHERE shared = 1")

    def updated_at(self, incident_id: str) -> float | None:
        row = self._db.execute("SELECT updated_at FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return None if row is None else row[0]

    def setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_setting(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def search(self, query: Query) -> list[Incident]:
        """The operators' list: filtered, the most serious then the oldest first (open ones), or the newest
        first (history). Steps are not read: `get` gives one incident whole."""
        where, args = _where(query)
        # The queue: few rows, any order is cheap. History: newest first, walked along the time (or kind) index
        # and stopped at the limit; state and severity, true of most rows, must not pick an index that sorts.
        order = "severity DESC, reported_at ASC, id" if query.open_only else "reported_at DESC, rowid DESC"
        rare = query.states and "closed" not in query.states  # a few rows: found by state, then sorted
        use = "INDEXED BY incidents_state" if rare or query.open_only else ""
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM incidents {use} {where} ORDER BY {order} LIMIT ?", (*args, min(query.limit, MAX_LIST))
        )
        return [self._incident(row, with_steps=False) for row in rows]

    def heat(self, since: float, cell_deg: float) -> list[tuple[str, float, float, int]]:
        """Incidents reported since `since`, counted per site and per cell of `cell_deg` degrees (the map's heat
        layer): (site, the cell's centre lat, lon, count). Read along the time index."""
        rows = self._db.execute(
            "SELECT site, ROUND(lat / ?), ROUND(lon / ?), COUNT(*) FROM incidents WHERE reported_at >= ? GROUP BY 1, 2, 3",
            (cell_deg, cell_deg, since),
        )
        return [(site, round(y * cell_deg, 6), round(x * cell_deg, 6), count) for site, y, x, count in rows]

    def count_open(self) -> dict[tuple[str, int], int]:
        """Open incidents by kind and severity (for /metrics)."""
        marks = ", ".join("?" * len(OPEN_STATES))
        rows = self._db.execute(
            f"SELECT kind, severity, COUNT(*) FROM incidents WHERE state IN ({marks}) AND merged_into = '' "
            "GROUP BY kind, severity",
            tuple(OPEN_STATES),
        )
        return {(kind, severity): count for kind, severity, count in rows}

    def open_incidents(self) -> list[Incident]:
        """Every open incident, whole (the service keeps them in memory for escalation and duplicates)."""
        marks = ", ".join("?" * len(OPEN_STATES))
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM incidents WHERE state IN ({marks}) AND merged_into = ''", tuple(OPEN_STATES)
        )
        return [self._incident(row) for row in rows.fetchall()]

    def file(self, incident_id: str, name: str) -> StoredFile | None:
        row = self._db.execute(
            "SELECT name, kind, media, at, sha256, body FROM files WHERE incident = ? AND name = ?", (incident_id, name)
        ).fetchone()
        return None if row is None else StoredFile(*row)

    def files(self, incident_id: str, with_body: bool = False) -> list[StoredFile]:
        body = "body" if with_body else "x''"
        rows = self._db.execute(
            f"SELECT name, kind, media, at, sha256, {body} FROM files WHERE incident = ? ORDER BY at, name", (incident_id,)
        )
        return [StoredFile(*row) for row in rows]

    def ack_times(self) -> list[float]:
        """Seconds from report to acknowledgement of every acknowledged incident (the histogram at start)."""
        rows = self._db.execute("SELECT acknowledged_at - reported_at FROM incidents WHERE acknowledged_at IS NOT NULL")
        return [max(0.0, seconds) for (seconds,) in rows]

    def add_many(self, rows: list[tuple[Incident, list[dict]]]) -> None:
        """History in bulk (the generator): incidents with their steps, one transaction."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                f"INSERT INTO incidents ({COLUMNS}, updated_at) VALUES ({', '.join('?' * 18)})",
                [(*_row(incident, cameras), incident.reported_at) for incident, cameras in rows],
            )
            for incident, _ in rows:
                self._steps(incident.id, incident.history, 0)

    def _steps(self, incident_id: str, steps: list[Step], first: int) -> None:
        self._db.executemany(
            "INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?)",
            [(incident_id, first + i, s.at, s.by, s.action, json.dumps(s.detail)) for i, s in enumerate(steps)],
        )

    def _files(self, incident_id: str, files: list[StoredFile]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(incident_id, f.name, f.kind, f.media, f.at, f.sha256, f.body) for f in files],
        )

    def _incident(self, row: tuple, with_steps: bool = True) -> Incident:
        incident = Incident(
            id=row[0], kind=row[1], severity=row[2], lat=row[3], lon=row[4], text=row[5], reporter=row[6],
            reported_at=row[7], state=row[8], team=row[9], acknowledged_at=row[10], escalated=bool(row[11]),
            merged_into=row[12], client_id=row[13], photos=tuple(json.loads(row[14])), site=row[16],
        )  # fmt: skip
        if with_steps:
            incident.history = [
                Step(at, by, action, json.loads(detail))
                for at, by, action, detail in self._db.execute(
                    "SELECT at, by, action, detail FROM steps WHERE incident = ? ORDER BY seq", (incident.id,)
                )
            ]
        return incident


def _row(incident: Incident, cameras: list[dict]) -> tuple:
    i = incident
    return (i.id, i.kind, i.severity, i.lat, i.lon, i.text, i.reporter, i.reported_at, i.state, i.team, i.acknowledged_at,
            int(i.escalated), i.merged_into, i.client_id, json.dumps(list(i.photos)), json.dumps(cameras), i.site)  # fmt: skip


def _where(query: Query) -> tuple[str, list]:
    parts: list[str] = []
    args: list = []
    states = tuple(OPEN_STATES) if query.open_only and not query.states else query.states
    plus = "" if query.open_only else "+"  # history: no index on these (see `search`), but for the rare states
    if states:
        parts.append(f"{plus if 'closed' in states else ''}state IN ({', '.join('?' * len(states))})")
        args += list(states)
    if query.open_only:
        parts.append("merged_into = ''")
    if query.kinds:
        parts.append(f"kind IN ({', '.join('?' * len(query.kinds))})")
        args += list(query.kinds)
    if query.min_severity > 1:
        parts.append(f"{plus}severity >= ?")
        args.append(query.min_severity)
    if query.since is not None:
        parts.append("reported_at >= ?")
        args.append(query.since)
    if query.until is not None:
        parts.append("reported_at < ?")
        args.append(query.until)
    if query.reporter:
        parts.append("reporter = ?")
        args.append(query.reporter)
    if query.bbox is not None:
        parts.append("lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?")
        south, west, north, east = query.bbox
        args += [south, north, west, east]
    return ("WHERE " + " AND ".join(parts)) if parts else "", args
