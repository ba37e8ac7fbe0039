"""Picture diagnostics over HTTP: a stream's diagnosis, accepting a new reference view, muting a check,
and the open grouped outages.

Runs on the event loop. Reading needs only the right to see the stream; accepting a reference and muting
need the `acknowledge` right (operators and admins), and each is kept in the audit trail with who and
why. Outages are grouped from the cameras the principal may see only (`OutageView.seen_by`), here, in
the event feed and in /metrics alike.
"""

from __future__ import annotations

import time

from aiohttp import web

from hub.diagnostics.settings import PICTURE_CHECKS
from hub.web.access import principal, record_for, require, visible_or_404
from hub.web.bodies import json_object
from hub.web.keys import INDEX, MONITOR
from hub.web.middleware import json_error

MIN_REASON, MAX_REASON = 3, 200
MAX_MUTE_MIN = 30 * 24 * 60


def _stream(request: web.Request):
    return visible_or_404(request, request.app[INDEX].records.get(request.match_info["id"]))


async def get_diagnosis(request: web.Request) -> web.Response:
    record = _stream(request)
    diagnosis = request.app[MONITOR].diagnostics.by_stream.get(record.id)
    if diagnosis is None:
        return json_error(404, f"no diagnosis of {record.id!r} yet")
    return web.json_response({"id": record.id} | diagnosis.to_json(time.time()))


async def accept_reference(request: web.Request) -> web.Response:
    """The camera's current view becomes its reference (after a deliberate move; PTZ: adds a preset)."""
    who = require(request, "acknowledge")
    record = _stream(request)
    body = await json_object(request, '{"reason": "camera re-aimed at the gate on purpose"}')
    reason = _reason(body)
    if isinstance(reason, web.Response):
        return reason
    reference = await request.app[MONITOR].diagnostics.accept(record.id, who.name)
    if reference is None:
        return json_error(409, f"no picture of {record.id!r} has been sampled yet: try again once it shows one")
    record_for(request, "reference_accepted", record.id, reason=reason, night=reference.night)
    return web.json_response({"id": record.id, "reference": reference.to_json()})


async def put_mute(request: web.Request) -> web.Response:
    """Mute one check on one camera for a time, with a reason: it is still judged and shown as muted."""
    who = require(request, "acknowledge")
    record, check = _stream(request), request.match_info["check"]
    if check not in PICTURE_CHECKS:
        return json_error(404, f"no picture check {check!r}: expected one of {', '.join(PICTURE_CHECKS)}")
    body = await json_object(request, '{"minutes": 120, "reason": "scaffolding in front of the lens until Friday"}')
    reason = _reason(body)
    if isinstance(reason, web.Response):
        return reason
    minutes = body.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not 1 <= minutes <= MAX_MUTE_MIN:
        return json_error(400, f'"minutes" must be a number from 1 to {MAX_MUTE_MIN} (30 days)')
    mute = await request.app[MONITOR].diagnostics.mute(record.id, check, minutes * 60.0, reason, who.name)
    record_for(request, "check_muted", record.id, check=check, minutes=minutes, reason=reason)
    return web.json_response({"id": record.id, "mute": mute.to_json()})


async def delete_mute(request: web.Request) -> web.Response:
    require(request, "acknowledge")
    record, check = _stream(request), request.match_info["check"]
    if not await request.app[MONITOR].diagnostics.unmute(record.id, check):
        return json_error(404, f"{check!r} is not muted on {record.id!r}")
    record_for(request, "check_unmuted", record.id, check=check)
    return web.json_response({"id": record.id, "unmuted": check})


async def list_outages(request: web.Request) -> web.Response:
    """The open outages among the streams the principal may see, grouped as if the others did not exist."""
    rights = principal(request).rights
    outages = request.app[INDEX].outage_view.seen_by(None if rights.sees_everything else rights.may_see)
    return web.json_response({"outages": [o.to_json() for o in outages]})


def _reason(body: dict) -> str | web.Response:
    reason = body.get("reason")
    if not isinstance(reason, str) or not MIN_REASON <= len(reason.strip()) <= MAX_REASON:
        return json_error(400, f'"reason" must say why, in {MIN_REASON} to {MAX_REASON} characters')
    return reason.strip()
