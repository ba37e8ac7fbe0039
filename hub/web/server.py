"""Guards of the hub's HTTP server against clients that hold connections open: a deadline for a request's
headers and a cap on the connections of one address, in the hub itself (no proxy needed in front).

Runs on the event loop, in aiohttp's server. aiohttp reads a request's headers with no deadline of its
own but its keep-alive timer, an hour by default: 1,000 clients that send a header byte now and then
would stay connected for that long. That timer starts when a connection opens and closes a connection
whose next request has not fully arrived when it fires, so `runner_options` sets it to
`[hub] header_timeout_s`: a request's headers must arrive within that time, and an idle keep-alive
connection closes after it. A request's body is read by its handler, which gives up after the same
time (`hub.web.bodies`).

`ConnectionCap` counts the open connections of each peer address as aiohttp's server registers them;
one over `[hub] connections_per_address` is closed at once, before a byte of it is read. A trusted
proxy (`[hub] trusted_proxies`: many clients behind one address) is not capped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from aiohttp import web

from hub.auth.addresses import is_trusted
from hub.config import HubSettings

log = logging.getLogger("hub.web")
SHUTDOWN_TIMEOUT_S = 2.0  # a stopping hub gives open requests this long


def runner_options(settings: HubSettings) -> dict:
    """Keyword arguments for aiohttp's `AppRunner` (or `TestServer`)."""
    return {"keepalive_timeout": settings.header_timeout_s, "shutdown_timeout": SHUTDOWN_TIMEOUT_S}


class ConnectionCap:
    def __init__(self, settings: HubSettings):
        self.per_address = settings.connections_per_address
        self.proxies = settings.trusted_proxies
        self.open: Counter[str] = Counter()
        self.refused = 0
        self._counted: dict[object, str] = {}  # handler -> its peer address, for connections let in

    def install(self, server: web.Server) -> None:
        """Wrap the server's connection bookkeeping (`runner.server`, once the runner is set up)."""
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler, transport: asyncio.Transport) -> None:
            made(handler, transport)
            self._admit(handler, transport)

        def connection_lost(handler, exc: BaseException | None = None) -> None:
            address = self._counted.pop(handler, None)
            if address is not None:
                self.open[address] -= 1
                if self.open[address] <= 0:
                    del self.open[address]
            lost(handler, exc)

        server.connection_made, server.connection_lost = connection_made, connection_lost  # type: ignore[method-assign]

    def full(self, peer) -> bool:
        """True when a new connection from `peer` (a socket's peer name) would be one over the cap: it is
        counted as refused, and the caller closes it."""
        address = _address(peer)
        if is_trusted(address, self.proxies) or self.open[address] < self.per_address:
            return False
        self.refused += 1
        if self.refused == 1 or self.refused % 1000 == 0:
            log.warning(
                "refused connections over the cap of %d per address (%d so far; the latest from %s)",
                self.per_address,
                self.refused,
                address,
            )
        return True

    def _admit(self, handler, transport: asyncio.Transport) -> None:
        peer = transport.get_extra_info("peername")
        if self.full(peer):
            transport.close()
            return
        address = _address(peer)
        if not is_trusted(address, self.proxies):
            self.open[address] += 1
            self._counted[handler] = address


def _address(peer) -> str:
    return peer[0] if isinstance(peer, tuple) and peer else "unknown"


CAP = web.AppKey("connection_cap", ConnectionCap)
