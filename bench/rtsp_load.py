"""A minimal RTSP/TCP load client: many sessions on one event loop, counting frames and bytes.

Used by the simulator benchmark where a real decoder per stream would cost
far more CPU than the server under test. Runs on its own event loop in the
benchmark process; it never decodes, it only counts RTP marker bits.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass


@dataclass
class Counter:
    frames: int = 0
    bytes: int = 0
    error: str = ""


async def _request(reader, writer, method: str, url: str, cseq: int, extra: str = "") -> dict[str, str]:
    writer.write(f"{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\n{extra}\r\n".encode())
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    status = head.split(" ", 2)[1]
    headers = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    if status != "200":
        raise ConnectionError(f"{method} {url}: {status}")
    return headers


async def play(url: str, counter: Counter, stop: asyncio.Event) -> None:
    """DESCRIBE, SETUP (interleaved), PLAY, then count frames until `stop`."""
    host_port = url.split("/")[2]
    host, port = host_port.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        await _request(reader, writer, "DESCRIBE", url, 1, "Accept: application/sdp\r\n")
        setup = await _request(
            reader, writer, "SETUP", url + "/trackID=0", 2, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
        )
        session = setup["session"].split(";")[0]
        await _request(reader, writer, "PLAY", url, 3, f"Session: {session}\r\n")
        while not stop.is_set():
            head = await reader.readexactly(4)
            size = struct.unpack(">H", head[2:])[0]
            packet = await reader.readexactly(size)
            counter.bytes += size + 4
            if packet[1] & 0x80:
                counter.frames += 1
    except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
        counter.error = str(exc) or type(exc).__name__
    finally:
        writer.close()
