"""Who a request to the read door comes from: a bearer token or a session, checked as the hub checks them.

Who runs where: the door process, on its event loop. Tokens and users are read from the hub's SQLite
file (the door never writes it), and what was read is forgotten whenever the file changed
(`PRAGMA data_version`: `hub user|token ...`, or the hub itself), so a revoked token or a deleted
user is refused by the door's very next request. Sessions live in the hub's memory; the hub sends the
door its table whenever a session begins or ends. A session the door cannot vouch for (unknown,
idle or too old by the door's clock, its user gone or its password changed since) is not refused
here: the request goes to the hub, which says why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from hub.auth.rights import Rights, rights_under
from hub.auth.tokens import TokenStore
from hub.auth.users import User, UserStore
from hub.config.access import AccessSettings

REMEMBERED = 10_000  # bearer texts and users remembered between two changes of the file


@dataclass(frozen=True)
class Caller:
    rights: Rights
    token_id: str | None = None  # a script's token
    session: str | None = None  # a browser's session id


class DoorCredentials:
    def __init__(self, users_db: Path, settings: AccessSettings):
        self.settings = settings
        self.users = UserStore(users_db)
        self.tokens = TokenStore(users_db)
        self.sessions: dict[str, tuple[str, float, float]] = {}  # id -> (user, created_at, seen_at), from the hub
        self.idle_s = self.max_s = 0.0
        self.used: dict[str, float] = {}  # session id -> when the door last served it (the hub restarts its idle clock)
        self._tokens: dict[str, Caller | None] = {}
        self._users: dict[str, User | None] = {}
        self._version = -1

    def close(self) -> None:
        self.users.close()
        self.tokens.close()

    def follow(self, sessions: dict, idle_s: float, max_s: float, settings: AccessSettings) -> None:
        """The hub's session table and [access] settings, as sent."""
        self.sessions, self.idle_s, self.max_s = sessions, idle_s, max_s
        if settings != self.settings:
            self.settings = settings
            self._tokens.clear()
        self.used = {sid: at for sid, at in self.used.items() if sid in sessions}

    def caller(self, bearer: str | None, session: str | None, now: float | None = None) -> Caller | None:
        self._fresh()
        if bearer is not None:
            return self._token(bearer)
        return self._session(session or "", time.time() if now is None else now)

    def _fresh(self) -> None:
        version = self.users.data_version()
        if version != self._version:
            self._tokens.clear()
            self._users.clear()
            self._version = version

    def _token(self, text: str) -> Caller | None:
        if text not in self._tokens:
            token = self.tokens.find(text)
            found = None if token is None else Caller(rights_under(self.settings, token.role, token.grants), token_id=token.id)
            if len(self._tokens) >= REMEMBERED:
                self._tokens.clear()
            self._tokens[text] = found
        return self._tokens[text]

    def _session(self, session_id: str, now: float) -> Caller | None:
        entry = self.sessions.get(session_id)
        if entry is None:
            return None
        name, created_at, seen_at = entry
        seen_at = max(seen_at, self.used.get(session_id, 0.0))
        if now - seen_at > self.idle_s or now - created_at > self.max_s:
            return None
        if name not in self._users:
            if len(self._users) >= REMEMBERED:
                self._users.clear()
            self._users[name] = self.users.get(name)
        user = self._users[name]
        if user is None or user.password_changed_at > created_at:
            return None
        self.used[session_id] = now
        return Caller(rights_under(self.settings, user.role, user.grants), session=session_id)
