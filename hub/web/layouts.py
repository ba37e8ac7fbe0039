"""Named wall layouts, saved on the server in one JSON file (written atomically) next to the config.

Runs on the event loop. Layouts are shared by everyone, and nothing about a camera hidden from a
caller may leak through them, nor may a caller take a hidden camera off somebody else's wall:

- a caller sees the layouts that hold at least one camera it may see (or none at all), and in them
  only its cameras: the others' tiles read as empty; a layout of hidden cameras only does not
  exist for it;
- saving changes what the caller can see: a hidden camera keeps its tile when the caller left that
  tile empty, and otherwise moves to the first empty tile (the layout grows to the next size when
  none is left); refusals name no hidden camera ("unknown stream ids" is said alike of hidden and
  unknown ones);
- deleting removes what the caller can see: a layout that also holds hidden cameras keeps them for
  the people who see them (and is gone for the caller); one of hidden cameras only is "no such layout".
"""

from __future__ import annotations

import json
import re
from collections.abc import Container
from pathlib import Path

from aiohttp import web

from hub.safe.files import private_dir, write_private
from hub.web.access import principal, record_for, require
from hub.web.bodies import json_object
from hub.web.keys import INDEX

SIZES = (1, 4, 9, 16, 25, 36)
NAME = re.compile(r"[\w .-]{1,64}")  # whole name (fullmatch): no trailing newline
MAX_LAYOUTS = 200
LAYOUTS: web.AppKey[LayoutStore] = web.AppKey("layouts")


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
        write_private(private_dir(self.path.parent) / self.path.name, json.dumps(layouts, indent=1, ensure_ascii=False))


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


def _hidden(layout: dict, visible: Container[str]) -> dict[int, str]:
    """Tile index -> camera, for the cameras of `layout` hidden from the caller."""
    return {i: t for i, t in enumerate(layout.get("tiles", [])) if t is not None and t not in visible}


def _shown_to(layout: dict, visible: Container[str]) -> bool:
    """Whether the layout exists for the caller: it holds one of its cameras, or no camera at all."""
    tiles = [t for t in layout.get("tiles", []) if t is not None]
    return not tiles or any(t in visible for t in tiles)


def _masked(layout: dict, visible: Container[str]) -> dict:
    return {**layout, "tiles": [t if t is None or t in visible else None for t in layout.get("tiles", [])]}


def merge_hidden(new: dict, old: dict | None, visible: Container[str]) -> dict:
    """`new` as the caller sent it, with the cameras of `old` hidden from the caller kept: each in its own
    tile if the caller left it empty, else in the first empty tile; the size grows if none is left."""
    hidden = _hidden(old, visible) if isinstance(old, dict) else {}
    if not hidden:
        return new
    tiles = list(new["tiles"]) + [None] * (new["size"] - len(new["tiles"]))
    displaced = []
    for i, camera in sorted(hidden.items()):
        if i < len(tiles) and tiles[i] is None:
            tiles[i] = camera
        else:
            displaced.append(camera)
    for camera in displaced:
        if None not in tiles:
            size = next(n for n in SIZES if n > len(tiles))
            tiles += [None] * (size - len(tiles))
        tiles[tiles.index(None)] = camera
    return {**new, "size": len(tiles), "tiles": tiles}


def _visible(request: web.Request) -> _Visible:
    return _Visible(request.app[INDEX].records, principal(request).rights)


async def list_layouts(request: web.Request) -> web.Response:
    visible = _visible(request)
    layouts = request.app[LAYOUTS].load()
    return web.json_response(
        {
            "layouts": {
                name: _masked(layout, visible)
                for name, layout in layouts.items()
                if isinstance(layout, dict) and _shown_to(layout, visible)
            }
        }
    )


async def put_layout(request: web.Request) -> web.Response:
    require(request, "arrange")
    name = request.match_info["name"]
    if not NAME.fullmatch(name):
        return _error(400, "layout names are 1 to 64 letters, digits, spaces, '.', '_' or '-'")
    body = await json_object(request, '{"size": 4, "tiles": ["ps-0001", null, null, null]}')
    visible = _visible(request)
    layout, problem = validate(body, visible)
    if layout is None:
        return _error(400, problem)
    store = request.app[LAYOUTS]
    layouts = store.load()
    if name not in layouts and len(layouts) >= MAX_LAYOUTS:
        return _error(409, f"at most {MAX_LAYOUTS} layouts")
    saved = layouts[name] = merge_hidden(layout, layouts.get(name), visible)
    store.save(layouts)
    record_for(request, "layout_saved", layout=name, tiles=[t for t in saved["tiles"] if t])
    return web.json_response({"name": name, **_masked(saved, visible)})


async def delete_layout(request: web.Request) -> web.Response:
    require(request, "arrange")
    store, name, visible = request.app[LAYOUTS], request.match_info["name"], _visible(request)
    layouts = store.load()
    layout = layouts.get(name)
    if not isinstance(layout, dict) or not _shown_to(layout, visible):
        return _error(404, "no such layout")
    hidden = _hidden(layout, visible)
    if hidden:  # the others' cameras stay on their wall; for the caller the layout is gone
        layouts[name] = {**layout, "tiles": [t if i in hidden else None for i, t in enumerate(layout.get("tiles", []))]}
    else:
        del layouts[name]
    store.save(layouts)
    record_for(request, "layout_deleted", layout=name, kept_for_others=sorted(hidden.values()))
    return web.json_response({"deleted": name})
