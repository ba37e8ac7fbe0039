"""Access control for one running hub: who is asking, what they may do, and the audit trail.

Who runs where: created by `create_app`; every call runs on the event loop, but password checks,
which run on the threads of `PasswordWork`. The user and token stores are SQLite files next to the
config (short indexed reads); a user's role and grants are re-read whenever the database changed
(`PRAGMA data_version`), so `hub user grant|revoke|del` from another terminal takes effect on the
next request, without a restart. `current` answers who a principal is *now*: the open sockets and
event streams ask it again and again (`hub.web.connections`), so rights end there too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from hub.auth import passwords
from hub.auth.audit import AuditTrail, audit_db_for
from hub.auth.limits import FailureLimiter
from hub.auth.password_work import PasswordWork
from hub.auth.refusals import RefusalSummary
from hub.auth.rights import Rights, rights_under
from hub.auth.sessions import TOKEN_PREFIX, Session, SessionStore
from hub.auth.tokens import Token, TokenStore
from hub.auth.users import User, UserStore, users_db_for
from hub.config.access import AccessSettings

PRUNE_EVERY_S = 3600.0
SUMMARY_EVERY_S = 10.0  # how often closed windows of refused sign-ins are written
USER_DELETED, PASSWORD_CHANGED, TOKEN_REVOKED = "user deleted", "password changed", "token revoked"
KNOWN_ADDRESSES = 10_000  # addresses somebody signed in from, remembered (most recent last) for priority
REPEAT_WINDOW_S = 600.0  # a repeated read (snapshots, a token's scrapes) is recorded once per this


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: a signed-in person (`session`) or a script (`token`)."""

    name: str
    rights: Rights
    session: Session | None = None
    token_id: str | None = None

    @property
    def who(self) -> str:
        return self.name if self.token_id is None else f"token:{self.token_id}:{self.name}"

    @property
    def key(self) -> str:
        """What sensitive-stream openings and repeats are remembered under."""
        return self.session.id if self.session is not None else f"{TOKEN_PREFIX}{self.token_id}"


