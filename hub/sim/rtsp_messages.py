"""Pure RTSP/1.0 message helpers (RFC 2326): request parsing, responses, SDP, RTP headers. No I/O."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from hub.safe.numbers import ascii_int
from hub.sim import nal

MAX_HEADER_BYTES = 16 * 1024
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    461: "Unsupported Transport",
    501: "Not Implemented",
    503: "Service Unavailable",
}
PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"


class MalformedRequest(Exception):
    """The peer sent something that is not RTSP; the connection should be closed."""


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    @property
    def cseq(self) -> str:
        return self.headers.get("cseq", "0")

    @property
    def stream_id(self) -> str:
        """The first path segment names the stream: rtsp://host/<id>/trackID=0."""
        return self._segments[0]

    @property
    def feed_path(self) -> str:
        """Which feed of the stream: `<id>` (main) or `<id>/sub` (rtsp://host/<id>/sub/trackID=0)."""
        segments = self._segments
        return f"{segments[0]}/sub" if len(segments) > 1 and segments[1] == "sub" else segments[0]

    @property
    def _segments(self) -> list[str]:
        path = urlsplit(self.url).path if "://" in self.url else self.url
        return path.strip("/").split("/")


def take_interleaved(buffer: bytearray) -> bool | None:
    """Drop one `$`-framed binary packet (the client's RTCP) from `buffer`.

    Returns True when one was removed, None when more bytes are needed.
    """
    if len(buffer) < 4:
        return None
    size = struct.unpack_from(">H", buffer, 2)[0]
    if len(buffer) < 4 + size:
        return None
    del buffer[: 4 + size]
    return True


def take_request(buffer: bytearray) -> Request | None:
    """Parse and remove one complete request from `buffer`; None when more bytes are needed."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEADER_BYTES:
            raise MalformedRequest("request header too large")
        return None
    lines = bytes(buffer[:end]).decode("utf-8", "replace").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("RTSP/"):
        raise MalformedRequest(f"bad request line {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise MalformedRequest(f"bad header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length", "0")
    if ascii_int(length) is None:
        raise MalformedRequest("bad Content-Length")
    total = end + 4 + int(length)
    if len(buffer) < total:
        return None
    body = bytes(buffer[end + 4 : total])
    del buffer[:total]
    return Request(parts[0].upper(), parts[1], headers, body)


def response(status: int, cseq: str, headers: dict[str, str] | list[tuple[str, str]] | None = None, body: bytes = b"") -> bytes:
    """A response; `headers` as a list of pairs may repeat a name (two WWW-Authenticate challenges)."""
    lines = [f"RTSP/1.0 {status} {REASONS.get(status, 'Error')}", f"CSeq: {cseq}", "Server: hub-sim"]
    pairs = headers.items() if isinstance(headers, dict) else headers or []
    for name, value in pairs:
        lines.append(f"{name}: {value}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sdp(title: str, host: str, params: nal.ParameterSets, fps: int) -> bytes:
    """Session description of a single live video track."""
    encoding = "H264" if params.codec == nal.H264 else "H265"
    safe_title = "".join(c for c in title if c >= " ") or "-"
    lines = [
        "v=0",
        f"o=- 0 0 IN IP4 {host}",
        f"s={safe_title}",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        "a=range:npt=now-",
        "m=video 0 RTP/AVP 96",
        f"a=rtpmap:96 {encoding}/90000",
        f"a=fmtp:96 {params.fmtp()}",
        f"a=framerate:{fps}",
        "a=control:trackID=0",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


@dataclass(frozen=True)
class TransportRequest:
    """What a SETUP asked for: interleaved channels over TCP, or UDP client ports."""

    interleaved: tuple[int, int] | None
    client_ports: tuple[int, int] | None


def parse_transport(value: str) -> TransportRequest | None:
    """Pick the first transport spec we support from a SETUP `Transport` header."""
    for spec in value.split(","):
        fields = [f.strip() for f in spec.split(";")]
        profile = fields[0].upper()
        params = dict(f.partition("=")[::2] for f in fields[1:])
        if profile == "RTP/AVP/TCP":
            channels = _pair(params.get("interleaved", "0-1"))
            if channels and all(c < 256 for c in channels):
                return TransportRequest(channels, None)
        elif profile in ("RTP/AVP", "RTP/AVP/UDP") and "multicast" not in params:
            ports = _pair(params.get("client_port", ""))
            if ports:
                return TransportRequest(None, ports)
    return None


def _pair(text: str) -> tuple[int, int] | None:
    first, _, second = text.partition("-")
    if ascii_int(first) is None:
        return None
    low = int(first)
    high = int(second) if ascii_int(second) is not None else low + 1
    return (low, high) if 0 <= low <= 65535 and 0 <= high <= 65535 else None


_RTP_HEADER = struct.Struct(">BBHII")
PAYLOAD_TYPE = 96


def rtp_packet(payload: bytes, marker: bool, seq: int, timestamp: int, ssrc: int) -> bytes:
    """RTP version 2 header (RFC 3550) + payload."""
    second = PAYLOAD_TYPE | (0x80 if marker else 0)
    return _RTP_HEADER.pack(0x80, second, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload


def interleave(channel: int, packets: list[bytes]) -> bytes:
    """Frame packets for RTP over the RTSP TCP connection (RFC 2326 section 10.12)."""
    head = bytes((0x24, channel))
    return b"".join(head + len(p).to_bytes(2, "big") + p for p in packets)
