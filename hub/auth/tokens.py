"""API tokens for scripts and Prometheus: made by an admin, shown once, stored hashed, revocable.

Who runs where: `hub token ...` on the command line; the access middleware on the event loop
(`find`: one indexed row). A token reads `hub_<id>_<secret>`: the id finds the row, the
secret (256 random bits) is checked against its SHA-256 in constant time. A salted slow hash
(Argon2, as for passwords) guards guessable secrets; a 256-bit random one cannot be guessed,
and SHA-256 keeps every scripted request cheap. Each token has its own role and grants,
the same kinds a user has (`hub.auth.rights`), and never more than the role allows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from hub.auth.sqlite_file import SqliteFile
from hub.auth.users import GRANT_KINDS, NAME_RE, ROLES, UserError

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    grants TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at REAL NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at REAL
);
"""
PREFIX = "hub_"


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    role: str
    grants: tuple[tuple[str, str], ...]
    created_at: float
    created_by: str
    revoked_at: float | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_grant(text: str) -> tuple[str, str]:
    """'category=property' -> ('category', 'property')."""
    kind, sep, value = text.partition("=")
    if not sep or kind not in GRANT_KINDS or not value or len(value) > 200:
        raise UserError(f"bad right {text!r}: write KIND=VALUE with KIND one of {', '.join(GRANT_KINDS)}, like category=property")
    return kind, value


class TokenStore(SqliteFile):
    def __init__(self, path: Path):
        super().__init__(path, SCHEMA)

    def create(self, name: str, role: str, grants: list[tuple[str, str]], created_by: str) -> tuple[Token, str]:
        """A new token and its full text, which is shown once and never stored."""
        if not NAME_RE.match(name):
            raise UserError(f"bad token name {name!r}: 1-64 lower-case letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
        token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = time.time()
        self._db.execute(
            "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (token_id, name, role, json.dumps(sorted(grants)), _digest(secret), now, created_by),
        )
        return Token(token_id, name, role, tuple(sorted(grants)), now, created_by, None), f"{PREFIX}{token_id}_{secret}"

    def revoke(self, token_id: str) -> bool:
        """True when a live token was revoked."""
        return (
            self._db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (time.time(), token_id)
            ).rowcount
            > 0
        )

    def tokens(self) -> list[Token]:
        rows = self._db.execute(
            "SELECT id, name, role, grants, created_at, created_by, revoked_at FROM tokens ORDER BY created_at"
        )
        return [_token(row) for row in rows]

    def live(self, token_id: str) -> Token | None:
        """The token with this id while it is not revoked (a principal checked again)."""
        row = self._db.execute(
            "SELECT id, name, role, grants, created_at, created_by, revoked_at FROM tokens WHERE id = ? AND revoked_at IS NULL",
            (token_id,),
        ).fetchone()
        return None if row is None else _token(row)

    def find(self, text: str) -> Token | None:
        """The live token this bearer text names, or None (unknown, wrong secret, revoked, malformed)."""
        if not text.startswith(PREFIX):
            return None
        token_id, sep, secret = text[len(PREFIX) :].partition("_")
        if not sep or not secret or len(text) > 200:
            return None
        row = self._db.execute(
            "SELECT id, name, role, grants, created_at, created_by, revoked_at, secret_sha256 FROM tokens WHERE id = ?",
            (token_id,),
        ).fetchone()
        if row is None or row[6] is not None or not hmac.compare_digest(row[7], _digest(secret)):
            return None
        return _token(row[:7])


def _token(row) -> Token:
    return Token(row[0], row[1], row[2], tuple((k, v) for k, v in json.loads(row[3])), row[4], row[5], row[6])
