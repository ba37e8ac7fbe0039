"""Finding ONVIF devices with WS-Discovery: a `Probe` for network video transmitters, and their answers.

Who runs where: the command line's event loop (`hub onvif discover`). The messages are built and read
by the `wsdiscovery` package; the sending and receiving is done here, on one UDP socket, because
`wsdiscovery`'s own threaded client must own UDP port 3702 and does not read the answers to a
unicast probe. By default the probe goes to the WS-Discovery multicast group (239.255.255.250:3702)
from the chosen interface; `--probe HOST:PORT` sends it to those devices only (no multicast), which is
how a device on another subnet, or the simulator, is asked.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote

from wsdiscovery.actions.probe import constructProbe
from wsdiscovery.message import createSOAPMessage, parseSOAPMessage
from wsdiscovery.namespaces import NS_ACTION_PROBE_MATCH
from wsdiscovery.qname import QName

from hub.safe.numbers import ascii_int

MULTICAST = ("239.255.255.250", 3702)
NVT = QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")
SENDS = 2  # UDP may drop a probe: each is sent twice (answers are told apart by the device's address)
MAX_DATAGRAM = 65535


@dataclass(frozen=True)
class Found:
    address: str  # the device service's URL: what `hub onvif add` takes
    name: str
    hardware: str
    endpoint: str  # the device's WS-Discovery endpoint reference (stable per device)


def interface_address(interface: str) -> str:
    """An interface's IPv4 address, from its name (`eth0`) or the address itself; ValueError if unknown."""
    try:
        socket.inet_aton(interface)
        return interface
    except OSError:
        pass
    import ifaddr  # comes with wsdiscovery

    for adapter in ifaddr.get_adapters():
        if adapter.nice_name == interface or adapter.name == interface:
            for ip in adapter.ips:
                if isinstance(ip.ip, str):
                    return ip.ip
            raise ValueError(f"interface {interface!r} has no IPv4 address")
    names = ", ".join(a.nice_name for a in ifaddr.get_adapters())
    raise ValueError(f"no interface {interface!r} (there are: {names})")


def parse_probe_target(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or ascii_int(port) is None or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


def _scope(scopes: list[str], kind: str) -> str:
    prefix = f"onvif://www.onvif.org/{kind}/"
    return next((unquote(s[len(prefix) :]).replace("_", " ") for s in scopes if s.startswith(prefix)), "")


def read_answers(data: bytes, sender: str, probe_id: str) -> list[Found]:
    """The devices one `ProbeMatches` datagram describes, if it answers our probe."""
    env = parseSOAPMessage(data, sender)
    if env is None or env.getAction() != NS_ACTION_PROBE_MATCH or env.getRelatesTo() != probe_id:
        return []
    found = []
    for match in env.getProbeResolveMatches():
        scopes = [s.getValue() if hasattr(s, "getValue") else str(s) for s in match.getScopes()]
        for address in match.getXAddrs():
            found.append(Found(address, _scope(scopes, "name"), _scope(scopes, "hardware"), match.getEPR()))
    return found


async def discover(
    interface: str | None = None, targets: list[tuple[str, int]] | None = None, timeout_s: float = 3.0
) -> list[Found]:
    """Probe (multicast, or the `targets` only) and gather the answers for `timeout_s`."""
    env = constructProbe([NVT], [])
    probe = createSOAPMessage(env).encode("utf-8")
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    try:
        local = interface_address(interface) if interface else ""
        sock.bind((local, 0))
        if targets:
            destinations = [(socket.gethostbyname(host), port) for host, port in targets]
        else:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            if local:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(local))
            destinations = [MULTICAST]
        for _ in range(SENDS):
            for destination in destinations:
                await loop.sock_sendto(sock, probe, destination)
        found: dict[tuple[str, str], Found] = {}
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                data, sender = await asyncio.wait_for(loop.sock_recvfrom(sock, MAX_DATAGRAM), left)
            except TimeoutError:
                break
            for device in read_answers(data, sender[0], env.getMessageId()):
                found.setdefault((device.endpoint, device.address), device)
        return sorted(found.values(), key=lambda d: d.address)
    finally:
        sock.close()
