"""The account database as the rows a cluster shares: each user and each token one field and a plain dict.

Who runs where: the cluster's account sync (`hub.cluster.accounts`) on the event loop, with a
connection of its own to the account database (`streams.users.sqlite`): its reads are a few hundred
short rows, and only when the database changed (`PRAGMA data_version` counts the commits of every
other connection: the hub's own API and `hub user ...` in a terminal). What it writes, the hub's
stores see as a change from elsewhere, and `hub.auth.service` reads the accounts again.

Fields: `u:<name>` (role, password hash, times, grants) and `t:<id>` (a token: name, role, grants, the
SHA-256 of its secret, times, revocation). The table `synced` keeps, per field, the digest of the row
last agreed with the cluster, so that a change made here while the node was away from Redis (or
stopped, with `hub user ...`) is told apart from a row the cluster changed meanwhile.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hub.auth.sqlite_file import SqliteFile
from hub.auth.tokens import SCHEMA as TOKENS_SCHEMA
from hub.auth.users import SCHEMA as USERS_SCHEMA

SYNCED_SCHEMA = "CREATE TABLE IF NOT EXISTS synced (field TEXT PRIMARY KEY, digest TEXT NOT NULL);"
USER, TOKEN = "u:", "t:"
TOKEN_COLUMNS = ("name", "role", "grants", "secret_sha256", "created_at", "created_by", "revoked_at")


def digest(row: dict | None) -> str:
    """A row's fingerprint (None: no row, as after a delete)."""
    return hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()[:32]


class AccountRows(SqliteFile):
    def __init__(self, path: Path):
        super().__init__(path, USERS_SCHEMA + TOKENS_SCHEMA + SYNCED_SCHEMA)

    def version(self) -> int:
        """Changes whenever another connection committed a change (not this one's own writes)."""
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def rows(self) -> dict[str, dict]:
        """Every user and token, as the fields the cluster shares."""
        grants: dict[str, list] = {}
        for user, kind, value in self._db.execute("SELECT user, kind, value FROM grants ORDER BY user, kind, value"):
            grants.setdefault(user, []).append([kind, value])
        found: dict[str, dict] = {}
        for name, role, password_hash, created_at, changed_at in self._db.execute(
            "SELECT name, role, password_hash, created_at, password_changed_at FROM users"
        ):
            found[USER + name] = {"role": role, "password_hash": password_hash, "created_at": created_at,
                                  "password_changed_at": changed_at, "grants": grants.get(name, [])}  # fmt: skip
        for token_id, *values in self._db.execute("SELECT id, " + ", ".join(TOKEN_COLUMNS) + " FROM tokens"):
            found[TOKEN + token_id] = dict(zip(TOKEN_COLUMNS, values, strict=True))
        return found

    def apply(self, field: str, row: dict | None) -> None:
        """Make `field` what the cluster says (None: gone), and note it as agreed, in one transaction."""
        kind, key = field[:2], field[2:]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if kind == USER:
                self._db.execute("DELETE FROM users WHERE name = ?", (key,))  # its grants go with it
                if row is not None:
                    self._db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)", (key, row["role"], row["password_hash"],
                                     row["created_at"], row["password_changed_at"]))  # fmt: skip
                    self._db.executemany("INSERT OR IGNORE INTO grants VALUES (?, ?, ?)", [(key, k, v) for k, v in row["grants"]])
            elif kind == TOKEN:
                self._db.execute("DELETE FROM tokens WHERE id = ?", (key,))
                if row is not None:
                    self._db.execute("INSERT INTO tokens VALUES (?, " + ", ".join("?" * len(TOKEN_COLUMNS)) + ")",
                                     (key, *(row[c] for c in TOKEN_COLUMNS)))  # fmt: skip
            else:
                raise ValueError(f"not an account field: {field!r}")
            self._mark(field, row)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def synced(self) -> dict[str, str]:
        """Field -> the digest of the row last agreed with the cluster."""
        return dict(self._db.execute("SELECT field, digest FROM synced"))

    def mark(self, field: str, row: dict | None) -> None:
        """Note `row` as agreed with the cluster for `field` (this node's own change, now shared)."""
        self._mark(field, row)

    def _mark(self, field: str, row: dict | None) -> None:
        self._db.execute("INSERT OR REPLACE INTO synced VALUES (?, ?)", (field, digest(row)))
