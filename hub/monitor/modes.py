"""Live or patrol, now: which streams the monitor keeps connected, and why. Pure; the monitor asks at every tick.

- `patrol` streams are live only while somebody looks (plus a grace).
- `live` streams stay connected unless the load governor sheds them: the last by id of those nobody
  needs live, as many as its live share and the live ceiling ask; sensitive streams (childcare, or
  tagged so) and streams somebody looks at never go.
- `auto` streams share what the live budget leaves (`hub.load.budget`), in this order: somebody looks at
  it; childcare rooms and vehicles; a fault now or in the last `recent_fault_s`; then by category in
  `[monitor] priority`. Among equals a stream that is live keeps its place (no churn), then by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from hub.monitor.watched import Watched

WATCHED, CONFIGURED_LIVE, CONFIGURED_PATROL, SHED = (
    "somebody is watching",
    "configured live",
    "configured patrol",
    "the hub is overloaded",
)
FIRST_CATEGORIES = ("childcare", "vehicle")
FIRST, RECENT_FAULT, BUDGET, OVER_BUDGET = (
    "childcare and vehicles come first",
    "a recent fault",
    "within the live budget",
    "beyond the live budget",
)


class Need(NamedTuple):  # a tuple: made for every auto stream at every tick
    """What the monitor knows of one auto stream's need to be live."""

    looked_at: bool
    first: bool  # childcare or a vehicle
    recent_fault: bool
    category_rank: int


def wants_live(watched: Watched, looked_at: bool) -> bool:
    """Whether a stream of mode live or patrol should be connected now."""
    return looked_at if watched.mode == "patrol" else not watched.shed


def choose_shed(watched: Iterable[Watched], looked_at: set[str], live_share: float, ceiling: int | None) -> set[str]:
    """The ids of the streams of mode live to put on patrol for now."""
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


def choose_auto(streams: list[tuple[Watched, Need]], slots: int) -> dict[str, tuple[bool, str]]:
    """Each auto stream's (live?, why), given how many of them the budget leaves room for.

    The order is (need, live now before patrolled, id). Run at every tick over up to 1,555 streams, so
    the streams are put in buckets of equal (need, live now) and only the bucket the budget's edge runs
    through is sorted by id: the others are all in or all out whatever their order."""
    buckets: dict[tuple[int, bool], list[tuple[Watched, Need]]] = {}
    for w, n in streams:
        rank = 0 if n.looked_at else 1 if n.first else 2 if n.recent_fault else 3 + n.category_rank
        buckets.setdefault((rank, w.supervisor is None), []).append((w, n))
    out, place = {}, 0
    for key in sorted(buckets):
        members = buckets[key]
        if place < slots < place + len(members):
            members.sort(key=lambda member: member[0].stream.id)
        for watched, need in members:
            if need.looked_at:
                out[watched.stream.id] = (True, WATCHED)
            elif place < slots:
                out[watched.stream.id] = (True, FIRST if need.first else RECENT_FAULT if need.recent_fault else BUDGET)
            else:
                out[watched.stream.id] = (False, OVER_BUDGET)
            place += 1
    return out


def plan(watched: dict[str, Watched], looked_at: set[str], budget: int, live_share: float, ceiling: int | None,
         priority: tuple[str, ...], recent_fault_s: float, now: float) -> None:  # fmt: skip
    """Decide every stream's `wanted` (live now?) and `why`, from its mode, who looks, the load and the budget."""
    shed = choose_shed(watched.values(), looked_at, live_share, ceiling)
    auto, taken = [], 0
    ranks, unranked = {category: i for i, category in enumerate(priority)}, len(priority)
    for w in watched.values():
        stream = w.stream
        sid, looked = stream.id, stream.id in looked_at
        w.shed = sid in shed
        if w.mode == "auto":
            recent = w.faulted_at is not None and now - w.faulted_at <= recent_fault_s
            first = stream.category in FIRST_CATEGORIES
            auto.append((w, Need(looked, first, recent, ranks.get(stream.category, unranked))))
            continue
        w.wanted = wants_live(w, looked)
        w.why = WATCHED if looked else SHED if w.shed else CONFIGURED_LIVE if w.mode == "live" else CONFIGURED_PATROL
        taken += w.wanted
    for sid, (wanted, why) in choose_auto(auto, max(0, budget - taken)).items():
        watched[sid].wanted, watched[sid].why = wanted, why
