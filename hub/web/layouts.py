"""Named wall layouts, saved on the server in one JSON file (written atomically) next to the config.

Runs on the event loop. Layouts are shared by everyone, so each caller sees only the tiles it may
see (the others read as empty), and nobody can overwrite or delete a layout that holds a camera
hidden from them: that would silently take it off somebody else's wall.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Container
from pathlib import Path

from aiohttp import web

from hub.web.access import principal, record_for, require
from hub.web.bodies import json_object
from hub.web.keys import INDEX

SIZES = (1, 4, 9, 16, 25, 36)
NAME = re.compile(r"^[\w .-]{1,64}$")
MAX_LAYOUTS = 200
LAYOUTS = web.AppKey("layouts", "LayoutStore")


class LayoutStore:
    def __init__(self, path: Path):
        self.path = path

    def load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, layouts: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".layouts-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(layouts, out, indent=1, ensure_ascii=False)
        os.replace(tmp, self.path)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def validate(body: object, known: Container[str]) -> tuple[dict | None, str]:
    """A layout from a request body, or (None, why not); every tile must name a stream in `known`."""
    if not isinstance(body, dict):
        return None, "body must be a JSON object"
    size, tiles = body.get("size"), body.get("tiles", [])
    if size not in SIZES:
        return None, f'"size" must be one of {", ".join(map(str, SIZES))}'
    if not isinstance(tiles, list) or len(tiles) > size or not all(t is None or isinstance(t, str) for t in tiles):
        return None, '"tiles" must be a list of at most "size" stream ids (or null for an empty tile)'
    unknown = sorted({t for t in tiles if t is not None and t not in known})
    if unknown:
        return None, f"unknown stream ids: {', '.join(unknown)}"
    rotate = body.get("tour_s")
    if rotate is not None and (not isinstance(rotate, (int, float)) or isinstance(rotate, bool) or not 2 <= rotate <= 3600):
        return None, '"tour_s" must be seconds from 2 to 3600'
    return {"size": size, "tiles": tiles, "tour_s": rotate}, ""


class _Visible(Container[str]):
    """The stream ids a principal may see, as a container for `validate`."""

    def __init__(self, records: dict, rights):
        self.records, self.rights = records, rights

    def __contains__(self, stream_id: object) -> bool:
        record = self.records.get(stream_id)
        return record is not None and self.rights.may_see(record)


def _hides(layout: dict, visible: _Visible) -> bool:
    return any(t is not None and t not in visible for t in layout.get("tiles", []))


def _masked(layout: dict, visible: _Visible) -> dict:
    return {**layout, "tiles": [t if t is None or t in visible else None for t in layout.get("tiles", [])]}


def _visible(request: web.Request) -> _Visible:
    return _Visible(request.app[INDEX].records, principal(request).rights)


async def list_layouts(request: web.Request) -> web.Response:
    visible = _visible(request)
    layouts = request.app[LAYOUTS].load()
    return web.json_response({"layouts": {name: _masked(layout, visible) for name, layout in layouts.items() if isinstance(layout, dict)}})


def _hidden_refusal(layouts: dict, name: str, visible: _Visible) -> web.Response | None:
    existing = layouts.get(name)
    if isinstance(existing, dict) and _hides(existing, visible):
        return _error(403, f"layout {name!r} holds cameras you may not see: ask an admin to change it")
    return None


async def put_layout(request: web.Request) -> web.Response:
    require(request, "arrange")
    name = request.match_info["name"]
    if not NAME.match(name):
        return _error(400, "layout names are 1 to 64 letters, digits, spaces, '.', '_' or '-'")
    body = await json_object(request, '{"size": 4, "tiles": ["ps-0001", null, null, null]}')
    visible = _visible(request)
    layout, problem = validate(body, visible)
    if layout is None:
        return _error(400, problem)
    store = request.app[LAYOUTS]
    layouts = store.load()
    refused = _hidden_refusal(layouts, name, visible)
    if refused is not None:
        return refused
    if name not in layouts and len(layouts) >= MAX_LAYOUTS:
        return _error(409, f"at most {MAX_LAYOUTS} layouts")
    layouts[name] = layout
    store.save(layouts)
    record_for(request, "layout_saved", layout=name, tiles=[t for t in layout["tiles"] if t])
    return web.json_response({"name": name, **layout})


async def delete_layout(request: web.Request) -> web.Response:
    require(request, "arrange")
    store, name = request.app[LAYOUTS], request.match_info["name"]
    layouts = store.load()
    refused = _hidden_refusal(layouts, name, _visible(request))
    if refused is not None:
        return refused
    if layouts.pop(name, None) is None:
        return _error(404, "no such layout")
    store.save(layouts)
    record_for(request, "layout_deleted", layout=name)
    return web.json_response({"deleted": request.match_info["name"]})
