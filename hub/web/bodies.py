"""Request bodies: JSON objects or a clear 400, whatever arrives (runs in handlers on the event loop).

Bodies are capped by the app's `client_max_size` (64 KiB: 413 beyond) and must arrive within
`[hub] header_timeout_s` (408 beyond: a client that trickles a body cannot hold a handler). Within
that, a body can still be malformed, not UTF-8, or nested deeply enough to exhaust the parser's
recursion: each is a 400 that says what was expected, never a 500.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from hub.web.access import SECURITY


async def json_object(request: web.Request, usage: str) -> dict:
    """The body as a JSON object; else 400 with `usage` (an example of a good body)."""
    deadline = request.app[SECURITY].hub.header_timeout_s
    try:
        async with asyncio.timeout(deadline):
            raw = await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(
            text=json.dumps({"error": f"the request's body did not arrive within {deadline:g} s"}),
            content_type="application/json",
        ) from None
    try:
        body = json.loads(raw.decode(request.charset or "utf-8"))
    except (ValueError, UnicodeDecodeError, LookupError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"body must be a JSON object like {usage}"}), content_type="application/json"
        )
    return body
