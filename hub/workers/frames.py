"""Reading a worker's result pipe on the event loop, without a thread and without blocking.

Who runs where: `FrameReader.read` runs in the loop's reader callback for the pipe's file descriptor.
The worker writes with `multiprocessing.Connection.send`, whose frames are a 4-byte big-endian length
(or -1 and an 8-byte length for frames over 2 GiB) followed by that many bytes of pickle. The reader
takes whatever the pipe holds, keeps a partial frame for the next call, and returns the whole ones.
A thread blocking on `recv` would hold the interpreter lock while it unpickles, and when the kernel
preempts it there, the loop waits for its turn on a busy machine: tens of milliseconds.
"""

from __future__ import annotations

import os
import struct

READ_BYTES = 1 << 20
SHORT, LONG = struct.Struct("!i"), struct.Struct("!Q")


class FrameReader:
    def __init__(self, fd: int):
        self.fd = fd
        os.set_blocking(fd, False)
        self._buffer = bytearray()

    def read(self) -> list[bytes] | None:
        """The whole frames available now ([] if none yet), or None once the writer has gone (EOF)."""
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
        while len(buffer) >= SHORT.size:
            size, header = SHORT.unpack_from(buffer)[0], SHORT.size
            if size == -1:
                if len(buffer) < SHORT.size + LONG.size:
                    break
                size, header = LONG.unpack_from(buffer, SHORT.size)[0], SHORT.size + LONG.size
            if len(buffer) < header + size:
                break
            frames.append(bytes(buffer[header : header + size]))
            del buffer[: header + size]
        return frames
