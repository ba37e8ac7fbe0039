"""The simulator's RTSP server: one asyncio protocol per TCP connection, RTP over TCP or UDP.

Runs on the simulator's event loop only; nothing here blocks. Requests are
answered in order as they arrive; RTP goes out from `Camera.tick`, called by
`FrameClock`, straight into each session's transport (TCP interleaved) or UDP
socket. A viewer whose TCP buffer backs up skips frames until the next
keyframe instead of buffering without bound.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket

from hub.sim import auth
from hub.sim.camera import Camera
from hub.sim.rtsp_messages import (
    PUBLIC,
    MalformedRequest,
    Request,
    TransportRequest,
    interleave,
    parse_transport,
    response,
    sdp,
    take_interleaved,
    take_request,
)

log = logging.getLogger("hub.sim.rtsp")

SESSION_TIMEOUT_S = 60  # announced to clients when no session timeout is configured (and then never enforced)
MAX_BUFFERED_BYTES = 2 * 1024 * 1024


class Session:
    """One SETUP'd track of one client: where its RTP goes."""

    def __init__(self, camera: Camera, conn: RtspConnection, transport: TransportRequest, udp: socket.socket | None):
        self.id = secrets.token_hex(8)
        self.camera = camera
        self.conn = conn
        self.channel = transport.interleaved[0] if transport.interleaved else 0
        self.udp = udp
        self.udp_target = (conn.peer_host, transport.client_ports[0]) if transport.client_ports else None
        self.playing = False
        self.waiting_for_keyframe = True

    def send_frame(self, packets: list[bytes], keyframe: bool) -> None:
        if self.waiting_for_keyframe and not keyframe:
            return
        if self.udp is not None and self.udp_target is not None:
            self.waiting_for_keyframe = False
            for packet in packets:
                try:
                    self.udp.sendto(packet, self.udp_target)
                except (BlockingIOError, OSError):
                    self.waiting_for_keyframe = True
                    return
            return
        transport = self.conn.transport
        if transport is None or transport.is_closing():
            return
        if transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
            self.waiting_for_keyframe = True  # slow reader: drop until the next keyframe
            return
        self.waiting_for_keyframe = False
        transport.write(interleave(self.channel, packets))

    def stop(self) -> None:
        self.camera.remove_viewer(self)
        self.playing = False
        if self.udp is not None:
            self.udp.close()
            self.udp = None

    def close(self) -> None:
        """The camera ends this session (drop/auth/notfound fault): close the client's connection."""
        self.stop()
        self.conn.close_connection()


