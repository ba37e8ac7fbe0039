"""A report as it arrives (from a phone's form or a JSON body), and the checks it passes before it is filed.
Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from hub.incidents.model import KINDS, SEVERITIES, Refused

MAX_TEXT = 2000


@dataclass(frozen=True)
class NewReport:
    """A report as the API read it, checked for types but not yet for sense."""

    kind: object
    severity: object
    lat: object
    lon: object
    text: object
    client_id: object = ""
    photos: tuple[bytes, ...] = ()


def checked(new: NewReport) -> tuple[str, int, float, float, str, str]:
    """(kind, severity, lat, lon, text, client_id), or `Refused` saying what is wrong."""
    if new.kind not in KINDS:
        raise Refused(f'"kind" must be one of {", ".join(KINDS)}')
    if not isinstance(new.severity, int) or isinstance(new.severity, bool) or new.severity not in SEVERITIES:
        raise Refused('"severity" must be 1, 2, 3 or 4 (4 the most serious)')
    lat, lon = new.lat, new.lon
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lon)):
        raise Refused('"lat" and "lon" must be numbers: where it happens')
    if not (-90.0 <= float(lat) <= 90.0 and -180.0 <= float(lon) <= 180.0):  # type: ignore[arg-type]
        raise Refused(f"({lat}, {lon}) is not a place on Earth")
    text = new.text if isinstance(new.text, str) else None
    if text is None or len(text) > MAX_TEXT:
        raise Refused(f'"text" must be a description of at most {MAX_TEXT} characters')
    client_id = new.client_id if isinstance(new.client_id, str) else None
    if client_id is None or len(client_id) > 64 or not all(c.isalnum() or c in "-_" for c in client_id):
        raise Refused('"client_id" must be up to 64 letters, digits, "-" or "_"')
    return str(new.kind), int(new.severity), float(lat), float(lon), text.strip(), client_id  # type: ignore[arg-type]
