"""Listening sockets, bound before anything else starts, with one clear line when a port is taken.

The hub binds its port before it connects to any camera, and the simulator
before it encodes any clip, so a second instance fails at once and says why
instead of after a minute of work or with a traceback.
"""

from __future__ import annotations

import errno
import socket

from hub.config import Listen


class PortBusy(Exception):
    """A port could not be bound; the message is one line for a person, naming the port and what to do."""


def bind_tcp(listen: Listen, purpose: str, remedy: str) -> socket.socket:
    """A listening TCP socket on `listen`; raises PortBusy naming `purpose` and what to do (`remedy`)."""
    try:
        infos = socket.getaddrinfo(listen.host, listen.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise PortBusy(f"cannot listen on {listen} for {purpose}: unknown host {listen.host!r} ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is not "in use"
    try:
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise PortBusy(_explain(listen, purpose, remedy, exc)) from None
    sock.setblocking(False)
    return sock


def ensure_free(listen: Listen, purpose: str, remedy: str) -> None:
    """Raise PortBusy now if `listen` is taken (for ports a child process binds a moment later)."""
    if listen.port:
        bind_tcp(listen, purpose, remedy).close()


def bound_port(sock: socket.socket) -> int:
    return sock.getsockname()[1]


def _explain(listen: Listen, purpose: str, remedy: str, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {listen} for {purpose}: the port is already in use. {remedy}"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {listen} for {purpose}: permission denied (ports below 1024 need privileges). {remedy}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {listen} for {purpose}: {listen.host} is not an address of this machine. {remedy}"
    return f"cannot listen on {listen} for {purpose}: {exc.strerror or exc}. {remedy}"
