"""REST handlers: stream list and records, snapshots, vehicle positions, reload, health, metrics."""

from __future__ import annotations

import math
import time
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from hub.config import CATEGORIES, ConfigError, load_config
from hub.health import STATES
from hub.index import StreamRecord
from hub.safe.numbers import ascii_int
from hub.web.access import ACCESS, ADDRESS, principal, principal_or_none, record_for, require, visible_or_404
from hub.web.account import needs_reason
from hub.web.bodies import json_object
from hub.web.keys import CHANNEL, CLUSTER, CONFIG_PATH, INDEX, MONITOR, READ_DOOR, SHARED_RELOADS, SNAPSHOTS, STREAM_LISTS
from hub.web.metrics.scoped import metrics_for
from hub.web.middleware import bad_request, json_error

MAX_SNAPSHOT_WIDTH = 3840
FUTURE_FIX_TOLERANCE_S = 5.0  # a GPS fix dated later than this ahead of the hub's clock is refused


def _record(request: web.Request) -> StreamRecord:
    return visible_or_404(request, request.app[INDEX].records.get(request.match_info["id"]))


async def list_streams(request: web.Request) -> web.Response:
    category = request.query.get("category") or None
    state = request.query.get("state") or None
    if category and category not in CATEGORIES:
        raise bad_request(f"unknown category {category!r}: expected one of {', '.join(CATEGORIES)}")
    if state and state not in STATES:
        raise bad_request(f"unknown state {state!r}: expected one of {', '.join(STATES)}")
    query = request.query.get("q") or None
    if query is not None and len(query) > 200:
        raise bad_request("q is at most 200 characters")
    rights = principal(request).rights
    copy = request.app[READ_DOOR].published()  # while the read door runs, its copy: one truth for both ways in
    if copy is not None:
        body = copy.listing(rights, category, state, query)
    else:
        body = await request.app[STREAM_LISTS].body(rights, category, state, query)
    return web.Response(body=body, content_type="application/json")


async def get_stream(request: web.Request) -> web.Response:
    copy = request.app[READ_DOOR].published()
    if copy is not None:
        found = copy.record(principal(request).rights, request.match_info["id"])  # None: unknown or not to be seen
        body = found if found is not None else visible_or_404(request, None)
    else:
        body = _record(request).json_bytes()
    return web.Response(body=body, content_type="application/json", charset="utf-8")


async def get_snapshot(request: web.Request) -> web.Response:
    record = _record(request)
    width_text = request.query.get("width")
    width = None
    if width_text is not None:
        width = ascii_int(width_text)
        if width is None or not 16 <= width <= MAX_SNAPSHOT_WIDTH:
            raise bad_request(f"width must be an integer from 16 to {MAX_SNAPSHOT_WIDTH}")
    # Somebody opened this camera (a map popup, say): a patrolled one goes live for a while, and a live one
    # makes every sampled picture a JPEG meanwhile; a picture older than that gets a moment to be replaced.
    refused = needs_reason(request, record)
    if refused is not None:
        return refused
    wait = request.query.get("wait", "1")
    if wait not in ("0", "1"):
        raise bad_request("wait must be 0 (the latest picture at once) or 1 (a moment for a fresh one)")
    request.app[ACCESS].record_once(principal(request), "snapshot", record.id, request[ADDRESS])
    if CLUSTER in request.app and not request.app[CLUSTER].pulls(record):  # another node pulls it: ask that node
        return await request.app[CHANNEL].snapshot(record, width, wait == "1")
    return await snapshot_response(request.app, record, width, wait == "1")


async def snapshot_response(app: web.Application, record: StreamRecord, width: int | None, wait: bool) -> web.Response:
    """The camera's latest picture (`wait`: a moment for a fresh one), with its age and state; the
    cameras this node pulls (a browser's request, or another cluster node's over the internal channel)."""
    await app[MONITOR].look(record.id, wait=wait)
    if record.snapshot is None:
        return json_error(503, f"no picture from stream {record.id!r} yet")
    data = record.snapshot
    if width is not None:
        data = await app[SNAPSHOTS].scaled(record.id, record.snapshot_seq, data, width)
    taken_at = record.snapshot_at if record.snapshot_at is not None else time.time()  # set with the snapshot
    # The age on the hub's clock and the state at the same instant let a page caption the picture truthfully
    # without trusting its own clock or its own (possibly a moment old) copy of the state.
    headers = {
        "Cache-Control": "no-store",
        "X-Snapshot-At": f"{taken_at:.3f}",
        "X-Snapshot-Age": f"{max(0.0, time.time() - taken_at):.3f}",
        "X-Stream-State": record.state,
    }
    return web.Response(body=data, content_type="image/jpeg", headers=headers)


