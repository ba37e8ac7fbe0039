"""Listening sockets, bound before anything else starts, with one clear line when a port is taken.

The hub binds its port before it connects to any camera, and the simulator
before it encodes any clip, so a second instance fails at once and says why
instead of after a minute of work or with a traceback.
"""

from __future__ import annotations

import errno
import socket

from hub.config import Config, Listen


class PortBusy(Exception):
    """A port could not be bound; the message is one line for a person, naming the port and what to do."""


def bind_tcp(listen: Listen, purpose: str, rival: str, option: str | None) -> socket.socket:
    """A listening TCP socket on `listen`, or PortBusy naming `purpose`, the likely `rival` holding the port,
    and the command-line `option` that picks another (None: the address comes from the config only)."""
    try:
        infos = socket.getaddrinfo(listen.host, listen.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise PortBusy(
            f"cannot listen on {listen} for {purpose}: unknown host {listen.host!r} ({exc.strerror}). " + _elsewhere(option)
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is not "in use"
    try:
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise PortBusy(f"cannot listen on {listen} for {purpose}: {_explain(listen, rival, option, exc)}") from None
    sock.setblocking(False)
    return sock


def ensure_free(listen: Listen, purpose: str, rival: str, option: str | None) -> None:
    """Raise PortBusy now if `listen` is taken (for ports a child process binds a moment later)."""
    if listen.port:
        bind_tcp(listen, purpose, rival, option).close()


def bound_port(sock: socket.socket) -> int:
    return sock.getsockname()[1]


def _elsewhere(option: str | None) -> str:
    return f"Choose another with {option} HOST:PORT." if option else "Change it in the config."


def _explain(listen: Listen, rival: str, option: str | None, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        choose = f", or choose another port with {option} HOST:PORT." if option else " first."
        return f"the port is already in use. Is {rival} running? Stop it{choose}"
    if exc.errno == errno.EACCES:
        return f"permission denied (ports below 1024 need privileges). {_elsewhere(option)}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{listen.host} is not an address of this machine. {_elsewhere(option)}"
    return f"{exc.strerror or exc}. {_elsewhere(option)}"


def local_url(config: Config, port: int) -> str:
    """How a client on this machine reaches the hub at `port`: its listen address (loopback when it
    listens on every address), with the scheme its TLS settings give."""
    host = config.hub.listen.host if config.hub.listen.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if config.hub.tls.enabled else 'http'}://{host}:{port}"
