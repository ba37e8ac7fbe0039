"""An incident's evidence: the pictures of the cameras near it when it was reported, and the incident as one
file to hand over.

Who runs where: the event loop (`keep_snapshots` is a task the service starts per report; `export` runs
in the caller's handler). The snapshots are the cameras' own pictures (the JPEGs the hub keeps of each
camera's latest sampled picture): the report holds the cameras live, so within seconds each has a picture
taken after the report; one that has none by `WAIT_S` keeps the newest it has, with its own time, and the
history says which is which. Sensitive cameras (childcare) are left out: their pictures are shown only
to a person who gives a reason.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time

from hub.incidents.model import Incident
from hub.incidents.store import StoredFile

WAIT_S = 15.0  # for pictures taken after the report
POLL_S = 0.5


async def keep_snapshots(service, incident: Incident, camera_ids: list[str]) -> None:
    """`service`: the `IncidentService`, whose `estate.snapshot` gives pictures and `add_evidence` keeps them."""
    if not camera_ids:
        return
    deadline = time.monotonic() + WAIT_S
    fresh: dict[str, tuple[bytes, float]] = {}
    while len(fresh) < len(camera_ids) and time.monotonic() < deadline:
        for camera_id in camera_ids:
            shot = service.estate.snapshot(camera_id)
            if shot is not None and shot[1] >= incident.reported_at:
                fresh[camera_id] = shot
        if len(fresh) < len(camera_ids):
            await asyncio.sleep(POLL_S)
    files, older, missing = [], [], []
    for camera_id in camera_ids:
        shot = fresh.get(camera_id) or service.estate.snapshot(camera_id)
        if shot is None:
            missing.append(camera_id)
            continue
        if camera_id not in fresh:
            older.append(camera_id)
        files.append(StoredFile.of(f"snapshot-{camera_id}.jpg", "snapshot", "image/jpeg", shot[1], shot[0]))
    detail = {"snapshots": [f.name for f in files], "taken_before_the_report": older, "no_picture": missing}
    await service.add_evidence(incident.id, files, detail)


def export(incident: Incident, files: list[StoredFile], cameras: list[dict], summary: dict, by: str) -> tuple[bytes, str]:
    """The incident as one JSON file (its fields, history, the cameras near it when reported, and every photo
    and snapshot with its SHA-256), and that file's SHA-256, which the caller writes in the audit trail."""
    document = {
        "incident": summary | {"text": incident.text},
        "history": [step.to_json() for step in incident.history],
        "cameras_at_report": cameras,
        "files": [
            {
                "name": f.name,
                "kind": f.kind,
                "media": f.media,
                "at": round(f.at, 3),
                "sha256": f.sha256,
                "base64": base64.b64encode(f.body).decode(),
            }
            for f in files
        ],  # fmt: skip
        "exported_at": round(time.time(), 3),
        "exported_by": by,
    }
    body = json.dumps(document, ensure_ascii=False, indent=1).encode()
    return body, hashlib.sha256(body).hexdigest()
