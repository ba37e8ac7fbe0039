"""The hub's side of the read door: start it, keep its copy of the index and sessions fresh, take the
connections it hands over, and listen in its place if it dies.

Who runs where: the hub's event loop. `create_app` makes one `ReadDoor` per app (idle); whoever serves
the app calls `serve_on` with the bound socket (`hub serve`, and the tests' running hub, the same way).
Over TLS the door cannot read requests, so aiohttp listens alone, as it does if the door fails to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import subprocess
import sys
import time

from aiohttp import web

from hub import logs
from hub.auth.rights import Rights
from hub.auth.service import AccessService, Principal
from hub.index import Index
from hub.web.reads import wire
from hub.web.reads.answers import DoorIndex
from hub.web.reads.copier import RecordCopier
from hub.web.server import ConnectionCap

log = logging.getLogger("hub.web.reads")

PUBLISH_EVERY_S = 0.1  # the door's copy of the index is at most about this much behind
SESSIONS_AGAIN_S = 10.0  # the session table goes again this often (idle clocks restarted by the hub's own requests)
START_TIMEOUT_S = 20.0
BURST = 64  # connections accepted in one turn of the loop
ACCEPT_PAUSE_S = 1.0
SYNC_TIMEOUT_S = 2.0
STOP_TIMEOUT_S = 5.0


class ReadDoor:
    def __init__(
        self, index: Index, access: AccessService, cap: ConnectionCap, content_security_policy: str, proxies: tuple, idle_s: float
    ):
        self.index, self.access, self.cap = index, access, cap
        self.csp, self.proxies = content_security_policy, proxies
        self.idle_s = idle_s  # how long a kept-alive connection may idle, in the door as in the hub
        self.running = False
        self.served = self.handed = 0  # as the door last reported
        self.failure = ""
        self._runner: web.AppRunner | None = None
        self._sock: socket.socket | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._handoff: socket.socket | None = None
        self._syncs: dict[int, asyncio.Future] = {}
        self._sync_seq = 0
        self._tasks: set[asyncio.Task] = set()
        self._stopping = False
        self._listening = False  # the hub accepts on the socket itself (before the door is up, or after it died)
        self._sessions_sent: tuple = (-1, None, 0.0)  # (changes, settings, when) of the table last sent
        self._up: asyncio.Future | None = None  # the door process started (made on the loop in `open`)
        self.copy = DoorIndex()  # the copy last sent: the hub answers the same reads from it while the door runs
        self._applied = -1  # the index version both copies show at least
        self._applied_event = asyncio.Event()  # set (and replaced) whenever `_applied` moves

    @property
    def pid(self) -> int | None:
        """The door process, while it runs."""
        return self._process.pid if self._process is not None and self.running else None

    def status(self) -> dict:
        """For /healthz (admins): whether the door answers reads, and how many it answered and handed over."""
        return {"running": self.running, "served": self.served, "handed_over": self.handed, "failure": self.failure}

    async def open(self, runner: web.AppRunner, sock: socket.socket) -> None:
        """Serve on the bound `sock`: the hub accepts there itself until the door has its first copy of
        the index (a start is never slower for the door), then the door does; if the door cannot start
        or dies, the hub goes on accepting itself."""
        self._runner, self._sock = runner, sock
        self._listen_here(True)
        try:
            await self._start_process()
        except OSError as exc:
            await self._give_up(f"the read door did not start ({exc})")
            return
        self._up = asyncio.get_running_loop().create_future()
        self._spawn(self._watch())
        self._spawn(self._first_copy())

    async def _start_process(self) -> None:
        assert self._sock is not None
        control, control_door = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        handoff, handoff_door = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fds = (self._sock.fileno(), control_door.fileno(), handoff_door.fileno())
        try:
            level, fmt = str(logging.getLogger().getEffectiveLevel()), logs.current_format()
            self._process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "hub.web.reads.door", *map(str, fds), level, fmt),
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in the terminal reaches the hub, which ends the door
            )
        except OSError:
            control.close()
            handoff.close()
            raise
        finally:
            control_door.close()
            handoff_door.close()
        _, self._writer = await asyncio.open_unix_connection(sock=control)
        handoff.setblocking(False)
        self._handoff = handoff
        asyncio.get_running_loop().add_reader(handoff, self._receive)

    async def _first_copy(self) -> None:
        assert self._up is not None
        try:
            await asyncio.wait_for(self._up, START_TIMEOUT_S)
        except TimeoutError:
            await self._give_up(f"the read door did not start within {START_TIMEOUT_S:.0f} s")
            return
        self._write(("hello", self.access.users.path, self.access.settings, self.csp, self.proxies, self.idle_s))
        copier, version = RecordCopier(self.index), self.index.version
        await self._send_records(copier, first=True)
        self._send_sessions()
        if not await self._acked(START_TIMEOUT_S):
            await self._give_up(f"the read door did not answer within {START_TIMEOUT_S:.0f} s of its start")
            return
        self._note_applied(version)
        self.running = True
        self._listen_here(False)
        await self._publish_forever(copier, version)

    def _listen_here(self, on: bool) -> None:
        if self._sock is None or on == self._listening:
            return
        loop = asyncio.get_running_loop()
        if on:
            loop.add_reader(self._sock, self._accept_here)
        else:
            loop.remove_reader(self._sock)
        self._listening = on

    def _accept_here(self) -> None:
        assert self._sock is not None
        for _ in range(BURST):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors, say: pause, or the loop would spin on it
                log.warning("accept failed (%s): the hub pauses accepting for %.0f s", exc, ACCEPT_PAUSE_S)
                self._listen_here(False)
                asyncio.get_running_loop().call_later(ACCEPT_PAUSE_S, self._resume_here)
                return
            self._adopt(conn)

    def _resume_here(self) -> None:
        if not self.running and not self._stopping:
            self._listen_here(True)

    def _spawn(self, work) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _write(self, message: tuple) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(wire.frame(message))

    async def _send_records(self, copier: RecordCopier, first: bool = False) -> None:
        changed, removed, order = await copier.batch()
        if first or changed or removed or order is not None:  # the first, even of no stream, lets the door accept
            self.copy.apply(changed, removed, order)
            self._write(("records", changed, removed, order))

    def published(self) -> DoorIndex | None:
        """While the door runs, the copy it answers from: the hub answers the reads that come its way (on
        a connection it already holds) from the same copy, so that two reads never go back in time."""
        return self.copy if self.running else None

    def _send_sessions(self) -> None:
        sessions = self.access.sessions
        self._write(("sessions", sessions.table(), sessions.idle_s, sessions.max_s, self.access.settings))
        self._sessions_sent = (sessions.changes, self.access.settings, time.monotonic())

    async def _publish_forever(self, copier: RecordCopier, version: int) -> None:
        while True:
            await asyncio.sleep(PUBLISH_EVERY_S)
            changes, settings, at = self._sessions_sent
            changed = (changes, settings) != (self.access.sessions.changes, self.access.settings)
            if changed or time.monotonic() - at > SESSIONS_AGAIN_S:
                self._send_sessions()
            if self.index.version != version:
                version = self.index.version  # the batch has at least every change up to here
                await self._send_records(copier)
                if await self._acked(SYNC_TIMEOUT_S):
                    self._note_applied(version)
            if self._writer is not None:
                try:
                    await self._writer.drain()
                except ConnectionError:
                    return  # the door is gone: `_watch` takes over

    def _note_applied(self, version: int) -> None:
        self._applied = version
        self._applied_event.set()
        self._applied_event = asyncio.Event()

    async def caught_up(self, version: int, timeout: float = SYNC_TIMEOUT_S) -> None:
        """Wait (at most `timeout`) until both copies show the index at `version` or later: a write's answer
        waits for it, so that a read after it never misses what the write did."""
        deadline = time.monotonic() + timeout
        while self.running and self._applied < version:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._applied_event.wait(), left)

    async def sync(self, timeout: float = SYNC_TIMEOUT_S) -> bool:
        """Send the session table now and wait until the door has applied it (signing out returns only then)."""
        if not self.running:
            return True  # no door: nothing else answers with the hub's sessions
        self._send_sessions()
        return await self._acked(timeout)

    async def _acked(self, timeout: float) -> bool:
        """True once the door has applied everything sent so far."""
        if self._writer is None:
            return False
        self._sync_seq += 1
        seq, future = self._sync_seq, asyncio.get_running_loop().create_future()
        self._syncs[seq] = future
        self._write(("sync", seq))
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            log.warning("the read door did not confirm within %.0f s", timeout)
            return False
        finally:
            self._syncs.pop(seq, None)

    def _receive(self) -> None:
        assert self._handoff is not None
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self._handoff, wire.MAX_PACKET, 4, socket.MSG_CMSG_CLOEXEC)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, fds = b"", []
            if not data and not fds:  # the door is gone
                asyncio.get_running_loop().remove_reader(self._handoff)
                return
            for fd in fds:
                self._adopt(socket.socket(fileno=fd))
            self._note(wire.unpacket(data))

    def _adopt(self, conn: socket.socket) -> None:
        """A connection the door handed over (or the hub accepted itself): the hub's own server serves it.
        One over the cap of its address is closed here, its request (already there, peeked) read first
        so that the client sees the connection end, not a reset."""
        if self._runner is None or self._runner.server is None or self._stopping:
            conn.close()
            return
        conn.setblocking(False)
        try:
            peer = conn.getpeername()
        except OSError:  # gone already
            conn.close()
            return
        if self.cap.full(peer):
            with contextlib.suppress(OSError):
                conn.recv(wire.MAX_PACKET)
            conn.close()
            return
        self._spawn(self._connect(conn))

    async def _connect(self, conn: socket.socket) -> None:
        assert self._runner is not None and self._runner.server is not None
        try:
            await asyncio.get_running_loop().connect_accepted_socket(self._runner.server, conn)
        except OSError:
            conn.close()

    def _note(self, message: tuple) -> None:
        kind = message[0]
        if kind == "up":
            if self._up is not None and not self._up.done():
                self._up.set_result(None)
        elif kind == "synced":
            self.served, self.handed = message[2], message[3]
            future = self._syncs.get(message[1])
            if future is not None and not future.done():
                future.set_result(None)
        elif kind == "seen":
            for session_id in message[1]:
                self.access.sessions.get(session_id)  # restarts its idle clock, as a request to the hub would
            self.served, self.handed = message[2], message[3]
        elif kind == "token_used":
            _, token_id, address, path = message
            who, _ = self.access.current(Principal("", Rights("token"), token_id=token_id))
            if who is not None:
                self.access.record_once(who, "token_used", address=address, path=path)

    async def _watch(self) -> None:
        assert self._process is not None
        code = await self._process.wait()
        if not self._stopping:
            await self._give_up(f"the read door ended (exit status {code})")

    async def _give_up(self, why: str) -> None:
        """Without the door: the hub accepts every connection itself, as it did before the door started."""
        self.running = False
        self.failure = why
        if self._stopping:
            return
        log.error("%s: the hub answers every request itself from now on", why)
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        self._listen_here(True)
        await self._close_channels()

    async def _close_channels(self) -> None:
        if self._handoff is not None:
            asyncio.get_running_loop().remove_reader(self._handoff)
            self._handoff.close()
            self._handoff = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._process is not None and self._process.returncode is None:
            try:
                await asyncio.wait_for(self._process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()

    async def close(self) -> None:
        """Stop the door (the hub is stopping): it ends when its control stream does."""
        self._stopping = True
        self.running = False
        self._listen_here(False)
        for task in list(self._tasks):
            task.cancel()
        await self._close_channels()


async def serve_on(runner: web.AppRunner, sock: socket.socket, door: ReadDoor, ssl_context=None) -> None:
    """Serve the set-up `runner` on the bound `sock`: through the read door over plain HTTP; over TLS
    (the door cannot read encrypted requests) aiohttp listens alone."""
    if ssl_context is not None:
        await web.SockSite(runner, sock, ssl_context=ssl_context).start()
    else:
        await door.open(runner, sock)


def writes_reach_the_reads(door: ReadDoor, index: Index):
    """A middleware: the answer to a state-changing request waits until the copies the reads come from
    show what it changed (at most about `PUBLISH_EVERY_S`): a client that reloads, moves a vehicle or
    mutes a check and then reads sees its change, through the door or the hub alike."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        response = await handler(request)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            await door.caught_up(index.version)
        return response

    return middleware
