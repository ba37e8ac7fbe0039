"""The access gate: every request is tied to a principal (a session cookie or a bearer token) or refused.

Runs on the event loop, as the outermost aiohttp middleware but one (errors stay JSON). Routes
named `public:*` (the login page and call, static assets, `/healthz`) are open; `/metrics` is
open only under `[metrics] public = true`. Everything else needs a principal:

- a browser's session (cookie `hub_session`): a state-changing request must also carry the
  session's CSRF token in `X-CSRF-Token` and come from the hub's own `Origin`; the WebSocket and
  event-stream handshakes must not come from another origin;
- a script's `Authorization: Bearer hub_...` token (no cookie, so no CSRF to guard against).

The client address is the peer's, or what a trusted proxy reports (`hub.auth.addresses`).
"""

from __future__ import annotations

import json
import time
from typing import TypeVar

from aiohttp import web

from hub.auth.addresses import client_address, forwarded_https
from hub.auth.service import AccessService, Principal
from hub.cluster.channel_auth import refusal
from hub.config import Config

ACCESS = web.AppKey("access", AccessService)
REPORTER_PATHS = frozenset({"/api/me", "/api/logout", "/api/ui", "/api/staff/position", "/report"})
SECURITY = web.AppKey("security", Config)  # the config whose [hub] tls/proxies and [metrics] apply
PRINCIPAL = web.RequestKey("principal", object)  # Principal | None (None only on open routes)
ADDRESS = web.RequestKey("address", str)
SESSION_COOKIE = "hub_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STREAMING_PATHS = ("/api/live", "/api/events")
T = TypeVar("T")


def node_refusal(request: web.Request) -> str | None:
    """Why the request is not another cluster node's, signed with the cluster secret, or None."""
    secret = request.app[SECURITY].cluster.secret
    return refusal(secret, request.headers, request.method, request.path_qs, time.time())


def _refuse(status: int, message: str, **extra) -> web.HTTPException:
    kind = {401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound}[status]
    headers = {"WWW-Authenticate": 'Bearer realm="hub"'} if status == 401 else None
    return kind(text=json.dumps({"error": message, **extra}), content_type="application/json", headers=headers)


def is_https(request: web.Request) -> bool:
    config = request.app[SECURITY]
    return config.hub.tls.enabled or forwarded_https(
        request.remote, request.headers.get("X-Forwarded-Proto"), config.hub.trusted_proxies
    )


def same_origin(request: web.Request) -> bool:
    return request.headers.get("Origin") == f"{'https' if is_https(request) else 'http'}://{request.host}"


def principal(request: web.Request) -> Principal:
    """The request's principal (the gate let it through, so there is one; a 401 if a handler of an open
    route asks by mistake: fail closed)."""
    who = request[PRINCIPAL]
    if not isinstance(who, Principal):
        raise _refuse(401, "sign in first (the page at /login), or send Authorization: Bearer <token>")
    return who


def principal_or_none(request: web.Request) -> Principal | None:
    """On an open route (`/healthz`, a public `/metrics`): the principal if the request names one."""
    who = request[PRINCIPAL]
    return who if isinstance(who, Principal) else None


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return (resource.name or "") if resource is not None else ""


def _identify(request: web.Request, service: AccessService) -> Principal | None:
    header = request.headers.get("Authorization")
    if header is None:
        return service.from_session(request.cookies.get(SESSION_COOKIE))
    scheme, _, credential = header.partition(" ")
    found = service.from_token(credential.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise _refuse(401, "unknown, revoked or malformed token: send Authorization: Bearer hub_...")
    service.record_once(found, "token_used", address=request[ADDRESS], path=request.path)
    return found


def _check_browser_request(request: web.Request, who: Principal) -> None:
    """Cookies travel with cross-site requests; the token and the Origin prove the page is the hub's own."""
    if request.method in UNSAFE_METHODS:
        if not same_origin(request):
            raise _refuse(403, "cross-origin request refused: state changes must come from the hub's own page")
        if who.session is None or request.headers.get(CSRF_HEADER) != who.session.csrf:
            raise _refuse(403, f"missing or wrong {CSRF_HEADER} header (the page gets it from GET /api/me)")
    elif request.path in STREAMING_PATHS and "Origin" in request.headers and not same_origin(request):
        raise _refuse(403, "cross-origin connection refused")


@web.middleware
async def access_gate(request: web.Request, handler):
    config, service = request.app[SECURITY], request.app[ACCESS]
    request[ADDRESS] = client_address(request.remote, request.headers.get("X-Forwarded-For"), config.hub.trusted_proxies)
    route = _route_name(request)
    if route.startswith("cluster:"):  # the nodes' internal channel: a node's signature, never a browser
        request[PRINCIPAL] = None
        why = "a page may not use the internal channel" if "Origin" in request.headers else node_refusal(request)
        if why is not None:
            raise _refuse(403, why)
        return await handler(request)
    if route.startswith("public:") or (route == "metrics" and config.metrics.public):
        try:  # open to all; a principal, if any, may see more (/healthz's details)
            request[PRINCIPAL] = _identify(request, service)
        except web.HTTPUnauthorized:
            request[PRINCIPAL] = None
        return await handler(request)
    who = request[PRINCIPAL] = _identify(request, service)
    cookie = request.cookies.get(SESSION_COOKIE)
    if who is None and cookie and service.session_lookup is not None and await service.session_lookup(cookie):
        who = request[PRINCIPAL] = _identify(request, service)  # a cluster node: begun on another node just now
    if who is None:
        if request.method == "GET" and request.path in ("/", "/report"):
            raise web.HTTPSeeOther("/login")
        ended = {"ended": service.sessions.why_ended(cookie)} if cookie else {}  # the page says why it ended
        raise _refuse(401, "sign in first (the page at /login), or send Authorization: Bearer <token>", **ended)
    if who.session is not None:
        _check_browser_request(request, who)
    if who.rights.role == "reporter" and not _for_reporters(request.path):
        if request.method == "GET" and request.path == "/":
            raise web.HTTPSeeOther("/report")  # the phone page: a reporter's only page
        raise _refuse(403, "a reporter files incidents and its position, and sees no camera or video")
    return await handler(request)


def _for_reporters(path: str) -> bool:
    """What a grid worker's phone may reach: its own account, its reports, its position, the phone page."""
    return path in REPORTER_PATHS or path.startswith("/api/incidents")


def require(request: web.Request, action: str) -> Principal:
    """The principal, if its role may do `action` (see hub.auth.rights.ACTIONS); else 403."""
    who = principal(request)
    if not who.rights.can(action):
        raise _refuse(403, f"your role ({who.rights.role}) may not do this")
    return who


def visible_or_404(request: web.Request, record: T | None) -> T:
    """The record, if the principal may see it; a stream it may not see does not exist for it: the same
    404 as an unknown id."""
    if record is None or not principal(request).rights.may_see(record):
        raise _refuse(404, f"no stream {request.match_info.get('id', '')!r}")
    return record


def record_for(request: web.Request, action: str, stream: str = "", **detail) -> None:
    request.app[ACCESS].record(principal(request), action, stream, request[ADDRESS], **detail)
