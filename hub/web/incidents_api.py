"""The incidents' HTTP side: reports (JSON, or a phone's form with photos), the list, one incident, triage,
its files, and grid workers' positions.

Runs on the event loop; the work is the service's (`hub.incidents.service`). Who may do what: `report`
(admins, operators, reporters) files incidents and, for a reporter, its own position; `triage` (admins and
operators) changes them; anyone may read the incidents they may see (`may_see`: a reporter its own). The
cameras that come with an incident are only those the caller may see.

POST /api/incidents takes `multipart/form-data` (the fields, and up to 3 `photo` parts) or a JSON object
of the fields. A form is read part by part with its own size limits (the app's body limit is for JSON).
"""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import BodyPartReader, web

from hub.incidents.evidence import export
from hub.incidents.model import KINDS, STATES, Incident, Refused
from hub.incidents.photos import BadPhoto
from hub.incidents.reports import NewReport
from hub.incidents.service import MAX_PHOTOS, IncidentService, may_see
from hub.incidents.store import MAX_LIST, Query
from hub.safe.numbers import ascii_float, ascii_int
from hub.web.access import SECURITY, principal, record_for, require
from hub.web.bodies import json_object
from hub.web.keys import INCIDENTS, INDEX
from hub.web.middleware import json_error

FIELDS = ("kind", "severity", "lat", "lon", "text", "client_id")
MAX_FIELD_BYTES = 8192
HEAT_DAYS = 30  # the map's heat layer: where incidents were reported in the last 30 days
REPORT_USAGE = '{"kind": "fire", "severity": 3, "lat": 31.77, "lon": 117.3, "text": "smoke by the gate", "client_id": "a1b2"}'


def _service(request: web.Request) -> IncidentService:
    return request.app[INCIDENTS]


async def report(request: web.Request) -> web.Response:
    """POST /api/incidents: 201 with the incident, its cameras and possible duplicates; 200 with the kept one
    when the same `client_id` was sent before (a phone sending its queue again)."""
    who = require(request, "report")
    try:
        new = await _read_report(request)
        incident, created, duplicates = await _service(request).report(who.name, new, time.time())
    except (Refused, BadPhoto) as refused:
        return json_error(400, str(refused))
    body = _whole(request, incident) | {"duplicates": [_service(request).summary(d) for d in duplicates]}
    return web.json_response(body, status=201 if created else 200)


async def list_incidents(request: web.Request) -> web.Response:
    """GET /api/incidents?state=new,acknowledged&kind=fire&min_severity=3&since=&until=&open=1&limit=200"""
    who = principal(request)
    if not (who.rights.can("watch") or who.rights.can("report")):
        return json_error(403, f"your role ({who.rights.role}) may not do this")
    query = _query(request, who.name if who.rights.role == "reporter" else "")
    if isinstance(query, web.Response):
        return query
    service = _service(request)
    found = await service.search(query)
    shown = [service.summary(i) for i in found if may_see(who.rights, who.name, i.reporter, i.site)]
    return web.json_response({"incidents": shown, "count": len(shown)})


async def map_view(request: web.Request) -> web.Response:
    """GET /api/incidents/map: what the operators' map draws at once: every open incident the caller may see
    (the queue's order), the heat of the last 30 days, the staff on duty, and the wall's rule."""
    who = require(request, "watch")
    service, now = _service(request), time.time()
    settings = service.settings
    heat = await service.heat(who.rights, who.name, now - HEAT_DAYS * 86400)
    return web.json_response({
        "incidents": [service.summary(i) for i in service.open_seen_by(who.rights, who.name)],
        "heat": {"days": HEAT_DAYS, "points": heat},
        "staff": service.staff.listed(now),
        "wall_severity": settings.wall_severity, "position_stale_s": settings.position_stale_s, "now": round(now, 3),
    })  # fmt: skip


async def get_incident(request: web.Request) -> web.Response:
    """One incident with its history, the cameras near it and every file kept with it (photos, snapshots)."""
    incident = await _visible(request)
    files = await _service(request).listed_files(incident.id)
    base = f"/api/incidents/{incident.id}/files/"
    shown = [{"name": f.name, "kind": f.kind, "at": round(f.at, 3), "sha256": f.sha256, "url": base + f.name} for f in files]
    return web.json_response(_whole(request, incident) | {"files": shown})


