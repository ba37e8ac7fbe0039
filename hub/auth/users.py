"""The account store: users, their roles and their rights, in a SQLite database next to the config.

Who runs where: the command line (`hub user ...`) and, later, the hub's login on the event loop (its
calls are short: one indexed row). No password is ever stored, only its Argon2id hash
(`hub.auth.passwords`). Every change is one transaction: a crash leaves the old state or the new one.

Roles: `admin` (everything: users, config), `operator` (watch, walls, layouts, acknowledging faults),
`viewer` (watch only). Rights are granted per `category`, `site`, `tag` or `stream`.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from hub.auth.sqlite_file import SqliteFile

ROLES = ("admin", "operator", "viewer", "reporter")
GRANT_KINDS = ("category", "site", "tag", "stream")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    password_changed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS grants (
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user, kind, value)
);
"""


class UserError(ValueError):
    """A request the store refuses; the message is one line for a person."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str
    created_at: float
    grants: tuple[tuple[str, str], ...]  # (kind, value)
    password_changed_at: float = 0.0


def users_db_for(config_path: Path) -> Path:
    """The account database of a config: `streams.toml` keeps its users in `streams.users.sqlite`."""
    return config_path.with_name(config_path.stem + ".users.sqlite")


class UserStore(SqliteFile):
    def __init__(self, path: Path):
        super().__init__(path, SCHEMA)

    def data_version(self) -> int:
        """Changes whenever another connection (`hub user ...` in a terminal) committed a change."""
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    def add(self, name: str, role: str, password_hash: str) -> None:
        _check_name(name)
        _check_role(role)
        now = time.time()
        try:
            self._db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)", (name, role, password_hash, now, now))
        except sqlite3.IntegrityError:
            raise UserError(f"user {name!r} exists already") from None

    def set_password(self, name: str, password_hash: str) -> None:
        self._require(name)
        self._db.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ?", (password_hash, time.time(), name)
        )

    def set_role(self, name: str, role: str) -> None:
        _check_role(role)
        self._require(name)
        self._refuse_last_admin(name, role)
        self._db.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))

    def delete(self, name: str) -> None:
        self._require(name)
        self._refuse_last_admin(name, None)
        self._db.execute("DELETE FROM users WHERE name = ?", (name,))

    def grant(self, name: str, kind: str, value: str) -> None:
        self._require(name)
        _check_grant(kind, value)
        self._db.execute("INSERT OR IGNORE INTO grants VALUES (?, ?, ?)", (name, kind, value))

    def revoke(self, name: str, kind: str, value: str) -> bool:
        """True when the right was there."""
        self._require(name)
        _check_grant(kind, value)
        return self._db.execute("DELETE FROM grants WHERE user = ? AND kind = ? AND value = ?", (name, kind, value)).rowcount > 0

    def get(self, name: str) -> User | None:
        row = self._db.execute(
            "SELECT name, role, password_hash, created_at, password_changed_at FROM users WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        grants = self._db.execute("SELECT kind, value FROM grants WHERE user = ? ORDER BY kind, value", (name,)).fetchall()
        return User(row[0], row[1], row[2], row[3], tuple((k, v) for k, v in grants), row[4])

    def users(self) -> list[User]:
        names = [r[0] for r in self._db.execute("SELECT name FROM users ORDER BY name")]
        return [u for u in map(self.get, names) if u is not None]

    def _require(self, name: str) -> None:
        if self._db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
            raise UserError(f"no user {name!r}")

    def _refuse_last_admin(self, name: str, new_role: str | None) -> None:
        """Never leave the hub without an admin: nobody could manage users any more."""
        user = self.get(name)
        if user is None or user.role != "admin" or new_role == "admin":
            return
        admins = self._db.execute("SELECT COUNT(*) FROM users WHERE role = 'admin'").fetchone()[0]
        if admins <= 1:
            raise UserError(f"{name!r} is the last admin: make another admin first")


def _check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise UserError(
            f"bad user name {name!r}: 1-64 characters, lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")


def _check_grant(kind: str, value: str) -> None:
    if kind not in GRANT_KINDS:
        raise UserError(f"unknown right {kind!r}: expected one of {', '.join(GRANT_KINDS)}")
    if not value or len(value) > 200:
        raise UserError(f"a {kind} right needs a value (at most 200 characters)")
