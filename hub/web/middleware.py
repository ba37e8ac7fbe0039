"""Middlewares: JSON errors (never a traceback) and safe response headers."""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger("hub.web")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Server": "hub",  # not aiohttp's default, which names the Python and aiohttp versions
}


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def errors_as_json(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return json_error(exc.status, exc.reason)
    except Exception:  # noqa: BLE001 - log it, answer without internals
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal error")


def security_headers(content_security_policy: str):
    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", content_security_policy)

    return on_prepare
