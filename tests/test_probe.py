"""The RTSP probe: pure message helpers, then real cameras (the simulator) and hostile peers on loopback."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from hub.patrol import rtsp_messages as m
from hub.patrol.probe import OK, probe
from hub.sim.auth import REALM, challenge_headers, is_authorized

# --- pure helpers ---------------------------------------------------------------------------------


def test_digest_answer_is_accepted_by_the_simulators_verifier():
    uri = "rtsp://127.0.0.1:8554/cam"
    header = m.authorization(challenge_headers("abc123"), "DESCRIBE", uri, "viewer", "s3cret")
    assert header.startswith("Digest ") and "s3cret" not in header
    assert is_authorized(header, "DESCRIBE", "viewer", "s3cret", "abc123")
    assert not is_authorized(header, "DESCRIBE", "viewer", "wrong", "abc123")
    assert not is_authorized(header, "SETUP", "viewer", "s3cret", "abc123"), "Digest covers the method"


def test_digest_with_qop_matches_rfc_2617s_worked_example():
    challenge = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    header = m.authorization([challenge], "GET", "/dir/index.html", "Mufasa", "Circle Of Life", cnonce="0a4f113b")
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert "qop=auth" in header and "nc=00000001" in header and 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header


def test_basic_only_when_nothing_better_is_offered():
    assert m.authorization([f'Basic realm="{REALM}"'], "DESCRIBE", "/", "a", "b") == "Basic YTpi"
    assert m.authorization(['Bearer realm="x"'], "DESCRIBE", "/", "a", "b") is None


def test_responses_keep_repeated_headers_and_refuse_what_is_not_rtsp():
    head = (
        b'RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest nonce="n"\r\nWWW-Authenticate: Basic realm="r"\r\n\r\n'
    )
    assert m.head_length(head + b"extra") == len(head)
    response = m.parse_head(head)
    assert (response.status, response.reason) == (401, "Unauthorized")
    assert response.headers["www-authenticate"] == ['Digest nonce="n"', 'Basic realm="r"']
    assert m.head_length(b"RTSP/1.0 200") is None
    with pytest.raises(m.NotRtsp, match="not an RTSP answer"):
        m.head_length(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(m.NotRtsp, match="longer than"):
        m.head_length(b"RTSP/1.0 200 OK\r\n" + b"X-Junk: y\r\n" * 2000)


# --- against the simulator ------------------------------------------------------------------------


async def test_probe_tells_ok_not_found_unauthorized_and_unreachable_apart(sim):
    cases = {
        sim.url("h264-360"): OK,
        sim.url("h264-auth", "viewer:s3cret"): OK,
        sim.url("h264-auth", "viewer:wrong"): "auth_failed",
        sim.url("h264-auth"): "auth_failed",
        sim.url("no-such-camera"): "not_found",
        "rtsp://127.0.0.1:9/live": "unreachable",
    }
    results = await asyncio.gather(*(probe(url, timeout_s=10) for url in cases))
    for (url, expected), result in zip(cases.items(), results, strict=False):
        assert result.outcome == expected, (url, result)
        assert "s3cret" not in result.message and "wrong" not in result.message, result.message
    assert "(no credentials configured)" in results[3].message
    assert results[4].status == 404 and results[2].status == 401


async def test_probe_sees_faults_set_at_run_time(sim):
    await asyncio.to_thread(sim.set_fault, "fault-auth", "auth")
    await asyncio.to_thread(sim.set_fault, "fault-stall", "stall")  # a hung camera: RTSP requests go unanswered
    try:
        refused, hung = await asyncio.gather(probe(sim.url("fault-auth"), 10), probe(sim.url("fault-stall"), 2))
    finally:
        await asyncio.to_thread(sim.clear_fault, "fault-auth")
        await asyncio.to_thread(sim.clear_fault, "fault-stall")
    assert refused.outcome == "auth_failed", refused
    assert hung.outcome == "stalled" and hung.seconds >= 2, hung  # the timeout is honoured, not cut short
    assert (await probe(sim.url("fault-auth"), 10)).outcome == OK, "cleared: answers again"


# --- hostile peers --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def peer(answer: bytes | None):
    """A TCP server on loopback that sends `answer` to whatever it hears (None: closes at once)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if answer is not None:
            await reader.read(1024)
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"rtsp://admin:topsecret@127.0.0.1:{server.sockets[0].getsockname()[1]}/live"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "not an RTSP answer"),
        (b"\x00\xff garbage \x17" * 10, "not an RTSP answer"),
        (None, "connection lost (closed by the camera)"),
        (b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n", "connection lost (closed by the camera)"),
        (b"RTSP/1.0 503 Service Unavailable\r\nCSeq: 1\r\n\r\n", "OPTIONS answered 503 Service Unavailable"),
    ],
)
async def test_hostile_or_broken_peers_are_unreachable_with_a_reason(answer, said):
    async with peer(answer) as url:
        result = await probe(url, timeout_s=5)
    assert result.outcome == "unreachable" and said in result.message, result
    assert "topsecret" not in result.message and "rtsp://***@127.0.0.1" in result.message
