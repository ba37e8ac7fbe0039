"""GET /api/openapi.json: an OpenAPI 3.0 description of the hub's HTTP API (built once, served as is).

Pure data plus one handler on the event loop. The property-based test (tests/e2e/test_openapi_fuzz.py)
generates requests from this description and checks that none gets a 500 or a traceback.
"""

from __future__ import annotations

from aiohttp import web

from hub.config import CATEGORIES
from hub.diagnostics.settings import PICTURE_CHECKS
from hub.health import STATES
from hub.incidents.model import KINDS
from hub.incidents.model import STATES as STATES_OF_INCIDENTS

STREAM_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
CHECK = {"name": "check", "in": "path", "required": True, "schema": {"type": "string", "enum": list(PICTURE_CHECKS)}}
REASON = {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}
LAYOUT_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
ERROR = {"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
OK_JSON = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}


def _op(
    summary: str, params: list | None = None, body: dict | None = None, ok: dict | None = None, errors=(400, 401, 403, 404)
) -> dict:
    responses: dict = {"200": ok or OK_JSON} | {str(code): ERROR for code in errors}
    operation: dict = {"summary": summary, "parameters": params or [], "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def describe() -> dict:
    layout = {
        "type": "object",
        "required": ["size"],
        "properties": {
            "size": {"type": "integer", "enum": [1, 4, 9, 16, 25, 36]},
            "tiles": {"type": "array", "items": {"type": "string", "nullable": True}},
            "tour_s": {"type": "number", "nullable": True},
        },
    }
    position = {
        "type": "object",
        "required": ["lat", "lon"],
        "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}, "at": {"type": "number"}},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "hub",
            "version": "1",
            "description": "Video-feed aggregation and monitoring hub. Sign in with a "
            "session (POST /api/login; state changes then need X-CSRF-Token and a same-origin Origin) or send a bearer token.",
        },
        "components": {
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "hub_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/streams": {
                "get": _op(
                    "Streams the caller may see, with counts",
                    [
                        _query("category", {"type": "string", "enum": list(CATEGORIES)}),
                        _query("state", {"type": "string", "enum": list(STATES)}),
                        _query("q", {"type": "string"}),
                    ],
                )
            },
            "/api/streams/{id}": {"get": _op("One stream's record", [STREAM_ID])},
            "/api/streams/{id}/snapshot.jpg": {
                "get": _op(
                    "The latest picture",
                    [STREAM_ID, _query("width", {"type": "integer"})],
                    ok={"description": "JPEG", "content": {"image/jpeg": {}}},
                    errors=(400, 401, 403, 404, 503),
                )
            },
            "/api/streams/{id}/position": {
                "put": _op("A vehicle's GPS fix", [STREAM_ID], position, errors=(400, 401, 403, 404, 409))
            },
            "/api/streams/{id}/open": {
                "post": _op(
                    "Open a sensitive stream, giving a reason",
                    [STREAM_ID],
                    {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
                )
            },
            "/api/streams/{id}/diagnosis": {
                "get": _op("Picture diagnostics of one stream: failing, muted, references, scores", [STREAM_ID])
            },
            "/api/streams/{id}/reference": {
                "post": _op(
                    "Accept the current view as the reference (operators)", [STREAM_ID], REASON, errors=(400, 401, 403, 404, 409)
                )
            },
            "/api/streams/{id}/mutes/{check}": {
                "put": _op(
                    "Mute a picture check on this stream for a time, with a reason (operators)",
                    [STREAM_ID, CHECK],
                    {
                        "type": "object",
                        "required": ["minutes", "reason"],
                        "properties": {"minutes": {"type": "number"}, "reason": {"type": "string"}},
                    },
                ),
                "delete": _op("Unmute a picture check (operators)", [STREAM_ID, CHECK]),
            },
            "/api/outages": {"get": _op("Open grouped outages: many cameras of one site or tag down together")},
            "/api/events": {
                "get": _op(
                    "Server-Sent Events: state changes and positions of the streams the caller may see",
                    ok={"description": "an event stream", "content": {"text/event-stream": {}}},
                )
            },
            "/api/live": {
                "get": _op(
                    'WebSocket for wall video and tile status (send {"watch": [ids]})',
                    ok={"description": "switching protocols"},
                    errors=(400, 401, 403),
                )
            },
            "/api/openapi.json": {"get": {**_op("This description", errors=()), "security": []}},
            "/api/layouts": {"get": _op("Saved wall layouts")},
            "/api/layouts/{name}": {
                "put": _op("Save a layout", [LAYOUT_NAME], layout, errors=(400, 401, 403, 409)),
                "delete": _op("Delete a layout", [LAYOUT_NAME]),
            },
            "/api/reload": {"post": _op("Re-read the config file (admins)")},
            "/api/ui": {"get": _op("Settings for the page")},
            "/api/me": {"get": _op("Who the caller is and may be")},
            "/api/login": {
                "post": _op(
                    "Sign in",
                    body={
                        "type": "object",
                        "required": ["user", "password"],
                        "properties": {"user": {"type": "string"}, "password": {"type": "string"}},
                    },
                    errors=(400, 401, 403, 429),
                )
                | {"security": []}
            },
            "/api/logout": {"post": _op("Sign out")},
            "/api/audit": {
                "get": _op(
                    "The audit trail (admins), newest first (a cluster node: every node's, each entry with its node)",
                    [
                        _query("since", {"type": "string"}),
                        _query("until", {"type": "string"}),
                        _query("who", {"type": "string"}),
                        _query("action", {"type": "string"}),
                        _query("stream", {"type": "string"}),
                        _query("limit", {"type": "integer"}),
                    ],
                )
            },
            **_incident_paths(),
            "/healthz": {"get": {**_op("Alive (details for admins)", errors=()), "security": []}},
            "/metrics": {
                "get": _op("Prometheus text format", ok={"description": "metrics", "content": {"text/plain": {}}}, errors=(401,))
            },
        },
    }


def _incident_paths() -> dict:
    report = {
        "type": "object",
        "required": ["kind", "severity", "lat", "lon", "text"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "severity": {"type": "integer", "enum": [1, 2, 3, 4]},
            "lat": {"type": "number"},
            "lon": {"type": "number"},
            "text": {"type": "string"},
            "client_id": {"type": "string"},
        },
    }
    change = {
        "type": "object",
        "properties": {
            "state": {"type": "string", "enum": list(STATES_OF_INCIDENTS)},
            "team": {"type": "string"},
            "severity": {"type": "integer"},
            "comment": {"type": "string"},
            "merge_into": {"type": "string"},
        },
    }
    incident_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    file_name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/api/incidents": {
            "post": _op(
                "Report an incident (JSON, or a form with up to 3 photos); the same client_id twice is one incident",
                body=report,
            ),
            "get": _op(
                "Incidents the caller may see (a reporter: its own), filtered",
                [
                    _query("state", {"type": "string"}),
                    _query("kind", {"type": "string"}),
                    _query("min_severity", {"type": "integer"}),
                    _query("since", {"type": "number"}),
                    _query("until", {"type": "number"}),
                    _query("open", {"type": "string", "enum": ["1", "0"]}),
                    _query("limit", {"type": "integer"}),
                ],
            ),
        },
        "/api/incidents/map": {
            "get": _op("What the operators' map draws: the open incidents, the heat of 30 days, the staff on duty")
        },
        "/api/incidents/{id}": {
            "get": _op("One incident with its history and the cameras near it", [incident_id]),
            "patch": _op(
                "Triage: state, team, severity, comment or merge (operators)",
                [incident_id],
                change,
                errors=(400, 401, 403, 404, 409),
            ),  # fmt: skip
        },
        "/api/incidents/{id}/files/{name}": {
            "get": _op(
                "A photo or snapshot kept with an incident",
                [incident_id, file_name],
                ok={"description": "the file", "content": {"image/jpeg": {}}},
            )  # fmt: skip
        },
        "/api/incidents/{id}/export": {
            "get": _op(
                "The incident as one JSON file, with its photos and snapshots (operators; audited with its hash)",
                [incident_id],
                ok={"description": "the file", "content": {"application/json": {}}},
            )  # fmt: skip
        },
        "/api/staff/position": {
            "put": _op(
                'A grid worker\'s own position while on duty ({"on_duty": false} ends it)',
                body={
                    "type": "object",
                    "properties": {
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "accuracy_m": {"type": "number"},
                        "on_duty": {"type": "boolean"},
                    },
                },
            )  # fmt: skip
        },
        "/api/staff": {"get": _op("Grid workers on duty, with the age of each fix")},
    }


async def document(request: web.Request) -> web.Response:
    return web.json_response(describe())