class AccessService:
    def __init__(self, config_path: Path, settings: AccessSettings):
        self.settings = settings
        self.users = UserStore(users_db_for(config_path))
        self.tokens = TokenStore(users_db_for(config_path))
        self.audit = AuditTrail(audit_db_for(config_path))
        self.sessions = SessionStore(settings.session_idle_min * 60, settings.session_max_h * 3600)
        self.limiter = FailureLimiter()
        self.password_work = PasswordWork()
        self.refusals = RefusalSummary(lambda address, **detail: self.audit.append("-", "login_refused", "", address, **detail))
        self._users: dict[str, User | None] = {}
        self._tokens: dict[str, Principal | None] = {}  # bearer text -> principal (a script sends the same one each time)
        self._token_ids: dict[str, Token | None] = {}  # token id -> the live token (principals checked again)
        self._known_addresses: dict[str, None] = {}  # where sign-ins succeeded since the hub started
        self._data_version = -1
        self._repeats: dict[tuple, float] = {}
        # a cluster node: looks up in the cluster a session begun on another node (`hub.cluster.sessions`)
        self.session_lookup: Callable[[str], Awaitable[bool]] | None = None

    def close(self) -> None:
        self.refusals.flush()
        self.password_work.close()
        for store in (self.users, self.tokens, self.audit):
            store.close()

    def apply(self, settings: AccessSettings) -> None:
        """A reloaded config's [access] (sensitivity and retention; running sessions keep their clocks)."""
        self.settings = settings
        self._tokens.clear()  # their rights carry the old sensitivity

    def rights(self, role: str, grants) -> Rights:
        return rights_under(self.settings, role, grants)

    def _fresh(self) -> None:
        """Forget what was read from the stores if `hub user|token ...` changed them since."""
        version = self.users.data_version()
        if version != self._data_version:
            self._users.clear()
            self._tokens.clear()
            self._token_ids.clear()
            self._data_version = version

    def user(self, name: str) -> User | None:
        self._fresh()
        if name not in self._users:
            self._users[name] = self.users.get(name)
        return self._users[name]

    def from_session(self, session_id: str | None) -> Principal | None:
        session = self.sessions.get(session_id)
        return None if session is None else self._session_principal(session)[0]

    def _session_principal(self, session: Session) -> tuple[Principal | None, str]:
        """The session's principal now, or (None, why it ended): its user deleted or its password changed since."""
        user = self.user(session.user)
        if user is None or user.password_changed_at > session.created_at:
            if user is None:
                self.sessions.drop_user(session.user, USER_DELETED)
                return None, USER_DELETED
            self.sessions.drop(session.id, PASSWORD_CHANGED)  # sessions begun since keep going
            return None, PASSWORD_CHANGED
        return Principal(user.name, self.rights(user.role, user.grants), session=session), ""

    def current(self, principal: Principal) -> tuple[Principal | None, str]:
        """Who `principal` is now, with today's rights; or (None, why it is gone: signed out, session expired,
        user deleted, password changed, token revoked). Never restarts a session's idle clock."""
        if principal.session is not None:
            session = self.sessions.peek(principal.session.id)
            if session is None:
                return None, self.sessions.why_ended(principal.session.id)
            return self._session_principal(session)
        self._fresh()
        token_id = principal.token_id or ""
        if token_id not in self._token_ids:
            self._token_ids[token_id] = self.tokens.live(token_id)
        token = self._token_ids[token_id]
        if token is None:
            return None, TOKEN_REVOKED
        return Principal(token.name, self.rights(token.role, token.grants), token_id=token.id), ""

    def from_token(self, text: str) -> Principal | None:
        """The token's principal; remembered until the store changes (a revocation, say), so a script's
        thousands of requests cost one lookup and one hash."""
        self._fresh()
        if text in self._tokens:
            return self._tokens[text]
        token = self.tokens.find(text)
        found = None if token is None else Principal(token.name, self.rights(token.role, token.grants), token_id=token.id)
        if found is not None or len(self._tokens) < 10_000:  # unknown texts are remembered too, boundedly
            self._tokens[text] = found
        return found

    async def check_password(self, name: str, password: str, address: str) -> User | None:
        """The user if the password is right; the same work is done for unknown names (no timing oracle).
        Raises PasswordBusy when too many checks are under way (an address somebody signed in from before
        has a little more room)."""
        user = self.user(name)
        stored = user.password_hash if user is not None else passwords.DUMMY_HASH
        ok = await self.password_work.verify(stored, password, priority=address in self._known_addresses)
        if not ok or user is None:
            return None
        self._known_addresses.pop(address, None)
        self._known_addresses[address] = None
        while len(self._known_addresses) > KNOWN_ADDRESSES:
            self._known_addresses.pop(next(iter(self._known_addresses)))
        return user

    def record(self, principal: Principal | None, action: str, stream: str = "", address: str = "", **detail) -> None:
        self.audit.append(principal.who if principal else "-", action, stream, address, **detail)

    def record_once(self, principal: Principal, action: str, stream: str = "", address: str = "", **detail) -> None:
        """Record a read that repeats (a tile's snapshots, a scraper's token) once per REPEAT_WINDOW_S."""
        key, now = (principal.key, action, stream), time.monotonic()
        if now - self._repeats.get(key, -REPEAT_WINDOW_S) < REPEAT_WINDOW_S:
            return
        if len(self._repeats) > 100_000:
            self._repeats.clear()
        self._repeats[key] = now
        self.record(principal, action, stream, address, **detail)

    def open_sensitive(self, principal: Principal, stream_id: str) -> None:
        """Remember that a reason was given for this stream: good for the session (a token: a session's
        absolute lifetime), on every node of a cluster."""
        if principal.session is not None:
            self.sessions.open(principal.session, stream_id)
        else:
            self.sessions.open_token(principal.key, stream_id)

    def is_open(self, principal: Principal, stream_id: str) -> bool:
        if principal.session is not None:
            return stream_id in principal.session.opened
        return self.sessions.token_open(principal.key, stream_id)

    async def keep_tidy(self) -> None:
        """Drop audit entries past the retention, now and every hour, and write the summaries of refused
        sign-ins whose minute is over (runs as a task for the app's life)."""
        pruned_at = -PRUNE_EVERY_S
        while True:
            now = time.monotonic()
            if now - pruned_at >= PRUNE_EVERY_S:
                pruned_at = now
                self.audit.prune(self.settings.audit_retention_days * 86400)
            self.refusals.flush(time.time())
            await asyncio.sleep(SUMMARY_EVERY_S)
