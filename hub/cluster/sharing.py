"""Which of a holder's records go to the other nodes now; pure.

Who runs where: `hub.cluster.estate.EstateSync` (event loop) asks `ShareSchedule.due` every
`SHARE_EVERY_S` for the records of the cameras its node holds, writes them to Redis, then calls `done`.
A record whose headline changed (state, reasons, how it is watched, position, mutes, description) is
shared at once; one whose measurements only moved (fps, last frame, totals) at most every `REFRESH_S`.
The other nodes so see every state change within a second or two, and ages that lag by at most
`REFRESH_S` (an older last frame, never a fresher one), for a few hundred bytes a camera every few
seconds (`docs/cluster.md`, sizing).
"""

from __future__ import annotations

SHARE_EVERY_S = 1.0
REFRESH_S = 5.0


def headline(r) -> tuple:
    """What other nodes must hear of at once."""
    return (r.state, r.reasons, r.watching, r.watching_reason, r.promoted, r.shed, r.mode, r.position, r.position_at,
            r.muted, r.name, r.category, r.site, r.tags, r.model, r.codec, r.width, r.height, r.last_error, r.node)  # fmt: skip


class ShareSchedule:
    """What was last shared of each camera: (headline, JSON body, when)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[tuple, bytes, float]] = {}

    def due(self, records, now: float) -> list[tuple[str, bytes, tuple]]:
        """(camera, JSON body, headline) for each record to share now."""
        out = []
        for r in records:
            head, body = headline(r), r.json_bytes()
            last = self._last.get(r.id)
            if last is None or last[0] != head or (body != last[1] and now - last[2] >= REFRESH_S):
                out.append((r.id, body, head))
        return out

    def done(self, shared: list[tuple[str, bytes, tuple]], now: float) -> None:
        for camera, body, head in shared:
            self._last[camera] = (head, body, now)

    def forget(self, keep: set[str]) -> None:
        """Cameras no longer held: shared again in full when they come back."""
        self._last = {c: v for c, v in self._last.items() if c in keep}
