"""What an incident is and how it may change: kinds, severities, the triage states and their order,
escalation and duplicates. Pure: no I/O, no clock of its own (every rule takes the time).

Triage: new -> acknowledged -> assigned (to a team) -> in progress -> resolved -> closed. A step may skip
ahead (an acknowledged false alarm is resolved at once) but never skip the acknowledgement, which is
what the escalation deadline and the time-to-acknowledge measure; a resolved incident may be reopened
(back in progress); a closed one is final. Severity may be raised while the incident is open, never
lowered: an incident that grew stays as serious as it got.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

from hub.incidents.geo import distance_m

KINDS = ("dispute", "safety_hazard", "fire", "traffic", "public_order", "facility_damage", "environment", "other")
SEVERITIES = (1, 2, 3, 4)  # 4 the most serious
STATES = ("new", "acknowledged", "assigned", "in_progress", "resolved", "closed")
OPEN_STATES = frozenset({"new", "acknowledged", "assigned", "in_progress"})
REOPEN = {"resolved": "in_progress"}


class Refused(ValueError):
    """A change the rules do not allow; the message says why, for the person who asked."""


@dataclass(frozen=True)
class Step:
    """One entry of an incident's history."""

    at: float  # wall time
    by: str
    action: str  # reported, state, severity, comment, team, merged, escalated
    detail: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"at": round(self.at, 3), "by": self.by, "action": self.action, **self.detail}


@dataclass
class Incident:
    id: str
    kind: str
    severity: int
    lat: float
    lon: float
    text: str
    reporter: str
    reported_at: float
    state: str = "new"
    team: str = ""
    acknowledged_at: float | None = None
    escalated: bool = False
    merged_into: str = ""
    client_id: str = ""  # the phone's own id for a report: the same report sent twice is one incident
    site: str = ""  # its nearest camera's site when reported: who may see it (site grants)
    photos: tuple[str, ...] = ()
    history: list[Step] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES and not self.merged_into


def check_state_change(incident: Incident, to: str) -> None:
    """Raise `Refused` unless the incident may go from its state to `to`."""
    if to not in STATES:
        raise Refused(f"unknown state {to!r}: expected one of {', '.join(STATES)}")
    now, order = incident.state, STATES.index
    if incident.merged_into:
        raise Refused(f"{incident.id} was merged into {incident.merged_into}: change that one")
    if to == now:
        raise Refused(f"{incident.id} is already {to}")
    if now == "closed":
        raise Refused(f"{incident.id} is closed")
    if REOPEN.get(now) == to:
        return
    if order(to) < order(now):
        raise Refused(f"{incident.id} cannot go back from {now} to {to}")
    if now == "new" and to != "acknowledged":
        raise Refused(f"{incident.id} must be acknowledged first")
    if to == "assigned" and not incident.team:
        raise Refused("assigning needs a team")


def check_severity(incident: Incident, severity: object) -> int:
    if not isinstance(severity, int) or isinstance(severity, bool) or severity not in SEVERITIES:
        raise Refused(f"severity must be one of {', '.join(map(str, SEVERITIES))}, got {severity!r}")
    if not incident.open:
        raise Refused(f"{incident.id} is {incident.state}: its severity is settled")
    if severity < incident.severity:
        raise Refused(f"severity can be raised as an incident develops, never lowered ({incident.severity} -> {severity})")
    return severity


def escalation_due(incident: Incident, deadlines_s: dict[int, float], now: float) -> bool:
    """Whether an unacknowledged incident has passed its severity's deadline and is not escalated yet."""
    if incident.state != "new" or incident.escalated or incident.merged_into:
        return False
    return now - incident.reported_at >= deadlines_s[incident.severity]


def duplicates_of(new: Incident, others: list[Incident], radius_m: float, window_s: float) -> list[Incident]:
    """Open incidents of the same kind within `radius_m` and reported within `window_s` of `new`, nearest
    first: offered to merge, never merged by themselves."""
    found = []
    for other in others:
        if other.id == new.id or not other.open or other.kind != new.kind:
            continue
        if abs(new.reported_at - other.reported_at) > window_s:
            continue
        d = distance_m(new.lat, new.lon, other.lat, other.lon)
        if d <= radius_m:
            found.append((d, other))
    return [other for _, other in sorted(found, key=lambda pair: (pair[0], pair[1].id))]


def queue_order(incident: Incident) -> tuple:
    """The operators' queue: the most serious first, then the oldest."""
    return (-incident.severity, incident.reported_at, incident.id)


# Steps made at one instant, in the order a change makes them (`IncidentService._steps`): a history rebuilt
# from two nodes' copies reads as it was written, the same on every node.
ACTION_ORDER = {"reported": 0, "team": 1, "severity": 2, "merged": 3, "state": 4, "comment": 5, "escalated": 6, "evidence": 7}


def step_key(step: Step) -> str:
    """A step's identity wherever it is kept (two nodes' copies of one history are merged by it)."""
    text = json.dumps([round(step.at, 6), step.by, step.action, step.detail], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def replay(reported: Incident, steps: list[Step]) -> Incident:
    """The incident its history makes: `reported` gives what a report fixes (place, text, reporter, kind),
    `steps` (in any order, from any node) the rest, taken in time order. Two nodes' histories merged give
    one incident: the later state wins, but nothing reopens a closed incident; severity only rises; the
    first acknowledgement is the one timed; an escalation noticed by two nodes at once counts once."""
    incident = replace(reported, state="new", team="", acknowledged_at=None, escalated=False, merged_into="", history=[])
    for step in sorted(
        {step_key(s): s for s in steps}.values(), key=lambda s: (s.at, ACTION_ORDER.get(s.action, 9), step_key(s))
    ):
        detail = step.detail
        if step.action == "escalated" and incident.escalated:
            continue
        if step.action == "reported":
            incident.severity = int(detail.get("severity", incident.severity))
        elif step.action == "state" and incident.state != "closed":
            incident.state = detail["state"]
            if incident.state == "acknowledged" and incident.acknowledged_at is None:
                incident.acknowledged_at = step.at
        elif step.action == "severity":
            incident.severity = max(incident.severity, int(detail["severity"]))
        elif step.action == "team":
            incident.team = detail["team"]
        elif step.action == "merged":
            incident.merged_into = detail["into"]
        elif step.action == "escalated":
            incident.escalated = True
        incident.history.append(step)
    return incident
