"""The RTSP probe: pure message helpers, then real cameras (the simulator) and hostile peers on loopback."""

from __future__ import annotations

import pytest

from hub.patrol import rtsp_messages as m
from hub.sim.auth import REALM, challenge_headers, is_authorized


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
