"""The incidents as the hub runs them: reports in, triage, escalation, the cameras near each one, staff
positions, and what /metrics and the event stream say of them.

Who runs where: the event loop. The store's calls run in a worker thread, one at a time under `_lock`
(SQLite connections are not for two threads at once); photos are cleaned in a worker thread too. The
open incidents are kept in memory as well (escalation and duplicates look at them every few seconds);
the store is the truth, written before any answer or event says a change happened.

Who sees which incident: admins all; operators and viewers those of the sites they are granted (an
incident's site is its nearest camera's), or all with a grant of every category; a reporter its own.
The camera lists that come with an incident are filtered by the caller's rights at the exit, like any
stream.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from hub.auth.rights import EVERY_CATEGORY, Rights
from hub.config.incidents import IncidentSettings
from hub.incidents.estate import Estate
from hub.incidents.evidence import keep_snapshots
from hub.incidents.geo import CameraMap, NearCamera, nearest
from hub.incidents.model import (
    KINDS,
    SEVERITIES,
    Incident,
    Refused,
    Step,
    check_severity,
    check_state_change,
    duplicates_of,
    escalation_due,
    queue_order,
    replay,
    step_key,
)
from hub.incidents.photos import clean_photo
from hub.incidents.reports import MAX_TEXT, NewReport, checked
from hub.incidents.staff import StaffBoard
from hub.incidents.store import IncidentStore, Query, StoredFile

log = logging.getLogger("hub.incidents")

ACK_BUCKETS = (60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 86400.0)  # seconds to acknowledge
MAX_PHOTOS = 3
ESCALATE_EVERY_S = 5.0
HEAT_CELL_DEG = 0.0005  # the heat layer's cell: about 55 m north-south, a block


def may_see(rights: Rights, who: str, reporter: str, site: str) -> bool:
    """Whether `who` (with `rights`) may see an incident reported by `reporter` at `site`."""
    if rights.sees_everything or reporter == who:
        return True
    if rights.role == "reporter":
        return False
    return ("category", EVERY_CATEGORY) in rights.grants or (bool(site) and ("site", site) in rights.grants)


class IncidentService:
    def __init__(
        self,
        settings: IncidentSettings,
        store: IncidentStore,
        estate: Estate,
        publish: Callable[[str, dict], None],
        audit: Callable[..., None],
    ):
        """`estate`: the cameras as the hub knows them (`hub.incidents.estate`); `publish`: an event for the
        event stream; `audit(who, action, **detail)`: an entry in the audit trail."""
        self.settings, self.store, self.estate = settings, store, estate
        self._publish, self._audit = publish, audit
        self.open: dict[str, Incident] = {}
        self.staff = StaffBoard(publish, settings.position_stale_s)
        self.ack_counts = [0] * (len(ACK_BUCKETS) + 1)
        self.ack_sum = 0.0
        self._lock = asyncio.Lock()
        self._evidence: set[asyncio.Task] = set()
        self._near: dict[str, set[str]] = {}  # the cameras held live for each open incident
        self.on_change: Callable[[str], None] = lambda incident_id: None  # a cluster node shares it (`hub.cluster.incidents`)

    async def start(self) -> None:
        """Load the open incidents and the times to acknowledge from the store; hold their cameras live."""
        async with self._lock:
            opened = await asyncio.to_thread(self.store.open_incidents)
            acks = await asyncio.to_thread(self.store.ack_times)
        self.open = {i.id: i for i in opened}
        for seconds in acks:
            self._count_ack(seconds)
        self.keep_live(refresh=True)

    async def run(self) -> None:
        """Escalate what waits too long and keep the cameras near open incidents live (vehicles move,
        cameras come back), every few seconds, for the app's life."""
        try:
            while True:
                try:
                    await self.escalate(time.time())
                    self.keep_live(refresh=True)
                except Exception:  # noqa: BLE001 - one bad turn must not end escalation
                    log.exception("incidents: escalation check failed; trying again")
                await asyncio.sleep(ESCALATE_EVERY_S)
        finally:
            for task in list(self._evidence):
                task.cancel()

    def keep_live(self, refresh: bool = False) -> None:
        """The cameras near open incidents, live (patrolled ones too) while the incident is open. `refresh`:
        every incident's cameras found again (vehicles move, cameras come and go); otherwise only a new
        incident's, so that a report costs the same with one open incident or a thousand."""
        new = [i for i in self.open.values() if refresh or i.id not in self._near]
        if new:
            placed = CameraMap([c for c, _ in self.estate.cameras(False)])
            radius, limit = self.settings.camera_radius_m, self.settings.cameras
            for i in new:
                self._near[i.id] = {c.id for c in placed.nearest(i.lat, i.lon, radius, limit)}
        for closed in set(self._near) - set(self.open):
            del self._near[closed]
        self.estate.keep_live(set().union(*self._near.values()))

    async def report(self, who: str, new: NewReport, now: float) -> tuple[Incident, bool, list[Incident]]:
        """File a report: (the incident, whether it is new, open incidents it may duplicate). A report sent
        again with the same `client_id` (a phone that lost its answer) is the incident already kept."""
        kind, severity, lat, lon, text, client_id = checked(new)
        if client_id:
            async with self._lock:
                kept = await asyncio.to_thread(self.store.by_client_id, who, client_id)
            if kept is not None:
                return kept, False, []
        if len(new.photos) > MAX_PHOTOS:
            raise Refused(f"at most {MAX_PHOTOS} photos a report")
        photos = [await asyncio.to_thread(clean_photo, data, self.settings.photo_max_bytes) for data in new.photos]
        placed = self.estate.cameras(False)
        near_any = nearest([c for c, _ in placed], lat, lon, self.settings.camera_radius_m, 1)
        site = next((site for c, site in placed if c.id == near_any[0].id), "") if near_any else ""
        number = uuid.uuid4().hex[:8]
        incident = Incident(f"inc-{time.strftime('%Y%m%d', time.localtime(now))}-{number}", kind, severity, lat, lon,
                            text, who, now, client_id=client_id, site=site)  # fmt: skip
        files = [StoredFile.of(f"photo-{i + 1}.jpg", "photo", "image/jpeg", now, body) for i, body in enumerate(photos)]
        incident.photos = tuple(f.name for f in files)
        incident.history.append(Step(now, who, "reported", {"kind": kind, "severity": severity, "photos": len(files)}))
        cameras = [c.to_json() for c in self.near(incident, online_only=True)]
        async with self._lock:
            kept = await asyncio.to_thread(self.store.add, incident, cameras, files)
            if kept is None:  # the same client id, sent twice at once: the other request kept it
                again = await asyncio.to_thread(self.store.by_client_id, who, client_id)
                if again is None:
                    raise Refused("the report could not be kept; send it again")
                return again, False, []
        self.on_change(incident.id)
        self.open[incident.id] = incident
        self.keep_live()
        self._keep_evidence(incident, cameras)
        self._audit(who, "incident_reported", incident=incident.id, kind=kind, severity=severity)
        self._publish("incident", self.summary(incident) | {"change": "reported"})
        duplicates = duplicates_of(incident, list(self.open.values()), self.settings.duplicate_radius_m,
                                   self.settings.duplicate_window_s)  # fmt: skip
        return incident, True, duplicates

    async def change(self, incident_id: str, who: str, patch: dict, now: float) -> Incident:
        """Triage: a new state, a team, a higher severity, a comment, or a merge into another incident; every
        part checked before anything is written, then written at once with one history step each. Changes
        (and escalations) of incidents are made one at a time, each on the incident as last written."""
        async with self._lock:
            incident = await self._current(incident_id)
            if incident is None:
                raise LookupError(incident_id)
            changed = replace(incident, history=list(incident.history))
            steps = self._steps(changed, who, patch, now)
            if not steps:
                raise Refused('nothing to change: send "state", "team", "severity", "comment" or "merge_into"')
            await asyncio.to_thread(self.store.update, changed, steps)
            self.on_change(changed.id)
            changed.history += steps
            if changed.open:
                self.open[changed.id] = changed
            else:
                self.open.pop(changed.id, None)
                self.keep_live()
        if changed.acknowledged_at is not None and incident.acknowledged_at is None:
            self._count_ack(changed.acknowledged_at - changed.reported_at)
        for step in steps:
            self._audit(who, "incident_changed", incident=changed.id, change=step.action, **step.detail)
        self._publish("incident", self.summary(changed) | {"change": ",".join(s.action for s in steps)})
        return changed

    async def add_evidence(self, incident_id: str, files: list[StoredFile], detail: dict) -> Incident | None:
        """Keep files with an incident (snapshots, a clip), with a history step saying what was kept."""
        async with self._lock:
            incident = await self._current(incident_id)
            if incident is None:
                return None
            changed = replace(incident, history=list(incident.history))
            step = Step(time.time(), "hub", "evidence", detail)
            await asyncio.to_thread(self.store.update, changed, [step], tuple(files))
            self.on_change(incident_id)
            changed.history.append(step)
            if incident_id in self.open:
                self.open[incident_id] = changed
        self._audit("hub", "incident_evidence", incident=incident_id, files=[f.name for f in files],
                    sha256=[f.sha256 for f in files])  # fmt: skip
        return changed

    def _keep_evidence(self, incident: Incident, cameras: list[dict]) -> None:
        """Pictures of the cameras near a new incident that this hub pulls (in a cluster, each node keeps
        those of its own cameras); childcare ones are shown only with a reason, so never kept."""
        shots = [c["id"] for c in cameras if not self.estate.sensitive(c["id"]) and self.estate.pulled_here(c["id"])]
        task = asyncio.get_running_loop().create_task(keep_snapshots(self, incident, shots), name=f"evidence-{incident.id}")
        self._evidence.add(task)
        task.add_done_callback(self._evidence.discard)

    async def merge_remote(self, reported: Incident, steps: list[Step], cameras: list[dict], files: list[StoredFile]) -> bool:
        """Another node's copy of an incident (from the cluster): its history merged with this node's, the
        incident as the merged history makes it (`replay`) kept, held live, told on the event stream, and
        its cameras' pictures that this node pulls kept as evidence when it is new here. True when this
        node has steps the cluster has not (they are still to be shared)."""
        async with self._lock:
            local = await self._current(reported.id)
            mine = {step_key(s): s for s in (local.history if local is not None else [])}
            theirs = {step_key(s): s for s in steps}
            if local is not None and theirs.keys() <= mine.keys():
                return len(mine) > len(theirs)
            merged = replay(local or reported, list((mine | theirs).values()))
            ahead = bool(mine.keys() - theirs.keys())
            await asyncio.to_thread(self.store.merge, merged, None if local else cameras, files, not ahead)
            if merged.open:
                self.open[merged.id] = merged
            else:
                self.open.pop(merged.id, None)
        if merged.acknowledged_at is not None and (local is None or local.acknowledged_at is None):
            self._count_ack(merged.acknowledged_at - merged.reported_at)
        self.keep_live()
        if local is None and merged.open:
            self._keep_evidence(merged, cameras)
        self._publish("incident", self.summary(merged) | {"change": "reported" if local is None else "shared"})
        return ahead

    async def locked(self, call: Callable, *args):
        """A call of the store in a worker thread, one at a time with the service's own (the cluster's sync)."""
        async with self._lock:
            return await asyncio.to_thread(call, *args)

    async def _current(self, incident_id: str) -> Incident | None:
        """The incident as last written (the caller holds `_lock`)."""
        if incident_id in self.open:
            return self.open[incident_id]
        return await asyncio.to_thread(self.store.get, incident_id)

    def _steps(self, incident: Incident, who: str, patch: dict, now: float) -> list[Step]:
        steps: list[Step] = []
        unknown = sorted(set(patch) - {"state", "team", "severity", "comment", "merge_into"})
        if unknown:
            raise Refused(f"unknown fields: {', '.join(unknown)}")
        if "team" in patch:
            team = patch["team"]
            if not isinstance(team, str) or not 1 <= len(team.strip()) <= 80:
                raise Refused('"team" must be a name of 1 to 80 characters')
            incident.team = team.strip()
            steps.append(Step(now, who, "team", {"team": incident.team}))
        if "severity" in patch:
            incident.severity = check_severity(incident, patch["severity"])
            steps.append(Step(now, who, "severity", {"severity": incident.severity}))
        if "merge_into" in patch:
            target = self.open.get(patch["merge_into"]) if isinstance(patch["merge_into"], str) else None
            if target is None or target.id == incident.id or not incident.open:
                raise Refused('"merge_into" must name another open incident, and this one must be open')
            incident.merged_into = target.id
            steps.append(Step(now, who, "merged", {"into": target.id}))
        if "state" in patch:
            check_state_change(incident, patch["state"])
            incident.state = patch["state"]
            if incident.state == "acknowledged" and incident.acknowledged_at is None:
                incident.acknowledged_at = now
            steps.append(Step(now, who, "state", {"state": incident.state}))
        if "comment" in patch:
            comment = patch["comment"]
            if not isinstance(comment, str) or not 1 <= len(comment.strip()) <= MAX_TEXT:
                raise Refused(f'"comment" must be text of 1 to {MAX_TEXT} characters')
            steps.append(Step(now, who, "comment", {"text": comment.strip()}))
        return steps

    async def escalate(self, now: float) -> list[Incident]:
        """Mark the unacknowledged incidents past their severity's deadline as escalated (once each)."""
        escalated = []
        for incident_id in [i.id for i in self.open.values() if escalation_due(i, self.settings.deadlines, now)]:
            async with self._lock:
                incident = self.open.get(incident_id)  # as last written: acknowledged meanwhile, say
                if incident is None or not escalation_due(incident, self.settings.deadlines, now):
                    continue
                changed = replace(incident, escalated=True, history=list(incident.history))
                step = Step(now, "hub", "escalated", {"waited_s": round(now - incident.reported_at, 1)})
                await asyncio.to_thread(self.store.update, changed, [step])
                self.on_change(changed.id)
                changed.history.append(step)
                self.open[changed.id] = changed
            escalated.append(changed)
            log.warning("incident %s (%s, severity %d) unacknowledged for %.0f s: escalated", changed.id, changed.kind,
                        changed.severity, now - changed.reported_at)  # fmt: skip
            self._audit("hub", "incident_escalated", incident=changed.id, severity=changed.severity)
            self._publish("incident", self.summary(changed) | {"change": "escalated"})
        return escalated

    async def get(self, incident_id: str) -> Incident | None:
        async with self._lock:
            return await self._current(incident_id)

    async def search(self, query: Query) -> list[Incident]:
        async with self._lock:
            return await asyncio.to_thread(self.store.search, query)

    async def files_of(self, incident_id: str) -> tuple[list[StoredFile], list[dict]]:
        """Every file kept with an incident (with its bytes), and the cameras near it when reported."""
        async with self._lock:
            files = await asyncio.to_thread(self.store.files, incident_id, True)
            cameras = await asyncio.to_thread(self.store.cameras_at_report, incident_id)
        return files, cameras

    async def listed_files(self, incident_id: str) -> list[StoredFile]:
        """The files kept with an incident, without their bytes."""
        async with self._lock:
            return await asyncio.to_thread(self.store.files, incident_id)

    async def file(self, incident_id: str, name: str) -> StoredFile | None:
        async with self._lock:
            return await asyncio.to_thread(self.store.file, incident_id, name)

    def open_seen_by(self, rights: Rights, who: str) -> list[Incident]:
        """The open incidents `who` may see, as the queue orders them (the most serious, then the oldest)."""
        shown = [i for i in self.open.values() if may_see(rights, who, i.reporter, i.site)]
        return sorted(shown, key=queue_order)

    async def heat(self, rights: Rights, who: str, since: float) -> list[list[float]]:
        """[lat, lon, count] per cell of the incidents reported since `since` that `who` may see by site (the
        map's heat layer: where things happen, not what)."""
        async with self._lock:
            cells = await asyncio.to_thread(self.store.heat, since, HEAT_CELL_DEG)
        counts: dict[tuple[float, float], int] = {}
        for site, lat, lon, count in cells:
            if may_see(rights, who, "", site):
                counts[(lat, lon)] = counts.get((lat, lon), 0) + count
        return [[lat, lon, count] for (lat, lon), count in sorted(counts.items())]

    def near(self, incident: Incident, online_only: bool = True) -> list[NearCamera]:
        cameras = [c for c, _ in self.estate.cameras(online_only)]
        return nearest(cameras, incident.lat, incident.lon, self.settings.camera_radius_m, self.settings.cameras)

    def open_counts(self) -> dict[tuple[str, int], int]:
        counts = {(kind, severity): 0 for kind in KINDS for severity in SEVERITIES}
        for incident in self.open.values():
            counts[(incident.kind, incident.severity)] += 1
        return counts

    def summary(self, incident: Incident) -> dict:
        """What the list, the map and the event stream show of an incident (no history, no text)."""
        return {
            "id": incident.id, "kind": incident.kind, "severity": incident.severity,
            "position": [incident.lat, incident.lon], "state": incident.state, "team": incident.team,
            "reporter": incident.reporter, "reported_at": round(incident.reported_at, 3),
            "acknowledged_at": incident.acknowledged_at, "escalated": incident.escalated,
            "merged_into": incident.merged_into or None, "site": incident.site, "photos": len(incident.photos),
        }  # fmt: skip

    def _count_ack(self, seconds: float) -> None:
        self.ack_counts[bisect.bisect_left(ACK_BUCKETS, seconds)] += 1
        self.ack_sum += seconds
