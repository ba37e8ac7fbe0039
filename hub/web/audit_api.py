"""GET /api/audit: the audit trail for admins, newest first, with filters. Runs on the event loop."""

from __future__ import annotations

from aiohttp import web

from hub.auth.audit import MAX_QUERY, parse_when
from hub.safe.numbers import ascii_int
from hub.web.access import ACCESS, require
from hub.web.middleware import bad_request

FILTERS = ("who", "action", "stream")


async def audit(request: web.Request) -> web.Response:
    require(request, "administer")
    query = request.query
    unknown = set(query) - {"since", "until", "limit", *FILTERS}
    if unknown:
        raise bad_request(f"unknown filter {sorted(unknown)[0]!r}: use since, until, who, action, stream, limit")
    limit = ascii_int(query.get("limit", "500"))
    if limit is None or not 1 <= limit <= MAX_QUERY:
        raise bad_request(f"limit must be a whole number from 1 to {MAX_QUERY}")
    try:
        since = parse_when(query["since"]) if "since" in query else None
        until = parse_when(query["until"]) if "until" in query else None
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    who, action, stream = (query.get(k) or None for k in FILTERS)
    entries = request.app[ACCESS].audit.entries(since, until, who, action, stream, limit=limit)
    return web.json_response({"entries": [e.to_json() for e in entries], "count": len(entries)})
