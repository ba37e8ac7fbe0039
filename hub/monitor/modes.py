"""Live or patrol, now: which streams the monitor keeps connected, and which the load governor sheds.

Pure; the monitor asks at every tick. A stream configured `live` stays connected unless the governor
sheds it; a patrolled one is connected only while somebody looks (plus a grace). Shedding takes the
live streams nobody needs live, the last by id first, as many as the governor's live share and the
live ceiling ask; sensitive streams (childcare, or tagged so) and streams somebody looks at never go.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.monitor.watched import Watched


def wants_live(watched: Watched, looked_at: bool) -> bool:
    """Whether the stream should be connected now."""
    return looked_at if watched.mode == "patrol" else not watched.shed


def choose_shed(watched: Iterable[Watched], looked_at: set[str], live_share: float, ceiling: int | None) -> set[str]:
    """The ids of the live streams to put on patrol for now."""
    candidates, fixed = [], 0  # fixed: live whatever the load (sensitive, or somebody looks)
    for w in watched:
        looked = w.stream.id in looked_at
        if w.mode == "live" and w.sheddable and not looked:
            candidates.append(w)
        elif w.mode == "live" or looked:
            fixed += 1
    candidates.sort(key=lambda w: w.stream.id)
    keep = len(candidates) - int(len(candidates) * (1.0 - live_share))
    if ceiling is not None:
        keep = min(keep, max(0, ceiling - fixed))
    return {w.stream.id for w in candidates[keep:]}
