"""Reading a peeked request: is it one of the reads the door answers, and with which credentials?

Pure (no I/O): the door process calls `parse_read` on the bytes it peeked at. Anything this does not
recognise exactly returns None, and the connection goes to the hub, which answers every case.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

import h11

from hub.config import CATEGORIES
from hub.health import STATES

LIST_PATH = b"/api/streams"
RECORD_PREFIX = b"/api/streams/"
FILTERS = ("category", "state", "q")
MAX_QUERY = 200  # the hub's limit on `q`
SESSION_COOKIE = "hub_session"


@dataclass(frozen=True)
class ReadRequest:
    stream_id: str | None  # None: the list
    category: str | None
    state: str | None
    query: str | None
    bearer: str | None  # the token text, when the request sends Authorization: Bearer
    session: str | None  # the session cookie, when there is no Authorization header
    forwarded_for: str | None
    path: str
    length: int  # bytes of the request, all in the peeked data
    keep_alive: bool = False  # HTTP/1.1 and no `Connection: close`: the client will ask again on this connection


def parse_read(data: bytes) -> ReadRequest | None:
    """The read in `data` (one complete GET, headers only, nothing after it), or None."""
    connection = h11.Connection(h11.SERVER)
    try:
        connection.receive_data(data)
        request = connection.next_event()
        if not isinstance(request, h11.Request) or request.method != b"GET":
            return None
        if not isinstance(connection.next_event(), h11.EndOfMessage):  # a body, or more to come
            return None
    except h11.RemoteProtocolError:
        return None
    if connection.trailing_data[0]:  # a pipelined request behind it: the hub reads the whole connection
        return None
    headers = _headers(request.headers)
    if headers is None:
        return None
    target = _target(request.target)
    if target is None:
        return None
    path, stream_id, (category, state, query) = target
    bearer = session = None
    if "authorization" in headers:
        scheme, _, credential = headers["authorization"].partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            return None
        bearer = credential.strip()
    else:
        session = _session(headers.get("cookie"))
        if session is None:
            return None
    keep_alive = request.http_version == b"1.1" and "close" not in headers.get("connection", "").lower()
    forwarded_for = headers.get("x-forwarded-for")
    return ReadRequest(stream_id, category, state, query, bearer, session, forwarded_for, path, len(data), keep_alive)


def _headers(pairs) -> dict[str, str] | None:
    """Lower-case names to values; None for a request with a body or repeated credentials."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.decode("ascii").lower()
        if key in ("content-length", "transfer-encoding") or (key in out and key in ("authorization", "cookie")):
            return None
        if key not in out:  # the first, as the hub's `headers.get` reads it
            out[key] = value.decode("latin-1")
    return out


def _target(target: bytes) -> tuple[str, str | None, tuple] | None:
    raw_path, _, raw_query = target.partition(b"?")
    if raw_path == LIST_PATH:
        stream_id = None
    elif raw_path.startswith(RECORD_PREFIX) and raw_query == b"":
        rest = raw_path[len(RECORD_PREFIX) :]
        if not rest or not all(c.isalnum() or c in "-_." for c in rest.decode("latin-1")) or rest in (b".", b".."):
            return None  # encoded or odd ids: the hub's router decides
        stream_id = rest.decode("ascii")
    else:
        return None
    filters = _filters(raw_query.decode("latin-1")) if stream_id is None else (None, None, None)
    if filters is None:
        return None
    return raw_path.decode("ascii"), stream_id, filters


def _filters(query: str) -> tuple | None:
    """(category, state, q), each as the hub reads it; None if anything else is asked or a value is bad."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query), errors="strict")
    except (ValueError, UnicodeDecodeError):
        return None
    given = dict(pairs)
    if len(given) != len(pairs) or any(key not in FILTERS for key in given):
        return None
    category, state, text = given.get("category") or None, given.get("state") or None, given.get("q") or None
    if (category and category not in CATEGORIES) or (state and state not in STATES) or (text and len(text) > MAX_QUERY):
        return None  # the hub explains the 400
    return category, state, text


def _session(cookie_header: str | None) -> str | None:
    if not cookie_header:
        return None
    cookies = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except CookieError:
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None
