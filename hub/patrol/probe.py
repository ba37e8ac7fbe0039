"""The probe: is a camera there, does it know the stream, does it take our password? No media.

Runs on the event loop (asyncio streams, no thread). One probe is a TCP connect, `OPTIONS`, then
`DESCRIBE` (answering a 401 challenge once, on the same connection), then close: a few hundred bytes
and two or three round trips, cheap enough to run for every patrolled camera every `probe_interval_s`.
The outcome is one of the contract's reason codes, so a failed probe reads like a failed connection:

| outcome | when |
|---|---|
| `ok` | DESCRIBE answered 200 |
| `unreachable` | no TCP connection (refused, no route, DNS), or an answer that is not RTSP, or another error status |
| `stalled` | connected, but no complete answer within the timeout (a hung camera) |
| `not_found` | 404 |
| `auth_failed` | 401 with no credentials, or still 401 after answering the challenge; 403 |

Credentials never leave this module: request URIs carry none, and messages show the redacted URL.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from hub.ingest.observations import AUTH_FAILED, NOT_FOUND, STALLED, UNREACHABLE
from hub.patrol import rtsp_messages as m
from hub.safe.redact import redact_url

OK = "ok"
DEFAULT_TIMEOUT_S = 5.0
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class ProbeResult:
    outcome: str  # "ok" or a reason code
    message: str  # for people; never holds credentials
    status: int | None = None  # the last RTSP status, when there was one
    seconds: float = 0.0


@dataclass(frozen=True)
class Target:
    uri: str  # the URL without credentials, as sent in requests
    shown: str  # the URL as people see it: credentials redacted
    host: str
    port: int
    username: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> Target:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port:
            netloc += f":{parts.port}"
        uri = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        username, password = unquote(parts.username or ""), unquote(parts.password or "")
        return cls(uri, redact_url(url), parts.hostname or "", parts.port or 554, username, password)


async def probe(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> ProbeResult:
    """Probe one camera; never raises for anything the camera or the network does."""
    started = time.monotonic()
    target = Target.from_url(url)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(target.host, target.port), timeout_s)
    except (OSError, TimeoutError) as exc:
        return ProbeResult(UNREACHABLE, f"{target.shown}: cannot connect ({_why(exc)})", None, time.monotonic() - started)
    try:
        outcome, message, status = await asyncio.wait_for(_Exchange(reader, writer, target).run(), timeout_s)
    except TimeoutError:
        outcome, message, status = STALLED, f"{target.shown}: connected, but no answer within {timeout_s:g} s", None
    except m.NotRtsp as exc:
        outcome, message, status = UNREACHABLE, f"{target.shown}: {exc}", None
    except (OSError, asyncio.IncompleteReadError) as exc:
        outcome, message, status = UNREACHABLE, f"{target.shown}: connection lost ({_why(exc)})", None
    finally:
        writer.close()
    return ProbeResult(outcome, message, status, time.monotonic() - started)


class _Exchange:
    """One probe's requests on one connection; answers a 401 challenge once and reuses it for the next method."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: Target):
        self.reader, self.writer, self.target = reader, writer, target
        self.cseq = 1
        self.challenges: list[str] = []

    async def run(self) -> tuple[str, str, int]:
        for method in ("OPTIONS", "DESCRIBE"):
            verdict = _judge(await self.ask(method), self.target, method)
            if verdict is not None:
                return verdict
        return OK, f"{self.target.shown}: answers DESCRIBE", 200

    async def ask(self, method: str) -> m.Response:
        response = await self._send(method)
        if response.status == 401 and self.target.username and not self.challenges:
            self.challenges = response.headers.get("www-authenticate", [])
            response = await self._send(method)
        return response

    async def _send(self, method: str) -> m.Response:
        target = self.target
        auth = m.authorization(self.challenges, method, target.uri, target.username, target.password) if self.challenges else None
        self.writer.write(m.request(method, target.uri, self.cseq, auth))
        self.cseq += 1
        await self.writer.drain()
        return await _read_response(self.reader)


def _judge(response: m.Response, target: Target, method: str) -> tuple[str, str, int] | None:
    """The outcome a response settles, or None to go on (OPTIONS answered, or not required)."""
    status = response.status
    what = f"{target.shown}: {method} answered {status} {response.reason}".rstrip()
    if status == 200:
        return None if method == "OPTIONS" else (OK, what, status)
    if status in (401, 403):
        return AUTH_FAILED, what + ("" if target.username else " (no credentials configured)"), status
    if status == 404:
        return NOT_FOUND, what, status
    if method == "OPTIONS" and status in (405, 501):  # OPTIONS is optional for some cameras; DESCRIBE decides
        return None
    return UNREACHABLE, what, status


async def _read_response(reader: asyncio.StreamReader) -> m.Response:
    buffer = bytearray()
    while (length := m.head_length(bytes(buffer))) is None:
        chunk = await reader.read(4096)
        if not chunk:
            raise asyncio.IncompleteReadError(bytes(buffer), None)
        buffer += chunk
    response = m.parse_head(bytes(buffer[:length]))
    body = min(m.content_length(response), MAX_BODY_BYTES) - (len(buffer) - length)
    if body > 0:
        await reader.readexactly(body)  # an SDP: read so the camera is not cut off mid-write
    return response


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "closed by the camera"
    return getattr(exc, "strerror", None) or exc.__class__.__name__
