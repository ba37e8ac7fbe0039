"""Open sockets and event streams, and the rights they run on, checked again all the time.

Runs on the event loop. A live-video WebSocket (`/api/live`) or an event stream (`/api/events`)
stays open for hours; the rights it was opened with must not outlive a sign-out, an expired
session, a changed password, a deleted user, a revoked grant or a revoked token. Every such
connection registers here with its principal. `check` asks the access service who that principal
is *now* and tells the connection:

- the session or token is gone, or its role may no longer watch: `ended` is set with a close code
  (`GONE` 4401 or `FORBIDDEN` 4403) and a reason a person can read, and the connection closes;
- its rights changed: `principal` is replaced and `on_rights` runs, which drops exactly what is no
  longer allowed (the handler's business).

`recheck_forever` checks every connection every `CHECK_EVERY_S`; the live socket also checks at
every message it receives, and a sign-out checks at once. So a change made anywhere, the
command line of another terminal included, reaches every open connection within a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web

from hub.auth.service import AccessService, Principal

log = logging.getLogger("hub.web")

CHECK_EVERY_S = 0.5
GONE, FORBIDDEN = 4401, 4403  # WebSocket close codes (private range): sign in again / no longer allowed


class Connection:
    """One open socket or event stream of one principal."""

    def __init__(self, principal: Principal, kind: str, on_rights: Callable[[Principal], None]):
        self.principal = principal
        self.kind = kind  # "live" or "events", for the log
        self.on_rights = on_rights
        self.ended = asyncio.Event()
        self.code = 0
        self.why = ""

    def end(self, code: int, why: str) -> None:
        if not self.ended.is_set():
            self.code, self.why = code, why
            self.ended.set()


class OpenConnections:
    def __init__(self, service: AccessService):
        self._service = service
        self._open: set[Connection] = set()

    def __len__(self) -> int:
        return len(self._open)

    def open(self, principal: Principal, kind: str, on_rights: Callable[[Principal], None]) -> Connection:
        connection = Connection(principal, kind, on_rights)
        self._open.add(connection)
        return connection

    def close(self, connection: Connection) -> None:
        self._open.discard(connection)

    def check(self, connection: Connection) -> Principal | None:
        """The connection's principal now (its rights updated), or None when it has ended."""
        if connection.ended.is_set():
            return None
        now, why = self._service.current(connection.principal)
        if now is None or not now.rights.can("watch"):
            code, why = (GONE, why) if now is None else (FORBIDDEN, f"your role ({now.rights.role}) may no longer watch")
            log.info("%s connection of %s ended: %s", connection.kind, connection.principal.who, why)
            connection.end(code, why)
            return None
        changed = now.rights != connection.principal.rights
        connection.principal = now
        if changed:
            connection.on_rights(now)
        return now

    def recheck(self) -> None:
        for connection in list(self._open):
            self.check(connection)

    async def recheck_forever(self) -> None:
        """Runs as a task for the app's life."""
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            self.recheck()


CONNECTIONS = web.AppKey("connections", OpenConnections)
