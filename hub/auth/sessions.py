"""Signed-in browsers: session ids, their CSRF tokens, idle and absolute expiry.

Runs on the event loop (the login and the access middleware); no I/O. Sessions live in
memory: a restart signs everybody out, which is the safe side. A session id is 256 random
bits, sent only in an HttpOnly, SameSite=Strict cookie; a new id is made at every login
(never reused from the request), so a planted id is worthless. Each session carries its own
CSRF token, which the page sends back in a header on every state-changing request.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_SESSIONS = 10_000  # beyond this the oldest are dropped (a flood of logins cannot exhaust memory)


@dataclass
class Session:
    id: str
    user: str
    csrf: str
    created_at: float
    seen_at: float
    address: str
    opened: dict[str, float] = field(default_factory=dict)  # sensitive stream id -> when a reason was given


class SessionStore:
    def __init__(self, idle_s: float, max_s: float, clock: Callable[[], float] = time.time):
        self.idle_s, self.max_s = idle_s, max_s
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    def create(self, user: str, address: str) -> Session:
        now = self._clock()
        self._expire(now)
        while len(self._sessions) >= MAX_SESSIONS:
            self._sessions.pop(next(iter(self._sessions)))
        session = Session(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), now, now, address)
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (its idle clock restarts), or None if unknown or expired."""
        session = self._sessions.get(session_id or "")
        if session is None:
            return None
        now = self._clock()
        if self._expired(session, now):
            del self._sessions[session.id]
            return None
        session.seen_at = now
        return session

    def drop(self, session_id: str | None) -> Session | None:
        return self._sessions.pop(session_id or "", None)

    def drop_user(self, user: str) -> int:
        """Sign a user out everywhere (deleted, or password changed)."""
        gone = [sid for sid, s in self._sessions.items() if s.user == user]
        for sid in gone:
            del self._sessions[sid]
        return len(gone)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.seen_at > self.idle_s or now - session.created_at > self.max_s

    def _expire(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[sid]
