"""The SQLite file each store opens (accounts, tokens, audit, diagnostics): WAL, its schema, owner-only.

Who runs where: whoever opens a store (the command line, or the hub's event loop at start). WAL mode
lets `hub user ...` in a terminal write while the hub reads, and makes every commit durable against
a killed process. Transactions are explicit (`isolation_level=None`). The database is created 0600
before SQLite opens it, so its `-wal` and `-shm` files, which take its mode, are never readable by others.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub.safe.files import owner_only


class SqliteFile:
    """Base of the stores: `self._db` is the open connection; usable as a context manager."""

    def __init__(self, path: Path, schema: str, any_thread: bool = False):
        """`any_thread`: the connection may be used from worker threads (one at a time, as the caller ensures)."""
        self.path = path
        owner_only(path)  # hashes are not passwords, nor is the trail public: nobody else needs to read them
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=not any_thread)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")  # in WAL mode: a commit survives a killed process
        self._db.executescript(schema)
        for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if side.exists():  # left readable by an older hub
                side.chmod(0o600)

    def close(self) -> None:
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
