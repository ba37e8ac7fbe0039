"""Which peeked requests the read door answers itself: exactly the complete, credentialed GETs of the list
and of a record, with filters the hub accepts; everything else goes to the hub unread."""

from __future__ import annotations

import pytest

from hub.web.reads.request import parse_read

TOKEN = "Authorization: Bearer hub_abc_secret\r\n"


def _request(target: str, headers: str = TOKEN, method: str = "GET", tail: str = "") -> bytes:
    return f"{method} {target} HTTP/1.1\r\nHost: hub\r\n{headers}\r\n{tail}".encode()


def test_a_list_with_filters_and_a_token_is_the_door_s():
    read = parse_read(_request("/api/streams?category=property&state=online&q=gate+2"))
    assert read is not None and read.stream_id is None and read.bearer == "hub_abc_secret"
    assert (read.category, read.state, read.query) == ("property", "online", "gate 2")
    assert read.length == len(_request("/api/streams?category=property&state=online&q=gate+2"))


def test_a_record_with_a_session_cookie_is_the_door_s():
    read = parse_read(_request("/api/streams/ps-0001", "Cookie: theme=dark; hub_session=abc123\r\n"))
    assert read is not None and read.stream_id == "ps-0001" and read.session == "abc123" and read.bearer is None


@pytest.mark.parametrize(
    "request_bytes, kept",
    [
        (_request("/api/streams/ps-0001"), True),
        (_request("/api/streams/ps-0001", TOKEN + "Connection: keep-alive\r\n"), True),
        (_request("/api/streams/ps-0001", TOKEN + "Connection: Close\r\n"), False),
        (f"GET /api/streams/ps-0001 HTTP/1.0\r\n{TOKEN}\r\n".encode(), False),
    ],
)
def test_a_connection_is_kept_when_the_client_will_ask_again(request_bytes, kept):
    read = parse_read(request_bytes)
    assert read is not None and read.keep_alive is kept


def test_empty_filters_mean_no_filter_as_at_the_hub():
    read = parse_read(_request("/api/streams?category=&state="))
    assert read is not None and (read.category, read.state, read.query) == (None, None, None)


@pytest.mark.parametrize(
    "request_bytes, why",
    [
        (_request("/api/streams", ""), "no credentials: the hub's 401"),
        (_request("/api/streams", "Authorization: Basic dXNlcjpwdw==\r\n"), "not a bearer token"),
        (_request("/api/streams", "Cookie: other=1\r\n"), "no session cookie"),
        (_request("/api/streams", TOKEN + "Authorization: Bearer hub_x_y\r\n"), "two tokens"),
        (_request("/api/streams", method="HEAD"), "not a GET"),
        (_request("/api/streams", method="POST"), "not a GET"),
        (_request("/api/streams", TOKEN + "Content-Length: 3\r\n", tail="abc"), "a body"),
        (_request("/api/streams", TOKEN + "Transfer-Encoding: chunked\r\n", tail="0\r\n\r\n"), "a body"),
        (_request("/api/streams", tail="GET /api/me HTTP/1.1\r\nHost: hub\r\n\r\n"), "a pipelined request behind it"),
        (_request("/api/streams")[:-2], "headers not all here yet"),
        (_request("/api/streams?category=zoo"), "a bad category: the hub's 400"),
        (_request("/api/streams?state=asleep"), "a bad state: the hub's 400"),
        (_request("/api/streams?q=" + "x" * 201), "an over-long query: the hub's 400"),
        (_request("/api/streams?category=property&category=vehicle"), "a repeated filter"),
        (_request("/api/streams?limit=5"), "a parameter the door does not know"),
        (_request("/api/streams?q=%ff"), "not UTF-8"),
        (_request("/api/streams/ps%2D0001"), "an encoded id: the hub's router decides"),
        (_request("/api/streams/.."), "a dot segment"),
        (_request("/api/streams/ps-0001?x=1"), "a record with a query"),
        (_request("/api/streams/ps-0001/snapshot.jpg"), "a snapshot"),
        (_request("/api/events"), "not a read the door answers"),
        (b"GARBAGE\r\n\r\n", "not HTTP"),
    ],
)
def test_anything_else_goes_to_the_hub(request_bytes, why):
    assert parse_read(request_bytes) is None, why
