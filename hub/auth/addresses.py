"""The client's address: the peer's, or the one a trusted reverse proxy reports in X-Forwarded-For.

Pure; the access middleware calls it on the event loop. X-Forwarded-For is a list that every
proxy appends to, and a client can start it with anything. It is read from the right: each
hop that is a trusted proxy passes the question on to the address before it, and the first
untrusted hop is the client. From a peer that is not a trusted proxy the header is ignored.
"""

from __future__ import annotations

import ipaddress

from hub.config.access import IpNetwork


def is_trusted(address: str, proxies: tuple[IpNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: tuple[IpNetwork, ...]) -> str:
    address = peer or "unknown"
    if not forwarded_for or not is_trusted(address, proxies):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        address = hop
        if not is_trusted(hop, proxies):
            break
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return peer or "unknown"  # garbage in the header: fall back to the proxy itself


def forwarded_https(peer: str | None, forwarded_proto: str | None, proxies: tuple[IpNetwork, ...]) -> bool:
    """True when a trusted proxy says the browser's connection to it is HTTPS."""
    if not forwarded_proto or not is_trusted(peer or "", proxies):
        return False
    return forwarded_proto.split(",")[0].strip().lower() == "https"
