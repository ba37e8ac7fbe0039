"""Signed-in browsers: session ids, their CSRF tokens, idle and absolute expiry.

Runs on the event loop (the login and the access middleware); no I/O. Sessions live in
memory: a restart signs everybody out, which is the safe side. A session id is 256 random
bits, sent only in an HttpOnly, SameSite=Strict cookie; a new id is made at every login
(never reused from the request), so a planted id is worthless. Each session carries its own
CSRF token, which the page sends back in a header on every state-changing request.

A session that ends (signed out, expired, its user deleted or its password changed) is remembered
for a while with the reason, so that the sockets and event streams it opened can say why they close.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_SESSIONS = 10_000  # beyond this the oldest are dropped (a flood of logins cannot exhaust memory)
MAX_ENDED = 10_000  # why recently ended sessions ended, for their open connections' close reasons
SIGNED_OUT, EXPIRED, DISPLACED = "signed out", "session expired", "session ended (too many sessions)"


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
        self._ended: dict[str, str] = {}  # session id -> why it ended (oldest first, bounded)
        self.changes = 0  # bumped when a session begins or ends (the read door's copy follows it)

    def create(self, user: str, address: str) -> Session:
        now = self._clock()
        self._expire(now)
        while len(self._sessions) >= MAX_SESSIONS:
            self.drop(next(iter(self._sessions)), DISPLACED)
        session = Session(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), now, now, address)
        self._sessions[session.id] = session
        self.changes += 1
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (its idle clock restarts), or None if unknown or expired."""
        session = self.peek(session_id)
        if session is not None:
            session.seen_at = self._clock()
        return session

    def peek(self, session_id: str | None) -> Session | None:
        """Like `get`, but leaves the idle clock alone (an open socket checked again is not a person's use)."""
        session = self._sessions.get(session_id or "")
        if session is not None and self._expired(session, self._clock()):
            self.drop(session.id, EXPIRED)
            return None
        return session

    def drop(self, session_id: str | None, why: str = SIGNED_OUT) -> Session | None:
        session = self._sessions.pop(session_id or "", None)
        if session is not None:
            self.changes += 1
            self._ended[session.id] = why
            while len(self._ended) > MAX_ENDED:
                self._ended.pop(next(iter(self._ended)))
        return session

    def drop_user(self, user: str, why: str) -> int:
        """Sign a user out everywhere (deleted, or password changed)."""
        gone = [sid for sid, s in self._sessions.items() if s.user == user]
        for sid in gone:
            self.drop(sid, why)
        return len(gone)

    def why_ended(self, session_id: str) -> str:
        """Why a session that is gone ended ("session ended" once that is forgotten)."""
        return self._ended.get(session_id, "session ended")

    def table(self) -> dict[str, tuple[str, float, float]]:
        """Every live session: id -> (user, created_at, seen_at), for the read door's copy."""
        return {sid: (s.user, s.created_at, s.seen_at) for sid, s in self._sessions.items()}

    def __len__(self) -> int:
        return len(self._sessions)

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.seen_at > self.idle_s or now - session.created_at > self.max_s

    def _expire(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if self._expired(s, now)]:
            self.drop(sid, EXPIRED)