async def change_incident(request: web.Request) -> web.Response:
    """PATCH /api/incidents/{id} with any of "state", "team", "severity", "comment", "merge_into"."""
    who = require(request, "triage")
    incident = await _visible(request)
    patch = await json_object(request, '{"state": "acknowledged"} or {"severity": 4, "comment": "spreading"}')
    try:
        changed = await _service(request).change(incident.id, who.name, patch, time.time())
    except Refused as refused:
        return json_error(409 if "already" in str(refused) or "cannot" in str(refused) else 400, str(refused))
    return web.json_response(_whole(request, changed))


async def get_file(request: web.Request) -> web.Response:
    """GET /api/incidents/{id}/files/{name}: a photo or a snapshot kept with the incident."""
    incident = await _visible(request)
    found = await _service(request).file(incident.id, request.match_info["name"])
    if found is None:
        return json_error(404, f"no file {request.match_info['name']!r} with {incident.id}")
    return web.Response(body=found.body, content_type=found.media, headers={"Cache-Control": "private, max-age=3600"})


async def export_incident(request: web.Request) -> web.Response:
    """GET /api/incidents/{id}/export: the incident as one JSON file (history, photos, snapshots, each with
    its SHA-256); the file's own SHA-256 goes in the audit trail and in the `X-Content-SHA256` header."""
    who = require(request, "triage")
    incident = await _visible(request)
    service = _service(request)
    files, cameras = await service.files_of(incident.id)
    body, digest = export(incident, files, cameras, service.summary(incident), who.name)
    record_for(request, "incident_exported", incident=incident.id, sha256=digest, bytes=len(body))
    headers = {"Content-Disposition": f'attachment; filename="{incident.id}.json"', "X-Content-SHA256": digest,
               "Cache-Control": "no-store"}  # fmt: skip
    return web.Response(body=body, content_type="application/json", headers=headers)


async def put_position(request: web.Request) -> web.Response:
    """PUT /api/staff/position {"lat", "lon", "accuracy_m"} from a worker on duty; {"on_duty": false} ends it."""
    who = require(request, "report")
    body = await json_object(request, '{"lat": 31.77, "lon": 117.3, "accuracy_m": 12}')
    service = _service(request)
    if body.get("on_duty") is False:
        service.staff.off_duty(who.name, time.time())
        return web.json_response({"on_duty": False})
    lat, lon, accuracy = body.get("lat"), body.get("lon"), body.get("accuracy_m")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lon))
    if not numbers or not (-90 <= lat <= 90 and -180 <= lon <= 180):  # type: ignore[operator]
        return json_error(400, '"lat" and "lon" must be numbers: a place on Earth')
    if accuracy is not None and (not isinstance(accuracy, (int, float)) or isinstance(accuracy, bool) or accuracy < 0):
        return json_error(400, '"accuracy_m" must be a number of metres, or left out')
    position = service.staff.report_position(who.name, float(lat), float(lon), accuracy, time.time())  # type: ignore[arg-type]
    return web.json_response(position.to_json(time.time(), service.staff.stale_s))


async def list_staff(request: web.Request) -> web.Response:
    """GET /api/staff: the workers on duty, each with the age of its fix (stale ones marked)."""
    require(request, "watch")
    service, now = _service(request), time.time()
    return web.json_response({"staff": service.staff.listed(now)})


async def _visible(request: web.Request) -> Incident:
    who = principal(request)
    incident_id = request.match_info["id"]
    found = await _service(request).get(incident_id)
    if found is None or not may_see(who.rights, who.name, found.reporter, found.site):
        raise web.HTTPNotFound(text=json.dumps({"error": f"no incident {incident_id!r}"}), content_type="application/json")
    return found


