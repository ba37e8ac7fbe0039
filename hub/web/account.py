"""Signing in and out, who am I, and opening a sensitive stream with a reason.

Runs on the event loop; password checks run on threads of their own (`hub.auth.password_work`), at
most a few at once: one more is refused with 429 and Retry-After. Failed logins are limited per user
name and per client address (`hub.auth.limits`): each attempt is booked as a failure before its
password is checked, and given back if it was right. Every login, failure and logout goes to the
audit trail; refusals before any check are counted into one entry per address a minute
(`hub.auth.refusals`). The session id changes at every login; signing out ends the session's open
sockets and event streams at once (`hub.web.connections`).
"""

from __future__ import annotations

from aiohttp import web

from hub.auth.password_work import PasswordBusy
from hub.web.access import ACCESS, ADDRESS, SESSION_COOKIE, is_https, principal, record_for, same_origin, visible_or_404
from hub.web.bodies import json_object
from hub.web.connections import CONNECTIONS
from hub.web.keys import INDEX, READ_DOOR, SHARED_SESSIONS
from hub.web.middleware import json_error

MAX_REASON = 500
MIN_REASON = 4


def _me(request: web.Request, who) -> dict:
    service = request.app[ACCESS]
    return {
        "user": who.name,
        "role": who.rights.role,
        "csrf": who.session.csrf if who.session else None,
        "can": {action: who.rights.can(action) for action in ("arrange", "acknowledge", "administer", "triage")},
        "sensitive": {"categories": list(service.settings.sensitive_categories), "tags": list(service.settings.sensitive_tags)},
        "opened": sorted(who.session.opened) if who.session else [],
    }


async def login(request: web.Request) -> web.Response:
    service, address = request.app[ACCESS], request[ADDRESS]
    if not same_origin(request):
        return json_error(403, "cross-origin sign-in refused: sign in on the hub's own page")
    body = await json_object(request, '{"user": "alice", "password": "..."}')
    name, password = body.get("user"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or not name or len(name) > 64 or len(password) > 1024:
        return json_error(400, '"user" and "password" must be strings')
    wait, booking = service.limiter.reserve(f"user:{name}", f"address:{address}")  # booked before the check, no await between
    if booking is None:
        service.refusals.refused(address, name, "too many failed sign-ins")
        return _too_many(f"too many failed sign-ins for this user or from this address: try again in {wait:.0f} s", wait)
    try:
        user = await service.check_password(name, password, address)
    except PasswordBusy as busy:
        service.limiter.release(booking)  # not the client's failure: the hub did not check it
        service.refusals.refused(address, name, "busy")
        return _too_many(
            f"the hub is checking too many sign-ins at once: try again in {busy.retry_after_s:.0f} s", busy.retry_after_s
        )
    if user is None:
        service.record(None, "login_failed", "", address, user=name)
        return json_error(401, "wrong user name or password")
    service.limiter.release(booking)
    service.sessions.drop(request.cookies.get(SESSION_COOKIE))  # never carry a session id across a login
    session = service.sessions.create(user.name, address)
    who = service.from_session(session.id)
    if SHARED_SESSIONS in request.app:  # a cluster: the other nodes may know the session before the browser does
        await request.app[SHARED_SESSIONS].written()
    service.record(who, "login", "", address)
    response = web.json_response(_me(request, who), headers={"Cache-Control": "no-store"})
    response.set_cookie(SESSION_COOKIE, session.id, httponly=True, samesite="Strict", secure=is_https(request), path="/")
    return response


def _too_many(message: str, wait_s: float) -> web.Response:
    return json_error(429, message, {"Retry-After": str(int(wait_s) + 1)})


async def logout(request: web.Request) -> web.Response:
    who = principal(request)
    if who.session is not None:
        request.app[ACCESS].sessions.drop(who.session.id)
        await request.app[READ_DOOR].sync()  # the read door forgets it before the answer says it is gone
        if SHARED_SESSIONS in request.app:  # and the cluster knows it ended
            await request.app[SHARED_SESSIONS].written()
    record_for(request, "logout")
    request.app[CONNECTIONS].recheck()  # its sockets and event streams end now, not at the next check
    response = web.json_response({"signed_out": who.name})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response(_me(request, principal(request)), headers={"Cache-Control": "no-store"})


async def open_stream(request: web.Request) -> web.Response:
    """A sensitive stream's pictures need a reason first; the audit keeps it. Good for the session."""
    record = visible_or_404(request, request.app[INDEX].records.get(request.match_info["id"]))
    body = await json_object(request, '{"reason": "why you need to see this camera"}')
    reason = body.get("reason")
    if not isinstance(reason, str) or not MIN_REASON <= len(reason.strip()) <= MAX_REASON:
        return json_error(400, f'"reason" must say why, in {MIN_REASON} to {MAX_REASON} characters')
    who = principal(request)
    request.app[ACCESS].open_sensitive(who, record.id)
    record_for(request, "open_sensitive", record.id, reason=reason.strip())
    return web.json_response({"id": record.id, "opened": True})


def needs_reason(request: web.Request, record) -> web.Response | None:
    """403 for a sensitive stream opened without a reason yet, else None."""
    who, service = principal(request), request.app[ACCESS]
    if not who.rights.is_sensitive(record) or service.is_open(who, record.id):
        return None
    return web.json_response(
        {
            "error": f"stream {record.id!r} is sensitive: say why you open it (POST /api/streams/{record.id}/open)",
            "reason_required": True,
        },
        status=403,
    )
