"""The simulator ends a session its client left silent past the session timeout, as a camera does
(`[sim] session_timeout_s`), and keeps one whose client sends keep-alives (GET_PARAMETER). This is what
ends a frozen hub node's sessions at the camera. Waits are on conditions with generous deadlines."""

from __future__ import annotations

import socket
import time

from support.estates import sim_for, sim_stream

TIMEOUT_S = 2
serving = sim_for(f"[sim]\nsession_timeout_s = {TIMEOUT_S}\n" + sim_stream("cam-1", "sim://street?size=320x180&fps=10"))


def request(sock: socket.socket, method: str, url: str, cseq: int, extra: str = "") -> dict[str, str]:
    """One RTSP request; its reply's headers (RTP interleaved before the reply is skipped)."""
    sock.sendall(f"{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\n{extra}\r\n".encode())
    data = b""
    while b"RTSP/1.0 " not in data or b"\r\n\r\n" not in data[data.index(b"RTSP/1.0 ") :]:
        chunk = sock.recv(65536)
        assert chunk, f"{method}: the connection closed"
        data += chunk
    head = data[data.index(b"RTSP/1.0 ") :].split(b"\r\n\r\n")[0].decode()
    assert head.split(" ", 2)[1] == "200", head
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:])}


def playing(url: str) -> tuple[socket.socket, str]:
    sock = socket.create_connection(url.split("/")[2].rsplit(":", 1), timeout=10)
    request(sock, "DESCRIBE", url, 1, "Accept: application/sdp\r\n")
    setup = request(sock, "SETUP", url + "/trackID=0", 2, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
    assert setup["session"].endswith(f"timeout={TIMEOUT_S}"), setup  # clients are told the timeout
    session = setup["session"].split(";")[0]
    request(sock, "PLAY", url, 3, f"Session: {session}\r\n")
    return sock, session


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Read (and drop) the video until the server closes the connection or `seconds` pass."""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            continue
    return False


def test_a_silent_client_loses_its_session_and_one_that_keeps_it_alive_does_not(serving):
    url = serving.url("cam-1")
    silent, _ = playing(url)
    talking, session = playing(url)
    try:
        ended_at, kept_until, cseq = None, time.monotonic() + 4 * TIMEOUT_S, 4
        while ended_at is None or time.monotonic() < kept_until:  # keep-alives every half of the timeout
            request(talking, "GET_PARAMETER", url, cseq, f"Session: {session}\r\n")
            cseq += 1
            assert not closed_within(talking, TIMEOUT_S / 4), "a session kept alive was ended"
            if ended_at is None and closed_within(silent, TIMEOUT_S / 4):
                ended_at = time.monotonic()
            assert ended_at is not None or time.monotonic() < kept_until + 10 * TIMEOUT_S, "the silent session stayed"
    finally:
        silent.close()
        talking.close()
