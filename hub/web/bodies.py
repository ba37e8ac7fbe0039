"""Request bodies: JSON objects or a clear 400, whatever arrives (runs in handlers on the event loop).

Bodies are capped by the app's `client_max_size` (64 KiB: 413 beyond). Within that, a body can
still be malformed, not UTF-8, or nested deeply enough to exhaust the parser's recursion: each is
a 400 that says what was expected, never a 500.
"""

from __future__ import annotations

import json

from aiohttp import web


async def json_object(request: web.Request, usage: str) -> dict:
    """The body as a JSON object; else 400 with `usage` (an example of a good body)."""
    try:
        body = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": f"body must be a JSON object like {usage}"}), content_type="application/json")
    return body
