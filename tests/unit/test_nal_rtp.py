"""Pure byte helpers: Annex B splitting, RTP packetisation (RFC 6184 / RFC 7798), RTSP parsing, auth."""

from __future__ import annotations

import base64
import hashlib

import pytest

from hub.sim import auth, nal
from hub.sim.rtsp_messages import MalformedRequest, interleave, parse_transport, rtp_packet, take_interleaved, take_request


def test_split_annexb_handles_3_and_4_byte_start_codes():
    data = b"\x00\x00\x00\x01\x67\xaa\xbb\x00\x00\x01\x68\xcc\x00\x00\x00\x01\x65" + b"\x11" * 5
    assert nal.split_annexb(data) == [b"\x67\xaa\xbb", b"\x68\xcc", b"\x65" + b"\x11" * 5]


def _reassemble_h264(payloads: list[bytes]) -> bytes:
    first = payloads[0]
    if first[0] & 0x1F != 28:
        assert len(payloads) == 1
        return first
    assert first[1] & 0x80 and payloads[-1][1] & 0x40
    header = bytes([(first[0] & 0xE0) | (first[1] & 0x1F)])
    return header + b"".join(p[2:] for p in payloads)


def _reassemble_h265(payloads: list[bytes]) -> bytes:
    first = payloads[0]
    if (first[0] >> 1) & 0x3F != 49:
        return first
    kind = first[2] & 0x3F
    header = bytes([(first[0] & 0x81) | (kind << 1), first[1]])
    return header + b"".join(p[3:] for p in payloads)


@pytest.mark.parametrize("size", [10, 1400, 1401, 5000, 30000])
def test_h264_fu_a_round_trip(size):
    unit = bytes([0x65]) + bytes(range(256)) * (size // 256 + 1)
    unit = unit[:size]
    parts = nal.payloads(nal.H264, unit)
    assert all(len(p) <= nal.MAX_PAYLOAD for p in parts)
    assert _reassemble_h264(parts) == unit


@pytest.mark.parametrize("size", [10, 1400, 1401, 30000])
def test_h265_fu_round_trip(size):
    unit = (bytes([19 << 1, 0x01]) + bytes(range(256)) * (size // 256 + 1))[:size]
    parts = nal.payloads(nal.H265, unit)
    assert all(len(p) <= nal.MAX_PAYLOAD for p in parts)
    assert _reassemble_h265(parts) == unit


def test_h264_fmtp_carries_parameter_sets():
    sps, pps = b"\x67\x64\x00\x1e\xac", b"\x68\xee\x3c\x80"
    params = nal.parameter_sets(nal.H264, [b"\x65\x00", pps, sps])
    fmtp = params.fmtp()
    assert "profile-level-id=64001e" in fmtp
    sets = fmtp.split("sprop-parameter-sets=")[1].split(",")
    assert [base64.b64decode(s) for s in sets] == [sps, pps]


def test_rtp_header_fields():
    packet = rtp_packet(b"xy", True, 70000, 2**32 + 5, 0x01020304)
    assert packet[0] == 0x80 and packet[1] == 0x80 | 96
    assert int.from_bytes(packet[2:4], "big") == 70000 & 0xFFFF
    assert int.from_bytes(packet[4:8], "big") == 5
    assert packet[8:12] == b"\x01\x02\x03\x04" and packet[12:] == b"xy"


def test_interleaved_framing_and_skipping():
    framed = bytearray(interleave(1, [b"abc", b"de"]))
    assert framed[:4] == b"$\x01\x00\x03"
    assert take_interleaved(framed) is True and bytes(framed) == b"$\x01\x00\x02de"
    partial = bytearray(b"$\x00\x00\x09abc")
    assert take_interleaved(partial) is None


def test_request_parsing_waits_for_the_whole_message():
    buffer = bytearray(b"SET_PARAMETER rtsp://h/cam-1/trackID=0 RTSP/1.0\r\nCSeq: 4\r\nContent-Length: 5\r\n\r\nab")
    assert take_request(buffer) is None
    buffer += b"cde"
    request = take_request(buffer)
    assert request.method == "SET_PARAMETER" and request.cseq == "4" and request.body == b"abcde"
    assert request.stream_id == "cam-1" and not buffer


@pytest.mark.parametrize("junk", [b"GET / HTTP/1.1\r\n\r\n", b"HELLO\r\n\r\n", b"DESCRIBE x RTSP/1.0\r\nnocolon\r\n\r\n"])
def test_malformed_requests_are_rejected(junk):
    with pytest.raises(MalformedRequest):
        take_request(bytearray(junk))


def test_transport_negotiation():
    assert parse_transport("RTP/AVP/TCP;unicast;interleaved=2-3").interleaved == (2, 3)
    assert parse_transport("RTP/AVP;unicast;client_port=5000-5001").client_ports == (5000, 5001)
    assert parse_transport("RTP/AVP;multicast") is None


def test_basic_and_digest_auth():
    basic = "Basic " + base64.b64encode(b"u:p").decode()
    assert auth.is_authorized(basic, "DESCRIBE", "u", "p", "n1")
    assert not auth.is_authorized(basic, "DESCRIBE", "u", "other", "n1")
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    uri = "rtsp://h/cam"
    response = md5(f"{md5('u:' + auth.REALM + ':p')}:n1:{md5('DESCRIBE:' + uri)}")
    digest = f'Digest username="u", realm="{auth.REALM}", nonce="n1", uri="{uri}", response="{response}"'
    assert auth.is_authorized(digest, "DESCRIBE", "u", "p", "n1")
    assert not auth.is_authorized(digest, "DESCRIBE", "u", "p", "stale-nonce")
    assert not auth.is_authorized(digest, "PLAY", "u", "p", "n1")
    assert not auth.is_authorized("Basic !!!", "DESCRIBE", "u", "p", "n1")