def _whole(request: web.Request, incident: Incident) -> dict:
    """One incident with its history, photos and the online cameras near it the caller may see."""
    service, who, index = _service(request), principal(request), request.app[INDEX]
    records = index.records
    cameras = [c.to_json() for c in service.near(incident) if (r := records.get(c.id)) is not None and who.rights.may_see(r)]
    base = f"/api/incidents/{incident.id}/files/"
    return service.summary(incident) | {
        "text": incident.text,
        "history": [step.to_json() for step in incident.history],
        "photos": [base + name for name in incident.photos],
        "cameras": cameras,
    }


def _query(request: web.Request, reporter: str) -> Query | web.Response:
    q = request.query
    states = tuple(s for s in q.get("state", "").split(",") if s)
    kinds = tuple(k for k in q.get("kind", "").split(",") if k)
    if any(s not in STATES for s in states):
        return json_error(400, f'"state" must be a comma-separated list of {", ".join(STATES)}')
    if any(k not in KINDS for k in kinds):
        return json_error(400, f'"kind" must be a comma-separated list of {", ".join(KINDS)}')
    numbers = {}
    for name, parse in (("min_severity", ascii_int), ("limit", ascii_int), ("since", ascii_float), ("until", ascii_float)):
        if name in q:
            value = parse(q[name])
            if value is None:
                return json_error(400, f'"{name}" must be a number')
            numbers[name] = value
    severity, limit = numbers.get("min_severity", 1), numbers.get("limit", 200)
    if not 1 <= severity <= 4 or not 1 <= limit <= MAX_LIST:
        return json_error(400, f'"min_severity" must be 1 to 4 and "limit" 1 to {MAX_LIST}')
    return Query(states, kinds, int(severity), numbers.get("since"), numbers.get("until"), reporter,
                 q.get("open") in ("1", "true"), int(limit))  # fmt: skip


async def _read_report(request: web.Request) -> NewReport:
    if request.content_type == "application/x-www-form-urlencoded":  # a form with no photo
        posted = await request.post()
        return _from_form({name: str(posted[name]) for name in FIELDS if name in posted}, [])
    if not request.content_type.startswith("multipart/"):
        body = await json_object(request, REPORT_USAGE)
        return NewReport(body.get("kind"), body.get("severity"), body.get("lat"), body.get("lon"), body.get("text"),
                         body.get("client_id", ""))  # fmt: skip
    limit = request.app[SECURITY].incidents.photo_max_bytes
    fields: dict[str, str] = {}
    photos: list[bytes] = []
    deadline = max(30.0, request.app[SECURITY].hub.header_timeout_s)
    try:
        async with asyncio.timeout(deadline):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    raise Refused("nested multipart bodies are not taken")
                if part.name == "photo":
                    if len(photos) >= MAX_PHOTOS:
                        raise Refused(f"at most {MAX_PHOTOS} photos a report")
                    photos.append(await _read_part(part, limit, "photo"))
                elif part.name in FIELDS:
                    fields[part.name] = (await _read_part(part, MAX_FIELD_BYTES, part.name)).decode("utf-8", "replace")
                else:
                    raise Refused(f"unknown form field {part.name!r}: expected {', '.join(FIELDS)} and photo")
    except TimeoutError:
        raise Refused(f"the report did not arrive within {deadline:g} s") from None
    except ValueError as bad:  # a malformed form
        if isinstance(bad, (Refused, BadPhoto)):
            raise
        raise Refused(f"the form could not be read: {bad}") from None
    return _from_form(fields, photos)


def _from_form(fields: dict[str, str], photos: list[bytes]) -> NewReport:
    """A form's text fields as the JSON body would carry them (numbers as numbers)."""
    number = ascii_int(fields.get("severity"))
    return NewReport(
        fields.get("kind"), number if number is not None else fields.get("severity"),
        ascii_float(fields.get("lat")), ascii_float(fields.get("lon")), fields.get("text"), fields.get("client_id", ""),
        tuple(photos),
    )  # fmt: skip


async def _read_part(part: BodyPartReader, limit: int, what: str) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(65536):
        data += chunk
        if len(data) > limit:
            raise BadPhoto(f"a {what} may be at most {limit // 1_000_000 or limit} {'MB' if limit >= 1_000_000 else 'bytes'}")
    return bytes(data)