def _timestamp(value: object) -> float:
    if value is None:
        return time.time()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise bad_request('"at" must be seconds since the epoch or an ISO 8601 time')


def _coordinate(body: dict, key: str, limit: float) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > limit:
        raise bad_request(f'"{key}" must be a number from -{limit:g} to {limit:g}')
    return float(value)


async def put_position(request: web.Request) -> web.Response:
    record = _record(request)
    require(request, "acknowledge")
    if not record.reports_position:
        return json_error(
            409,
            f"stream {record.id!r} is a fixed {record.category} camera: only vehicles, and cameras "
            "with mobile = true in the config, report positions",
        )
    body = await json_object(request, '{"lat": 31.77, "lon": 117.30, "at": 1764000000}')
    lat, lon, at = _coordinate(body, "lat", 90), _coordinate(body, "lon", 180), _timestamp(body.get("at"))
    ahead = at - time.time()
    if ahead > FUTURE_FIX_TOLERANCE_S:  # kept, it would block every real fix until that date
        raise bad_request(
            f'"at" is {ahead:.0f} s ahead of the hub\'s clock (more than {FUTURE_FIX_TOLERANCE_S:g} s): '
            'fix the sender\'s clock or omit "at"'
        )
    if not request.app[MONITOR].report_position(record.id, lat, lon, at):  # the monitor writes the index
        return web.json_response({"id": record.id, "applied": False, "reason": "older than the current fix"})
    return web.json_response({"id": record.id, "applied": True, "position": record.to_json()["position"]})


async def reload_config(request: web.Request) -> web.Response:
    require(request, "administer")
    result = await reload_from_disk(request.app)
    status = 400 if "error" in result else 200
    record_for(request, "reload", refused="error" in result)
    return web.json_response(result, status=status)


async def reload_from_disk(app: web.Application, by_hand: bool = True) -> dict:
    """Re-read the config file; a bad one is refused and the running config stays. On a cluster node, a
    reload by hand (not one that follows another node's) is told to the other nodes, which reload too."""
    path = app[CONFIG_PATH]
    try:
        config = load_config(path)
    except ConfigError as exc:
        return {"error": "the new config has problems; the running config is unchanged", "problems": exc.problems}
    result = await (app[CLUSTER].reload(config) if CLUSTER in app else app[MONITOR].apply(config))
    app[ACCESS].apply(config.access)
    if by_hand and SHARED_RELOADS in app:
        app[SHARED_RELOADS].reloaded_here()
    return {"reloaded": path, **result.to_json()}


async def reload_after_another_node(app: web.Application) -> dict:
    """Another cluster node reloaded: reload this node's own copy of the config, and audit it."""
    result = await reload_from_disk(app, by_hand=False)
    app[ACCESS].record(None, "reload", via="cluster", refused="error" in result)
    return result


async def healthz(request: web.Request) -> web.Response:
    """Alive; to an admin (session or token) also the hub's load and what it can carry (is this machine big enough?)."""
    index, monitor, who = request.app[INDEX], request.app[MONITOR], principal_or_none(request)
    if who is None or not who.rights.sees_everything:  # open to anyone: no counts of cameras they may not see
        return web.json_response({"ok": True})
    reads = request.app[READ_DOOR].status()
    body = {"ok": True, "streams": len(index.records), "load": index.hub, "capacity": monitor.capacity(), "read_door": reads}
    if CLUSTER in request.app:  # this node's part: members, claims, whether it reaches Redis
        body["cluster"] = request.app[CLUSTER].status()
    return web.json_response(body)


async def metrics(request: web.Request) -> web.Response:
    body, age = await metrics_for(request.app, principal_or_none(request))
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "X-Metrics-Age": f"{age:.3f}"})
