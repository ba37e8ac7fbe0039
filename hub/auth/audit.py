"""The audit trail: an append-only, hash-chained SQLite table of who did what, to which stream, from where.

Who runs where: the hub appends on the event loop (one short insert per entry, in WAL mode:
a committed entry is in the operating system's hands at once, so it survives `kill -9`);
`hub audit verify|export` and `GET /api/audit` read. Each row carries the SHA-256 of the row
before it, and its own hash covers that and all its fields, so an edited, inserted or deleted
row breaks the chain at that point. Triggers refuse UPDATE, and DELETE except of rows the
retention has already cut off; the `anchor` table records where the kept chain starts after
such a cut. Deleting the newest rows leaves a chain that is whole but shorter: `verify` prints
the head (`SEQ:HASH`), and `verify --head SEQ:HASH` checks it against one noted earlier.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hub.auth.sqlite_file import SqliteFile
from hub.safe.numbers import ascii_float

GENESIS = "0" * 64
SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    stream TEXT NOT NULL,
    address TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE TABLE IF NOT EXISTS anchor (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
INSERT OR IGNORE INTO anchor (one, seq, hash) VALUES (1, 0, '"""
    + GENESIS
    + """');
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit WHEN OLD.seq > (SELECT seq FROM anchor)
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS anchor_forward BEFORE UPDATE ON anchor WHEN NEW.seq < OLD.seq
BEGIN SELECT RAISE(ABORT, 'the audit anchor only moves forward'); END;
"""
)
FIELDS = ("seq", "at", "who", "action", "stream", "address", "detail")
CUT_FIELDS = ("at", "who", "action", "stream", "address", "detail", "prev", "cut_at")  # the anchor's copy of the last row cut
MAX_QUERY = 5000
PRUNED = "audit_pruned"
CLOCK_SLACK_S = 300.0  # an entry dated further ahead of this machine's clock is not believed


@dataclass(frozen=True)
class Entry:
    seq: int
    at: float
    who: str
    action: str
    stream: str
    address: str
    detail: dict
    hash: str = ""
    node: str = ""  # on a cluster: the node whose trail holds it

    def to_json(self) -> dict:
        shown = {
            "seq": self.seq,
            "at": round(self.at, 3),
            "who": self.who,
            "action": self.action,
            "stream": self.stream or None,
            "address": self.address,
            "detail": self.detail,
        }
        return {**shown, "node": self.node} if self.node else shown


def entry_of(row: tuple) -> Entry:
    """An entry from a row of `FIELDS`, then its hash, then (a copy of another node's) its node."""
    seq, at, who, action, stream, address, detail, digest, *node = row
    return Entry(seq, at, who, action, stream, address, json.loads(detail), digest, node[0] if node else "")


def where_clause(
    since: float | None, until: float | None, who: str | None, action: str | None, stream: str | None
) -> tuple[str, list]:
    """The SQL condition (" WHERE ...", or "") and its arguments of the trail's filters."""
    where, args = [], []
    filters = (("at >= ?", since), ("at < ?", until), ("who = ?", who), ("action = ?", action), ("stream = ?", stream))
    for clause, value in filters:
        if value is not None:
            where.append(clause)
            args.append(value)
    return (" WHERE " + " AND ".join(where) if where else ""), args


def parse_when(text: str) -> float:
    """Seconds since the epoch, or an ISO 8601 time or date (without a zone: UTC); ValueError says what is wrong."""
    value = ascii_float(text)
    if value is None:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{text!r} is not a time: use seconds since the epoch or ISO 8601 like 2026-11-26T08:00:00Z"
            ) from None
        value = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a time")
    return value


def audit_db_for(config_path: Path) -> Path:
    """`streams.toml` keeps its audit trail in `streams.audit.sqlite`."""
    return config_path.with_name(config_path.stem + ".audit.sqlite")


