"""Middlewares: JSON errors (never a traceback) and safe response headers."""

from __future__ import annotations

import json
import logging

from aiohttp import web, web_response
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger("hub.web")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Server": "hub",  # not aiohttp's default, which names the Python and aiohttp versions
}


class QuietProtocolErrors(logging.Filter):
    """For aiohttp's server logger: a request that is not valid HTTP (a scanner, an over-long header line)
    is logged as one line, not a traceback, so a hostile client cannot flood the log with them.
    Installed once per process by the command line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            reason = str(exc.message).splitlines()[0] if exc.message else type(exc).__name__
            record.msg, record.args = "refused a request that is not valid HTTP from %s: %s", (*(record.args or ()), reason)
            record.exc_info, record.exc_text = None, None
        return True


def name_the_server() -> None:
    """aiohttp names itself and Python's version (`Server: Python/3.11 aiohttp/3.x`) on every response,
    the 400s it makes for requests that are not HTTP included, which no hook of the app ever sees. So
    the name it uses is set here; `create_app` calls this (the same for every app of the process)."""
    web_response.SERVER_SOFTWARE = SECURITY_HEADERS["Server"]


def bad_request(message: str) -> web.HTTPBadRequest:
    """A 400 to raise, with the JSON error body."""
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def json_error(status: int, message: str, headers: dict | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


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
        response.headers["Server"] = SECURITY_HEADERS["Server"]  # aiohttp set its own before this hook
        response.headers.setdefault("Content-Security-Policy", content_security_policy)

    return on_prepare
