"""Signed-in browsers: session ids, their CSRF tokens, idle and absolute expiry.

Runs on the event loop (the login and the access middleware); no I/O. Sessions live in
memory: a restart of a single node signs everybody out, which is the safe side. A session id is 256 random
bits, sent only in an HttpOnly, SameSite=Strict cookie; a new id is made at every login
(never reused from the request), so a planted id is worthless. Each session carries its own
CSRF token, which the page sends back in a header on every state-changing request.

A session that ends (signed out, expired, its user deleted or its password changed) is remembered
for a while with the reason, so that the sockets and event streams it opened can say why they close.

On a cluster node, `shared` (`hub.cluster.sessions`) tells the other nodes when a session begins, ends
or is used, and brings theirs here: a session begun elsewhere is known by the SHA-256 of its id only
(`digest`) until its browser shows the id here, and then works as one begun here. Ends that come from
another node are not told back. A reason given to watch a sensitive camera counts for the session on
every node; one given with an API token counts for that token on every node, for a session's absolute
lifetime (`open_token`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

MAX_SESSIONS = 10_000  # beyond this the oldest are dropped (a flood of logins cannot exhaust memory)
MAX_ENDED = 10_000  # why recently ended sessions ended, for their open connections' close reasons
MAX_TOKEN_OPENINGS = 100_000  # (token, stream) reasons kept (beyond: the oldest are forgotten, asked again)
TOKEN_PREFIX = "token:"  # what a token's openings are known by: `token:<token id>` (never a digest)
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


def digest(session_id: str) -> str:
    """What a session is known by beyond this node: its id never leaves the node that sees it."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class SharedSessions(Protocol):
    """Where a cluster node tells the others of its sessions (`hub.cluster.sessions.SessionsSync`)."""

    def begun(self, session: Session) -> None: ...
    def ended(self, key: str, why: str) -> None: ...
    def seen(self, key: str, at: float) -> None: ...
    def opened(self, key: str, stream_id: str, at: float) -> None: ...


