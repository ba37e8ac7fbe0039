"""Shared outages: many cameras of one site or tag going offline together are one problem, not many.

Pure and clock-free; the monitor runs `group_outages` on the event loop about once a second over the
records. A switch, a compound's power or a road's fibre takes every camera behind it down within
seconds; an operator needs one line, "site Fangxing-3: 24 cameras unreachable, all within 6 s", and
the 24 tiles folded into it.

A group says what it is and shows its evidence: only cameras that failed the same way (`FAILURES`:
unreachable, no video, not found, refusing the password) within `window_s` of each other, at one site
or tag, with how many, which failure and over how many seconds. Cameras that failed separately, or
differently, are not merged into something that reads like one incident.

Each person is shown the outages of the cameras they may see, grouped as if the others did not
exist (`OutageView.seen_by`): a group's existence, count, `since` and reason come from visible
cameras only, so nobody learns that hidden cameras of the same site are down, when or why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

REASON_WORDS = {
    "unreachable": "unreachable",
    "stalled": "without video",
    "ended": "without video",
    "not_found": "not found",
    "auth_failed": "refusing the password",
}


# reason -> the failure it is, for grouping: a stall and an ended stream are both "no video"
FAILURES = {"stalled": "no_video", "ended": "no_video"}


def failure_of(reason: str) -> str:
    return FAILURES.get(reason, reason)


@dataclass(frozen=True)
class Member:
    """What grouping needs of one stream's record."""

    id: str
    site: str
    tags: tuple[str, ...]
    down: bool  # offline or unauthorized
    since: float  # when its state began (wall time)
    reason: str
    category: str = ""  # with id, site and tags: what rights decide on (`Rights.may_see` takes a Member)


@dataclass(frozen=True)
class Outage:
    kind: str  # site | tag
    name: str
    streams: tuple[str, ...]
    since: float  # when the first of them went down
    reason: str  # the failure they share (the most common reason among them)
    spread_s: float = 0.0  # from the first of them going down to the last

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}:{failure_of(self.reason)}"

    @property
    def title(self) -> str:
        words = REASON_WORDS.get(self.reason, "down")
        return f"{self.kind} {self.name}: {len(self.streams)} cameras {words}, all within {self.spread_s:.0f} s"

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "kind": self.kind,
            "name": self.name,
            "title": self.title,
            "count": len(self.streams),
            "streams": list(self.streams),
            "since": round(self.since, 3),
            "reason": self.reason,
            "spread_s": round(self.spread_s, 1),
        }


@dataclass(frozen=True)
class OutageView:
    """The down streams at one moment and the grouping rule: enough to show anybody their outages.
    Immutable, so the metrics render may read it from a worker thread."""

    down: tuple[Member, ...] = ()
    min_count: int = 5
    window_s: float = 60.0

    def seen_by(self, may_see: Callable[[Member], bool] | None) -> list[Outage]:
        """The outages among the streams `may_see` allows (None: every stream)."""
        members = self.down if may_see is None else [m for m in self.down if may_see(m)]
        return group_outages(list(members), self.min_count, self.window_s)


def group_outages(members: list[Member], min_count: int, window_s: float) -> list[Outage]:
    """Groups of at least `min_count` down streams of one site (first) or tag that failed the same way
    within `window_s` of each other; a stream belongs to one group at most, the site's before any tag's."""
    down = [m for m in members if m.down]
    taken: set[str] = set()
    outages = []
    for kind in ("site", "tag"):
        groups: dict[tuple[str, str], list[Member]] = {}
        for member in down:
            names = (member.site,) if kind == "site" else member.tags
            for name in names:
                if name and member.id not in taken:
                    groups.setdefault((name, failure_of(member.reason)), []).append(member)
        for name, failure in sorted(groups):
            together = _together([m for m in groups[name, failure] if m.id not in taken], window_s)
            if len(together) >= min_count:
                taken.update(m.id for m in together)
                reason = Counter(m.reason for m in together).most_common(1)[0][0]
                first, last = together[0].since, together[-1].since
                outages.append(Outage(kind, name, tuple(sorted(m.id for m in together)), first, reason, last - first))
    return outages


def _together(members: list[Member], window_s: float) -> list[Member]:
    """The largest run of members whose down times all fall within `window_s`."""
    ordered = sorted(members, key=lambda m: m.since)
    best: list[Member] = []
    start = 0
    for end in range(len(ordered)):
        while ordered[end].since - ordered[start].since > window_s:
            start += 1
        if end - start + 1 > len(best):
            best = ordered[start : end + 1]
    return best
