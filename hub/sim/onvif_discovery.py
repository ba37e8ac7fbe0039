"""The simulator answers WS-Discovery probes as an ONVIF device (a network video transmitter).

Who runs where: `DiscoveryResponder` is an asyncio datagram protocol on the simulator's event loop,
on UDP at the control port's number (real devices listen on 3702 and the multicast group; the
simulator answers unicast probes only, so tests and demos never touch the network beyond loopback).
A `Probe` whose types and scopes the device matches gets a `ProbeMatches` with the device service's
address; anything else is ignored, as WS-Discovery asks. The messages are built and read by the
`wsdiscovery` package.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid

from wsdiscovery.actions.probematch import constructProbeMatch
from wsdiscovery.message import createSOAPMessage, parseSOAPMessage
from wsdiscovery.namespaces import NS_ACTION_PROBE
from wsdiscovery.qname import QName
from wsdiscovery.scope import Scope
from wsdiscovery.service import Service
from wsdiscovery.util import matchesFilter

from hub.sim.onvif_device import DEVICE_PATH, WILDCARD_HOSTS

log = logging.getLogger("hub.sim")

ONVIF_NETWORK_NS = "http://www.onvif.org/ver10/network/wsdl"
ONVIF_DEVICE_NS = "http://www.onvif.org/ver10/device/wsdl"
DEVICE_TYPES = (QName(ONVIF_NETWORK_NS, "NetworkVideoTransmitter", "dn"), QName(ONVIF_DEVICE_NS, "Device", "tds"))
MAX_DATAGRAM = 65507


def device_address(control_host: str, control_port: int) -> str:
    """The device service's URL; with a wildcard listen address it holds `{ip}`, filled per probe with the
    address the prober reaches the device at."""
    return f"http://{'{ip}' if control_host in WILDCARD_HOSTS else control_host}:{control_port}{DEVICE_PATH}"


def device_service(control_host: str, control_port: int, name: str = "hub camera simulator") -> Service:
    """The device as WS-Discovery describes it."""
    scopes = [
        Scope("onvif://www.onvif.org/type/video_encoder"),
        Scope("onvif://www.onvif.org/Profile/Streaming"),
        Scope("onvif://www.onvif.org/hardware/hub-sim"),
        Scope("onvif://www.onvif.org/name/" + name.replace(" ", "_")),
    ]
    epr = uuid.uuid5(uuid.NAMESPACE_URL, f"hub-sim:{control_host}:{control_port}").urn
    return Service(list(DEVICE_TYPES), scopes, [device_address(control_host, control_port)], epr, 1)


class DiscoveryResponder(asyncio.DatagramProtocol):
    def __init__(self, service: Service, address: str):
        self.service = service
        self.address = address  # the device service's URL, maybe with `{ip}`
        self.transport: asyncio.DatagramTransport | None = None
        self.answered = 0

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        env = parseSOAPMessage(data[:MAX_DATAGRAM], addr[0])
        if env is None or env.getAction() != NS_ACTION_PROBE:
            return
        if not matchesFilter(self.service, env.getTypes(), env.getScopes()):
            return
        answer = Service(self.service.getTypes(), self.service.getScopes(), self._addresses(addr[0]), self.service.getEPR(), 1)
        reply = createSOAPMessage(constructProbeMatch([answer], env.getMessageId()))
        if self.transport is not None:
            self.transport.sendto(reply.encode("utf-8"), addr)
        self.answered += 1

    def _addresses(self, peer: str) -> list[str]:
        """The device's address as the prober reaches it (the route's source address, for a wildcard listen)."""
        if "{ip}" not in self.address:
            return [self.address]
        with socket.socket(socket.AF_INET6 if ":" in peer else socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((peer, 9))  # no packet is sent: this only picks the route
            local = probe.getsockname()[0]
        local = f"[{local}]" if ":" in local else local
        return [self.address.replace("{ip}", local)]


async def serve_discovery(host: str, port: int) -> asyncio.DatagramTransport | None:
    """Answer probes on UDP `host:port` for the device whose services are on TCP `host:port`; None (logged)
    when that UDP port is taken: the device still answers over HTTP."""
    loop = asyncio.get_running_loop()
    service = device_service(host, port)
    address = device_address(host, port)
    try:
        transport, _ = await loop.create_datagram_endpoint(
            lambda: DiscoveryResponder(service, address), local_addr=(host or "0.0.0.0", port)
        )
    except OSError as exc:
        log.warning(
            "simulator: WS-Discovery cannot listen on UDP %s:%d (%s); ONVIF devices answer over HTTP only",
            host,
            port,
            exc.strerror,
        )
        return None
    return transport
