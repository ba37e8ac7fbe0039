"""Years of incident history, made up: for the one map's heat layer, the list's filters and their benchmark
(the reference community has about 80,000 reports since 2017). Pure: a seeded generator, no I/O.

Reports fall around the estate's cameras (where the community is), more by day than by night, of the kinds
and severities a community sees (disputes and facility damage often, fires rarely), and went through
triage as they do: acknowledged within minutes, most resolved within a day and closed. The last few days
keep some open, in every state of the triage.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from hub.incidents.model import KINDS, Incident, Step

KIND_WEIGHTS = (30, 12, 2, 10, 10, 22, 10, 4)  # in the order of KINDS
SEVERITY_WEIGHTS = (50, 32, 14, 4)
TEAMS = ("grid team 1", "grid team 2", "property management", "police station", "fire brigade", "city works")
SPREAD_M = 400.0  # how far from a camera a report may fall
OPEN_DAYS = 3.0  # reports younger than this may still be open


def generate(count: int, places: list[tuple[float, float]], since: float, until: float, seed: int = 2017) -> Iterator[Incident]:
    """`count` incidents reported between `since` and `until` (wall times) around `places` (lat, lon)."""
    rng = random.Random(seed)
    span = until - since
    for n in range(count):
        at = since + span * (n + rng.random()) / count
        at += (rng.random() - 0.5) * 3600 * (1 if _daytime(at) else 6)  # fewer by night
        at = min(max(at, since), until)
        lat, lon = rng.choice(places) if places else (31.77, 117.30)
        distance, bearing = SPREAD_M * math.sqrt(rng.random()), rng.random() * 2 * math.pi
        lat += distance * math.cos(bearing) / 111_195
        lon += distance * math.sin(bearing) / (111_195 * math.cos(math.radians(lat)))
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        severity = rng.choices((1, 2, 3, 4), SEVERITY_WEIGHTS)[0]
        text = f"{kind.replace('_', ' ')} reported"
        incident = Incident(f"hist-{n + 1:06d}", kind, severity, round(lat, 7), round(lon, 7), text,
                            f"grid-{rng.randint(1, 60)}", at)  # fmt: skip
        _triage(incident, rng, until)
        yield incident


def _daytime(at: float) -> bool:
    return 7 <= (at % 86400) / 3600 + 8 < 21  # China Standard Time, the reference community's


def _triage(incident: Incident, rng: random.Random, now: float) -> None:
    """Walk the incident through triage as far as its age allows."""
    at, history = incident.reported_at, incident.history
    history.append(Step(at, incident.reporter, "reported", {"kind": incident.kind, "severity": incident.severity}))
    young = now - incident.reported_at < OPEN_DAYS * 86400
    steps = ("acknowledged", "assigned", "in_progress", "resolved", "closed")
    last = rng.randint(-1, len(steps) - 1) if young else len(steps) - 1
    for i, state in enumerate(steps[: last + 1]):
        at += rng.expovariate(1 / (240.0 if i == 0 else 3600.0))
        if at > now:
            break
        if state == "acknowledged":
            incident.acknowledged_at = at
        if state == "assigned":
            incident.team = rng.choice(TEAMS)
            history.append(Step(at, "duty-officer", "team", {"team": incident.team}))
        history.append(Step(at, "duty-officer", "state", {"state": state}))
        incident.state = state