def row_hash(prev: str, seq: int, at: float, who: str, action: str, stream: str, address: str, detail: str) -> str:
    material = json.dumps([prev, seq, repr(at), who, action, stream, address, detail], ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


class AuditTrail(SqliteFile):
    def __init__(self, path: Path):
        super().__init__(path, SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(anchor)")}
        for column in CUT_FIELDS:  # a trail begun by an older hub
            if column not in have:
                self._db.execute(f"ALTER TABLE anchor ADD COLUMN {column}")

    def append(self, who: str, action: str, stream: str = "", address: str = "", **detail) -> int:
        """Record one entry; returns its sequence number."""
        self._db.execute("BEGIN IMMEDIATE")  # another process (the CLI) may append too: one writer at a time
        try:
            seq = self._insert(who, action, stream, address, detail)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return seq

    def _insert(self, who: str, action: str, stream: str, address: str, detail: dict) -> int:
        """Chain one entry to the last (inside the caller's transaction)."""
        detail_text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        at = time.time()
        last = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        before, prev = last if last else self._anchor()  # an empty table continues from the retention's cut
        seq = before + 1
        digest = row_hash(prev, seq, at, who, action, stream, address, detail_text)
        self._db.execute(
            "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, at, who, action, stream, address, detail_text, prev, digest),
        )
        return seq

    def _anchor(self) -> tuple[int, str]:
        """(seq, hash) of the last row cut by the retention, (0, GENESIS) before any cut."""
        return tuple(self._db.execute("SELECT seq, hash FROM anchor").fetchone())

    def prune(self, older_than_s: float) -> int:
        """Drop entries older than the retention: the anchor keeps the last one dropped, whole, and an
        `audit_pruned` entry records the cut in the chain."""
        now = time.time()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            last = self._db.execute(
                "SELECT seq, hash, at, who, action, stream, address, detail, prev FROM audit WHERE at < ? "
                "ORDER BY seq DESC LIMIT 1",
                (now - older_than_s,),
            ).fetchone()
            if last is None:
                self._db.execute("COMMIT")
                return 0
            self._db.execute("UPDATE anchor SET seq = ?, hash = ?, " + ", ".join(f"{c} = ?" for c in CUT_FIELDS), (*last, now))
            dropped = self._db.execute("DELETE FROM audit WHERE seq <= ?", (last[0],)).rowcount
            self._insert(
                "-",
                PRUNED,
                "",
                "",
                {"through_seq": last[0], "through_hash": last[1], "dropped": dropped, "retention_s": older_than_s},
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return dropped

    def verify(self, retention_s: float) -> tuple[bool, str, tuple[int, str]]:
        """(whole?, a readable finding, the head (seq, hash)) after walking the chain from its anchor; a
        retention cut is accepted only if it proves itself (see the module's docstring)."""
        seq, prev = self._anchor()
        count, cut_ok, latest = 0, seq == 0, time.time() + CLOCK_SLACK_S
        cut = self._cut()
        if seq and cut is None:
            return False, f"the chain starts after entry {seq}, but nothing proves the retention cut it there", (seq, prev)
        for row in self._db.execute("SELECT seq, at, who, action, stream, address, detail, prev, hash FROM audit ORDER BY seq"):
            if row[0] != seq + 1:
                return False, f"entry {seq + 1} is missing (the next entry is {row[0]})", (seq, prev)
            if row[7] != prev:
                return (
                    False,
                    f"entry {row[0]} does not follow entry {seq}: an entry before it was changed or replaced",
                    (seq, prev),
                )
            if row_hash(prev, *row[:7]) != row[8]:
                return False, f"entry {row[0]} was changed after it was written", (seq, prev)
            if row[1] > latest:
                return False, f"entry {row[0]} is dated in the future ({_utc(row[1])})", (seq, prev)
            cut_ok = cut_ok or (row[3] == PRUNED and _proves(json.loads(row[6]), row[1], self._anchor(), cut, retention_s))
            seq, prev = row[0], row[8]
            count += 1
        if not cut_ok:
            assert cut is not None  # a cut proves itself or is reported; with no cut, cut_ok started true
            return (
                False,
                (
                    f"entries up to {self._anchor()[0]} were removed, but not by the retention "
                    f"({retention_s / 86400:g} days): the last of them is dated {_utc(cut[0])}"
                ),
                (seq, prev),
            )
        return True, _whole(count, self._anchor()[0], cut), (seq, prev)

    def _cut(self) -> tuple | None:
        """The anchor's copy of the last row cut: (at, who, action, stream, address, detail, prev, cut_at), or None."""
        row = self._db.execute("SELECT " + ", ".join(CUT_FIELDS) + " FROM anchor").fetchone()
        return None if row is None or row[0] is None else tuple(row)

    def has_entry(self, seq: int, digest: str) -> bool:
        """True if entry `seq` is there with this hash (or was cut off by the retention with it as its anchor)."""
        if self._anchor() == (seq, digest):
            return True
        return self._db.execute("SELECT 1 FROM audit WHERE seq = ? AND hash = ?", (seq, digest)).fetchone() is not None

    def head_seq(self) -> int:
        """The newest entry's sequence number (the retention's anchor when none is left, 0 when new)."""
        row = self._db.execute("SELECT MAX(seq) FROM audit").fetchone()
        return row[0] if row[0] is not None else self._anchor()[0]

    def rows_after(self, seq: int, limit: int) -> list[tuple]:
        """Up to `limit` whole rows after `seq`, oldest first: (seq, at, who, action, stream, address, detail,
        prev, hash), as a cluster node ships them (`hub.cluster.audit`)."""
        return self._db.execute(
            "SELECT seq, at, who, action, stream, address, detail, prev, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()

    def entries(
        self,
        since: float | None = None,
        until: float | None = None,
        who: str | None = None,
        action: str | None = None,
        stream: str | None = None,
        limit: int = MAX_QUERY,
    ) -> list[Entry]:
        """Newest first, filtered."""
        where, args = where_clause(since, until, who, action, stream)
        sql = "SELECT " + ", ".join(FIELDS) + ", hash FROM audit" + where
        rows = self._db.execute(sql + " ORDER BY seq DESC LIMIT ?", (*args, min(limit, MAX_QUERY)))
        return [entry_of(row) for row in rows]

    def export_csv(self, since: float | None = None) -> Iterator[str]:
        """CSV lines, oldest first, with a header; times in ISO 8601 UTC."""
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(["seq", "time_utc", "who", "action", "stream", "address", "detail", "hash"])
        rows = self._db.execute("SELECT " + ", ".join(FIELDS) + ", hash FROM audit WHERE at >= ? ORDER BY seq", (since or 0.0,))
        for row in rows:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(row[1])) + f".{int(row[1] % 1 * 1000):03d}Z"
            out.writerow([row[0], stamp, *row[2:]])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.getvalue():
            yield buffer.getvalue()


def _proves(detail: dict, pruned_at: float, anchor: tuple[int, str], cut: tuple | None, retention_s: float) -> bool:
    """Whether an `audit_pruned` entry written at `pruned_at` proves the anchor: it names the anchor, the
    anchor's copy of the last row cut hashes to the anchor's hash, and that row was older than the retention."""
    if cut is None or (detail.get("through_seq"), detail.get("through_hash")) != anchor:
        return False
    at, who, action, stream, address, detail_text, prev, _ = cut
    return row_hash(prev, anchor[0], at, who, action, stream, address, detail_text) == anchor[1] and at <= pruned_at - retention_s


def _utc(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def _whole(count: int, anchor_seq: int, cut: tuple | None) -> str:
    if not anchor_seq or cut is None:
        return f"{count} entries, chain whole"
    return (
        f"{count} entries, chain whole from entry {anchor_seq + 1}; entries up to {anchor_seq} (the last dated "
        f"{_utc(cut[0])}) were cut by the retention on {_utc(cut[7])}"
    )
