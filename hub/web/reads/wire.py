"""Messages between the hub and its read door: pickled tuples, framed by length on the hub's stream to
the door, one per packet (with a connection's descriptor when one is handed over) on the way back.

Both ends are the hub's own processes, started together and joined by socket pairs nobody else holds.
"""

from __future__ import annotations

import asyncio
import pickle
import struct

HEADER = struct.Struct("!I")
MAX_PACKET = 65536  # door -> hub: reports and handed-over connections, small


def frame(message: tuple) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> tuple | None:
    """The next message, or None at the end of the stream (the hub is gone)."""
    try:
        size = HEADER.unpack(await reader.readexactly(HEADER.size))[0]
        return pickle.loads(await reader.readexactly(size))
    except asyncio.IncompleteReadError:
        return None


def packet(message: tuple) -> bytes:
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def unpacket(data: bytes) -> tuple:
    return pickle.loads(data)