class SessionStore:
    def __init__(self, idle_s: float, max_s: float, clock: Callable[[], float] = time.time):
        self.idle_s, self.max_s = idle_s, max_s
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._keys: dict[str, str] = {}  # digest -> id, of the sessions above
        self._elsewhere: dict[str, Session] = {}  # digest -> a session begun on another node (id not seen yet)
        self._told_seen: dict[str, float] = {}  # id -> when its use was last told to the other nodes
        self._ended: dict[str, str] = {}  # digest -> why it ended (oldest first, bounded)
        self._token_openings: dict[tuple[str, str], float] = {}  # (token key, stream id) -> when a reason was given
        self.changes = 0  # bumped when a session begins or ends (the read door's copy follows it)
        self.shared: SharedSessions | None = None

    def create(self, user: str, address: str) -> Session:
        now = self._clock()
        self._expire(now)
        while len(self._sessions) >= MAX_SESSIONS:
            self.drop(next(iter(self._sessions)), DISPLACED)
        session = Session(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), now, now, address)
        self._add(session)
        if self.shared is not None:
            self.shared.begun(session)
        return session

    def _add(self, session: Session) -> None:
        self._sessions[session.id] = session
        self._keys[digest(session.id)] = session.id
        self.changes += 1

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (its idle clock restarts), or None if unknown or expired."""
        session = self.peek(session_id)
        if session is not None:
            session.seen_at = now = self._clock()
            if self.shared is not None and now - self._told_seen.get(session.id, 0.0) >= self.idle_s / 10:
                self._told_seen[session.id] = now  # the other nodes' idle clocks, restarted now and then
                self.shared.seen(digest(session.id), now)
        return session

    def peek(self, session_id: str | None) -> Session | None:
        """Like `get`, but leaves the idle clock alone (an open socket checked again is not a person's use)."""
        session = self._sessions.get(session_id or "")
        if session is None and session_id and self._elsewhere:
            session = self._arrived(session_id)
        if session is not None and self._expired(session, self._clock()):
            self.drop(session.id, EXPIRED)
            return None
        return session

    def _arrived(self, session_id: str) -> Session | None:
        """A session begun on another node, shown here by its browser for the first time."""
        found = self._elsewhere.pop(digest(session_id), None)
        if found is None:
            return None
        session = Session(session_id, found.user, found.csrf, found.created_at, found.seen_at, found.address, found.opened)
        self._add(session)
        return session

    def drop(self, session_id: str | None, why: str = SIGNED_OUT) -> Session | None:
        session = self._sessions.pop(session_id or "", None)
        if session is not None:
            key = digest(session.id)
            self._keys.pop(key, None)
            self._told_seen.pop(session.id, None)
            self._ended_because(key, why)
            if self.shared is not None and why != EXPIRED:  # each node expires sessions by its own clock
                self.shared.ended(key, why)
        return session

    def _ended_because(self, key: str, why: str) -> None:
        self.changes += 1
        self._ended[key] = why
        while len(self._ended) > MAX_ENDED:
            self._ended.pop(next(iter(self._ended)))

    def begun_elsewhere(
        self, key: str, user: str, csrf: str, created_at: float, seen_at: float, address: str, opened: dict[str, float]
    ) -> None:
        """Another node began a session (or this node did, before a restart): it works here once shown,
        with the sensitive cameras a reason was given for on any node (`opened`)."""
        if key in self._keys or key in self._ended:
            return
        while len(self._elsewhere) >= MAX_SESSIONS:
            self._elsewhere.pop(next(iter(self._elsewhere)))
        self._elsewhere[key] = Session(key, user, csrf, created_at, seen_at, address, dict(opened))

    def ended_elsewhere(self, key: str, why: str) -> None:
        """Another node ended a session (signed out, user deleted ...): it ends here too, with its sockets."""
        self._elsewhere.pop(key, None)
        session_id = self._keys.pop(key, None)
        if session_id is not None:
            self._sessions.pop(session_id, None)
            self._told_seen.pop(session_id, None)
        self._ended_because(key, why)

    def seen_elsewhere(self, key: str, at: float) -> None:
        """Another node saw the session used at `at`: its idle clock restarts here too."""
        session = self._known(key)
        if session is not None:
            session.seen_at = max(session.seen_at, at)

    def open(self, session: Session, stream_id: str) -> None:
        """A reason was given in this session to watch a sensitive stream: good for the session, on every node."""
        session.opened[stream_id] = at = self._clock()
        if self.shared is not None:
            self.shared.opened(digest(session.id), stream_id, at)

    def opened_elsewhere(self, key: str, stream_id: str, at: float) -> None:
        """A reason for `stream_id` was given in this session on another node: it counts here too."""
        session = self._known(key)
        if session is not None:
            session.opened.setdefault(stream_id, at)

    def open_token(self, key: str, stream_id: str) -> None:
        """A reason was given with an API token (`key`: `token:<id>`) to watch a sensitive stream: good for
        the token for a session's absolute lifetime, on every node."""
        at = self._clock()
        self.token_opened_elsewhere(key, stream_id, at)
        if self.shared is not None:
            self.shared.opened(key, stream_id, at)

    def token_opened_elsewhere(self, key: str, stream_id: str, at: float) -> None:
        """A reason given with this token (here, or on another node at `at`)."""
        openings = self._token_openings
        before = openings.pop((key, stream_id), at)  # the newest last: the oldest are forgotten first
        openings[(key, stream_id)] = max(at, before)
        while len(openings) > MAX_TOKEN_OPENINGS:
            openings.pop(next(iter(openings)))

    def token_open(self, key: str, stream_id: str) -> bool:
        """Whether a reason for `stream_id` was given with this token within a session's absolute lifetime."""
        at = self._token_openings.get((key, stream_id))
        return at is not None and self._clock() - at < self.max_s

    def _known(self, key: str) -> Session | None:
        """The session of this digest, whether its browser was seen here or not yet."""
        return self._sessions.get(self._keys.get(key, "")) or self._elsewhere.get(key)

    def drop_user(self, user: str, why: str) -> int:
        """Sign a user out everywhere (deleted, or password changed)."""
        gone = [sid for sid, s in self._sessions.items() if s.user == user]
        for sid in gone:
            self.drop(sid, why)
        return len(gone)

    def why_ended(self, session_id: str) -> str:
        """Why a session that is gone ended ("session ended" once that is forgotten)."""
        return self._ended.get(digest(session_id), "session ended")

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
