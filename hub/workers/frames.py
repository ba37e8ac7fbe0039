"""The framing of a worker's result pipe, owned on both ends: an 8-byte big-endian length, then that
many bytes of pickle.

Who runs where: `write_frame` runs on a worker's result-writing thread (a blocking pipe);
`FrameReader.read` runs in the hub loop's reader callback for the pipe's file descriptor
(non-blocking). The reader takes whatever the pipe holds, keeps a partial frame for the next call, and
returns the whole ones. A thread blocking on `recv` would hold the interpreter lock while it
unpickles, and when the kernel preempts it there, the loop waits for its turn on a busy machine: tens
of milliseconds. Both ends are here, so neither depends on how `multiprocessing.Connection` frames
its messages.
"""

from __future__ import annotations

import os
import pickle
import struct

READ_BYTES = 1 << 20
HEADER = struct.Struct("!Q")
MAX_FRAME = 1 << 31  # a bundle is a tenth of a second of a worker's feeds: megabytes at most


class FrameError(Exception):
    """The pipe's bytes are not frames of this module: the writer is not a hub worker of this version."""


def encode(obj: object) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


def write_frame(fd: int, obj: object) -> None:
    """Write one frame to a blocking pipe (all of it; OSError once the reader has gone)."""
    data = memoryview(encode(obj))
    while data:
        data = data[os.write(fd, data) :]


class FrameReader:
    def __init__(self, fd: int):
        self.fd = fd
        os.set_blocking(fd, False)
        self._buffer = bytearray()

    def read(self) -> list[bytes] | None:
        """The whole frames' payloads available now ([] if none yet), or None once the writer has gone (EOF).
        FrameError for a length no writer of this module sends."""
        try:
            data = os.read(self.fd, READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            return None
        if not data:
            return None
        buffer = self._buffer
        buffer += data
        frames = []
        while len(buffer) >= HEADER.size:
            size = HEADER.unpack_from(buffer)[0]
            if size > MAX_FRAME:
                raise FrameError(f"a frame of {size} bytes")
            if len(buffer) < HEADER.size + size:
                break
            frames.append(bytes(buffer[HEADER.size : HEADER.size + size]))
            del buffer[: HEADER.size + size]
        return frames