class RtspServer:
    """Shared state of all connections: the cameras, the Digest nonce, the bound host, and the session
    timeout (`session_timeout_s`, 0: none): as a camera does, the simulator ends a playing session whose
    client sent nothing (no request, no RTCP) for that long; clients keep it up with GET_PARAMETER or
    OPTIONS every half of it, as FFmpeg and GStreamer do. A frozen or vanished client's sessions end."""

    def __init__(self, cameras: dict[str, Camera], host: str, session_timeout_s: float = 0.0):
        self.cameras = cameras
        self.host = host
        self.nonce = secrets.token_hex(16)
        self.connections: set[RtspConnection] = set()
        self.session_timeout_s = session_timeout_s

    @property
    def announced_timeout(self) -> int:
        return max(1, round(self.session_timeout_s)) if self.session_timeout_s else SESSION_TIMEOUT_S

    async def end_silent_sessions(self) -> None:
        """Runs while the simulator serves, when a session timeout is set: close connections whose
        playing sessions went silent past it."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, self.session_timeout_s / 4))
            now = loop.time()
            for conn in list(self.connections):
                if any(s.playing for s in conn.sessions.values()) and now - conn.heard_at > self.session_timeout_s:
                    log.info("ending the sessions of %s: silent for over %g s", conn.peer_host, self.session_timeout_s)
                    conn.abort_connection()

    def protocol(self) -> RtspConnection:
        return RtspConnection(self)

    def close_all(self) -> None:
        for conn in list(self.connections):
            conn.close_connection()


class RtspConnection(asyncio.Protocol):
    def __init__(self, server: RtspServer):
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.sessions: dict[str, Session] = {}
        self.peer_host = "127.0.0.1"
        self.heard_at = 0.0  # loop time the client last sent anything (a request, RTCP)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.heard_at = asyncio.get_running_loop().time()
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer_host = peer[0]
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        for session in list(self.sessions.values()):
            session.stop()
        self.sessions.clear()
        self.transport = None

    def close_connection(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort_connection(self) -> None:
        """End every session now and drop the connection without flushing (its client may read nothing)."""
        for session in list(self.sessions.values()):
            session.stop()
        self.sessions.clear()
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        self.heard_at = asyncio.get_running_loop().time()
        self.buffer += data
        try:
            while self.buffer and self.transport is not None:
                if self.buffer[0] == 0x24:  # '$': the client's RTCP over TCP
                    if take_interleaved(self.buffer) is None:
                        return
                    continue
                request = take_request(self.buffer)
                if request is None:
                    return
                self.handle(request)
        except MalformedRequest as exc:
            log.info("closing connection from %s: %s", self.peer_host, exc)
            self.reply(response(400, "0"))
            self.close_connection()

    def reply(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def handle(self, request: Request) -> None:
        if request.method == "OPTIONS":
            self.reply(response(200, request.cseq, {"Public": PUBLIC}))
            return
        camera = self.server.cameras.get(request.feed_path)
        fault = camera.fault_kind if camera else None
        if fault == "stall" and camera is not None:  # a hung camera answers nothing until it recovers
            camera.when_resumed(lambda: self._resume(request))
            return
        if fault == "drop":
            self.close_connection()
            return
        if camera is None or fault == "notfound":
            self.reply(response(404, request.cseq))
            return
        if not self.authorized(camera, request):
            challenges = [("WWW-Authenticate", c) for c in auth.challenge_headers(self.server.nonce)]
            self.reply(response(401, request.cseq, challenges))
            return
        handler = getattr(self, "on_" + request.method.lower(), None)
        if handler is None:
            self.reply(response(501, request.cseq, {"Public": PUBLIC}))
            return
        handler(camera, request)

    def _resume(self, request: Request) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.handle(request)

    def authorized(self, camera: Camera, request: Request) -> bool:
        if camera.fault_kind == "auth":
            return False  # the camera's password "changed": every credential is now wrong
        if not camera.sim.username:
            return True
        header = request.headers.get("authorization")
        return auth.is_authorized(header, request.method, camera.sim.username, camera.sim.password, self.server.nonce)

    def on_describe(self, camera: Camera, request: Request) -> None:
        clip = camera.normal_clip
        body = sdp(camera.stream.name, self.server.host, clip.parameter_sets, clip.fps)
        base = request.url.rstrip("/") + "/"
        headers = {"Content-Type": "application/sdp", "Content-Base": base}
        self.reply(response(200, request.cseq, headers, body))

    def on_setup(self, camera: Camera, request: Request) -> None:
        wanted = parse_transport(request.headers.get("transport", ""))
        if wanted is None:
            self.reply(response(461, request.cseq))
            return
        udp = _udp_socket(self.server.host) if wanted.client_ports else None
        session = Session(camera, self, wanted, udp)
        old = self.sessions.pop(request.headers.get("session", "").split(";")[0], None)
        if old is not None:
            old.stop()
        self.sessions[session.id] = session
        if wanted.interleaved:
            transport = f"RTP/AVP/TCP;unicast;interleaved={wanted.interleaved[0]}-{wanted.interleaved[1]}"
        else:
            assert udp is not None and wanted.client_ports is not None  # no interleave: UDP, with client ports
            port = udp.getsockname()[1]
            ports = wanted.client_ports
            transport = f"RTP/AVP;unicast;client_port={ports[0]}-{ports[1]};server_port={port}-{port + 1}"
        transport += f";ssrc={camera.ssrc:08X}"
        session_header = f"{session.id};timeout={self.server.announced_timeout}"
        self.reply(response(200, request.cseq, {"Transport": transport, "Session": session_header}))

    def _session(self, request: Request) -> Session | None:
        session = self.sessions.get(request.headers.get("session", "").split(";")[0])
        if session is None:
            self.reply(response(454, request.cseq))
        return session

    def on_play(self, camera: Camera, request: Request) -> None:
        session = self._session(request)
        if session is None:
            return
        if not session.playing:
            session.playing = True
            camera.add_viewer(session, asyncio.get_running_loop().time())
        info = f"url={request.url.rstrip('/')}/trackID=0;seq={camera.seq};rtptime={camera.timestamp}"
        headers = {"Session": session.id, "Range": "npt=now-", "RTP-Info": info}
        self.reply(response(200, request.cseq, headers))

    def on_pause(self, camera: Camera, request: Request) -> None:
        session = self._session(request)
        if session is not None:
            camera.remove_viewer(session)
            session.playing = False
            self.reply(response(200, request.cseq, {"Session": session.id}))

    def on_teardown(self, camera: Camera, request: Request) -> None:
        session = self.sessions.pop(request.headers.get("session", "").split(";")[0], None)
        if session is not None:
            session.stop()
        self.reply(response(200, request.cseq))

    def on_get_parameter(self, camera: Camera, request: Request) -> None:
        self.reply(response(200, request.cseq))

    on_set_parameter = on_get_parameter


def _udp_socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.setblocking(False)
    return sock
