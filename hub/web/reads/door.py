"""The read door's process: `python -m hub.web.reads.door LISTEN CONTROL HANDOFF LEVEL FORMAT` (descriptors
the hub passed, and how it logs), started by `hub.web.reads.keeper` in a session of its own (Ctrl-C is
the hub's to handle) and ended by it. One event loop, nothing else on it.

- LISTEN: the hub's listening socket. Every connection is accepted here; its first request is peeked
  at (MSG_PEEK: nothing is read) as soon as it arrives, or after `WAIT_FOR_REQUEST_S` it goes to the hub.
  A connection the door answered stays open for the client's next request (HTTP/1.1 keep-alive), which
  is peeked at the same way, until it has been idle as long as the hub lets a connection idle.
- CONTROL: the hub's messages, in order: `hello` (the users' database, the headers, the idle limit), `records`
  (a batch of the index's copy), `sessions` (the table of signed-in sessions), `sync` (answered with
  `synced` once everything before it is applied). The door ends when the hub closes it.
- HANDOFF: a packet socket back to the hub: each connection the door does not answer (its descriptor
  rides along), `up` once started, sessions the door served (`seen`), tokens it saw used (`token_used`),
  `synced`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
import sys
import time

from hub import logs
from hub.auth.addresses import client_address
from hub.web.reads import wire
from hub.web.reads.answers import LIST_TYPE, RECORD_TYPE, DoorIndex, response_head
from hub.web.reads.credentials import DoorCredentials
from hub.web.reads.request import ReadRequest, parse_read

log = logging.getLogger("hub.web.reads")

WAIT_FOR_REQUEST_S = 0.5  # a connection silent this long (a browser's preconnect) goes to the hub
MAX_WAITING = 1024  # connections waiting for a request (new, or kept after an answer); more go straight to the hub
PEEK_BYTES = 16384  # a request whose headers do not fit goes to the hub
SEND_TIMEOUT_S = 30.0
MAX_SENDING = 1024  # answers being sent at once (slow readers); beyond, connections go to the hub and its caps
REPORT_EVERY_S = 1.0
TOKEN_REPORT_EVERY_S = 60.0  # the hub records a token's use once per ten minutes anyway


class Door:
    def __init__(self, listen: socket.socket, handoff: socket.socket):
        self.loop = asyncio.get_running_loop()
        self.listen, self.handoff = listen, handoff
        self.index = DoorIndex()
        self.credentials: DoorCredentials | None = None
        self.csp = ""
        self.proxies: tuple = ()
        self.idle_s = 10.0  # how long a kept connection may wait for its next request (the hub's keep-alive)
        self.ready = False  # accepting: from the first copy of the index on
        self.waiting: dict[socket.socket, asyncio.TimerHandle] = {}
        self.outbox: collections.deque[tuple[bytes, socket.socket | None]] = collections.deque()
        self.writing = False
        self.tokens_reported: dict[tuple, float] = {}
        self.served = self.handed = 0
        self.tasks: set[asyncio.Task] = set()

    # -- the hub's messages ------------------------------------------------------------------------
    async def follow(self, reader: asyncio.StreamReader) -> None:
        while (message := await wire.read_frame(reader)) is not None:
            kind = message[0]
            if kind == "hello":
                _, users_db, settings, self.csp, self.proxies, self.idle_s = message
                self.credentials = DoorCredentials(users_db, settings)
            elif kind == "records":
                self.index.apply(*message[1:])
                if not self.ready and self.credentials is not None:
                    self.ready = True  # a copy taken after the door was up: only now does it accept
                    self.loop.add_reader(self.listen, self._accept)
            elif kind == "sessions" and self.credentials is not None:
                self.credentials.follow(*message[1:])
            elif kind == "sync":
                self._send(("synced", message[1], self.served, self.handed))

    async def report_forever(self) -> None:
        """Tell the hub which sessions the door served (their idle clocks restart there too)."""
        reported = 0.0
        while True:
            await asyncio.sleep(REPORT_EVERY_S)
            if self.credentials is None:
                continue
            used = [sid for sid, at in self.credentials.used.items() if at > reported]
            reported = time.time()
            self._send(("seen", used, self.served, self.handed))

    # -- connections -------------------------------------------------------------------------------
    def _accept(self) -> None:
        for _ in range(64):  # a burst, then a turn for the rest
            try:
                conn, _ = self.listen.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors, say: the hub logs its own too
                log.warning("read door: accept failed: %s", exc)
                return
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as aiohttp's own connections
            if self._take(conn):  # the request is usually here already: no second turn of the loop for it
                continue
            if len(self.waiting) >= MAX_WAITING:
                self._hand_over(conn)
                continue
            self.waiting[conn] = self.loop.call_later(WAIT_FOR_REQUEST_S, self._give_up, conn)
            self.loop.add_reader(conn, self._arrived, conn)

    def _give_up(self, conn: socket.socket) -> None:
        self.loop.remove_reader(conn)
        self.waiting.pop(conn, None)
        self._hand_over(conn)

    def _arrived(self, conn: socket.socket) -> None:
        self.loop.remove_reader(conn)
        self.waiting.pop(conn).cancel()
        if not self._take(conn):
            self._hand_over(conn)  # readable, yet nothing to peek at: the hub sorts it out

    def _take(self, conn: socket.socket) -> bool:
        """Peek at the connection's first bytes and deal with it: answer, hand over, or close it. False
        when nothing has arrived yet."""
        try:
            data = conn.recv(PEEK_BYTES, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            conn.close()
            return True
        if data == b"":  # closed before it asked anything
            conn.close()
            return True
        answer = self._answer(conn, parse_read(data)) if len(self.tasks) < MAX_SENDING else None  # head, body, keep
        if answer is None:
            self._hand_over(conn)
            return True
        self.served += 1
        task = self.loop.create_task(self._reply(conn, *answer))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return True

    def _answer(self, conn: socket.socket, read: ReadRequest | None) -> tuple[bytes, bytes, bool] | None:
        """(head, body, keep the connection) when the door answers this request (then read from the
        socket), else None."""
        if read is None or self.credentials is None:
            return None
        caller = self.credentials.caller(read.bearer, read.session)
        if caller is None or not caller.rights.can("watch"):  # a reporter: the hub refuses it
            return None
        if read.stream_id is None:
            body, kind = self.index.listing(caller.rights, read.category, read.state, read.query), LIST_TYPE
        else:
            found = self.index.record(caller.rights, read.stream_id)
            if found is None:
                return None
            body, kind = found, RECORD_TYPE
        if caller.token_id is not None:
            self._token_used(conn, caller.token_id, read)
        conn.recv(read.length)  # the request, all of it already here: read it now, as answered
        keep = read.keep_alive and len(self.waiting) + len(self.tasks) < MAX_WAITING
        return response_head(body, kind, self.csp, keep), body, keep

    def _token_used(self, conn: socket.socket, token_id: str, read: ReadRequest) -> None:
        try:
            peer = conn.getpeername()[0]
        except OSError:
            return
        address = client_address(peer, read.forwarded_for, self.proxies)
        key, now = (token_id, address, read.path), time.monotonic()
        if now - self.tokens_reported.get(key, -TOKEN_REPORT_EVERY_S) >= TOKEN_REPORT_EVERY_S:
            if len(self.tokens_reported) > 10_000:
                self.tokens_reported.clear()
            self.tokens_reported[key] = now
            self._send(("token_used", token_id, address, read.path))

    async def _reply(self, conn: socket.socket, head: bytes, body: bytes, keep: bool) -> None:
        try:
            await asyncio.wait_for(self._send_all(conn, head, body), SEND_TIMEOUT_S)
            if keep:
                self._keep(conn)
                return
            conn.shutdown(socket.SHUT_WR)
        except (TimeoutError, OSError):
            pass
        conn.close()

    def _keep(self, conn: socket.socket) -> None:
        """Wait for the connection's next request as for a new one's first, but one idle too long is
        closed (as the hub closes its own), not handed over."""
        self.waiting[conn] = self.loop.call_later(self.idle_s, self._close_idle, conn)
        self.loop.add_reader(conn, self._arrived, conn)

    def _close_idle(self, conn: socket.socket) -> None:
        self.loop.remove_reader(conn)
        self.waiting.pop(conn, None)
        conn.close()

    async def _send_all(self, conn: socket.socket, head: bytes, body: bytes) -> None:
        """Head and body in one system call where the socket takes them (usually: no copy, one segment
        for a record), the rest as the client reads."""
        try:
            sent = conn.sendmsg([head, body])
        except (BlockingIOError, InterruptedError):
            sent = 0
        if sent < len(head):
            await self.loop.sock_sendall(conn, memoryview(head)[sent:])
            sent = len(head)
        if sent - len(head) < len(body):
            await self.loop.sock_sendall(conn, memoryview(body)[sent - len(head) :])

    # -- back to the hub ---------------------------------------------------------------------------
    def _hand_over(self, conn: socket.socket) -> None:
        self.handed += 1
        self._queue(wire.packet(("conn",)), conn)

    def _send(self, message: tuple) -> None:
        self._queue(wire.packet(message), None)

    def _queue(self, payload: bytes, conn: socket.socket | None) -> None:
        self.outbox.append((payload, conn))
        if not self.writing:
            self._flush()

    def _flush(self) -> None:
        while self.outbox:
            payload, conn = self.outbox[0]
            try:
                if conn is None:
                    self.handoff.send(payload)
                else:
                    socket.send_fds(self.handoff, [payload], [conn.fileno()])
            except (BlockingIOError, InterruptedError):
                if not self.writing:
                    self.writing = True
                    self.loop.add_writer(self.handoff, self._flush)
                return
            except OSError:  # the hub is gone: the door ends with its control stream
                self.outbox.clear()
                break
            self.outbox.popleft()
            if conn is not None:
                conn.close()  # the hub has its own descriptor now
        if self.writing:
            self.writing = False
            self.loop.remove_writer(self.handoff)


async def _run(listen_fd: int, control_fd: int, handoff_fd: int) -> None:
    listen = socket.socket(fileno=listen_fd)
    listen.setblocking(False)
    handoff = socket.socket(fileno=handoff_fd)
    handoff.setblocking(False)
    reader, writer = await asyncio.open_unix_connection(sock=socket.socket(fileno=control_fd))
    door = Door(listen, handoff)
    door._send(("up",))  # the hub takes its first copy of the index now, not before the door could use it
    reports = asyncio.get_running_loop().create_task(door.report_forever())
    try:
        await door.follow(reader)
    finally:
        reports.cancel()
        if door.credentials is not None:
            door.credentials.close()
        writer.close()


def main(argv: list[str]) -> int:
    listen_fd, control_fd, handoff_fd = (int(a) for a in argv[:3])
    logs.setup(int(argv[3]), argv[4], role="read-door")  # as the hub logs
    asyncio.run(_run(listen_fd, control_fd, handoff_fd))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
