"""GET /api/audit: the audit trail for admins, newest first, with filters. Runs on the event loop.

On a cluster node it lists every node's entries, each with its `node`: this node's own trail and the
copy of the others' (`hub.cluster.audit_copies`), merged by time."""

from __future__ import annotations

import dataclasses

from aiohttp import web

from hub.auth.audit import MAX_QUERY, parse_when
from hub.cluster.audit_copies import merged
from hub.safe.numbers import ascii_int
from hub.web.access import ACCESS, require
from hub.web.keys import CLUSTER, SHARED_AUDIT_COPIES
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
    filters = (since, until, who, action, stream)
    entries = request.app[ACCESS].audit.entries(*filters, limit=limit)
    if SHARED_AUDIT_COPIES in request.app:
        node = request.app[CLUSTER].store.node
        own = [dataclasses.replace(entry, node=node) for entry in entries]
        entries = merged(own, request.app[SHARED_AUDIT_COPIES].copies.entries(*filters, limit=limit), limit)
    return web.json_response({"entries": [e.to_json() for e in entries], "count": len(entries)})
