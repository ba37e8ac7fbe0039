"""RTSP client messages for the probe: requests out, responses in, and answers to auth challenges. Pure functions.

Digest follows RFC 2617 (MD5, with `qop="auth"` when the camera offers it, without when it does not, as
most IP cameras do); Basic is used only when the camera offers nothing else.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field

from hub.patrol import digest_auth
from hub.safe.numbers import ascii_int

MAX_HEAD_BYTES = 16 * 1024
USER_AGENT = "hub-probe"
_STATUS = re.compile(rb"^RTSP/1\.\d (\d{3}) ?([^\r\n]*)$")


class NotRtsp(Exception):
    """The peer answered, but not in RTSP."""


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-case names, every value kept

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def request(method: str, uri: str, cseq: int, authorization: str | None = None) -> bytes:
    lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {cseq}", f"User-Agent: {USER_AGENT}"]
    if method == "DESCRIBE":
        lines.append("Accept: application/sdp")
    if authorization:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def head_length(buffer: bytes) -> int | None:
    """Bytes up to and including the blank line that ends a response's head; None while incomplete."""
    if len(buffer) >= 5 and not buffer.startswith(b"RTSP/"):
        raise NotRtsp(f"not an RTSP answer: {bytes(buffer[:40])!r}")
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEAD_BYTES:
            raise NotRtsp(f"response head longer than {MAX_HEAD_BYTES} bytes")
        return None
    return end + 4


def parse_head(head: bytes) -> Response:
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    match = _STATUS.match(lines[0])
    if match is None:
        raise NotRtsp(f"not an RTSP answer: {lines[0][:40]!r}")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    return Response(int(match.group(1)), match.group(2).decode("latin-1"), headers)


def content_length(response: Response) -> int:
    return ascii_int(response.header("content-length")) or 0


def authorization(
    challenges: list[str], method: str, uri: str, username: str, password: str, cnonce: str | None = None
) -> str | None:
    """The Authorization header answering the camera's WWW-Authenticate `challenges`; None if none is usable."""
    offered = {c.partition(" ")[0].lower(): c.partition(" ")[2] for c in reversed(challenges)}
    if "digest" in offered:
        params = digest_auth.parameters(offered["digest"])
        if "nonce" in params and params.get("algorithm", "MD5").upper() == "MD5":
            return _digest(params, method, uri, username, password, cnonce or os.urandom(8).hex())
    if "basic" in offered:
        return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    return None


def _digest(params: dict[str, str], method: str, uri: str, username: str, password: str, cnonce: str) -> str:
    realm, nonce = params.get("realm", ""), params["nonce"]
    fields = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if "auth" in [q.strip() for q in params.get("qop", "").split(",")]:
        nc = "00000001"
        answer = digest_auth.response((username, password), realm, method, uri, nonce, (nc, cnonce))
        fields += [f'response="{answer}"', "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        fields.append(f'response="{digest_auth.response((username, password), realm, method, uri, nonce)}"')
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    return "Digest " + ", ".join(fields + ['algorithm="MD5"'])
