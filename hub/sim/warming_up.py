"""The simulator's RTSP port while its clips are still being encoded: every request is answered
`503 Service Unavailable` with `Retry-After`, so a client that comes early is told to come back
(FFmpeg read the silence of a bound but unserved port as "Invalid data found").

Runs on the simulator's event loop, on a duplicate of the bound RTSP socket; closing it leaves the
socket itself listening for the real server.
"""

from __future__ import annotations

import asyncio
import socket

from hub.sim.rtsp_messages import MalformedRequest, response, take_request

RETRY_AFTER_S = 5


class WarmingUp(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            while (request := take_request(self.buffer)) is not None and self.transport is not None:
                cseq = request.headers.get("cseq", "0")
                self.transport.write(response(503, cseq, {"Retry-After": str(RETRY_AFTER_S)}))
        except MalformedRequest:
            if self.transport is not None:
                self.transport.close()


async def answer_warming_up(sock: socket.socket) -> asyncio.AbstractServer:
    """Serve 503s on a duplicate of `sock` until the returned server is closed."""
    return await asyncio.get_running_loop().create_server(WarmingUp, sock=sock.dup())
