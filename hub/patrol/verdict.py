"""What a visit has learnt, and what a patrolled camera's record says between visits. Pure, no I/O.

A visit reads until its verdict is settled (`visit_settled`): a picture checked, rates measured over
`VISIT_RATE_SPAN_S`, and, when the first look is suspicious (pictures unchanged so far, too few
frames), long enough for the live rules to decide (`frozen_after_s`, the full fps window). Quick
visits for healthy cameras, longer ones only where a fault is likely.

`patrol_verdict` merges the last visit and the last probe: whichever is newer wins, so a failed probe
shows at once and the visit it triggers confirms or clears it. An up verdict older than the period is
never shown as up: it becomes `connecting` with the reason `overdue` (not known now), which is the
hub's own lateness and never a camera fault.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub import health as h
from hub.ingest.observations import AUTH_FAILED, STALLED, UNREACHABLE

VISIT_RATE_SPAN_S = 2.0
OVERDUE = "overdue"
PROBE_OK = "ok"


@dataclass(frozen=True)
class VisitOutcome:
    verdict: h.Verdict
    ended: float  # monotonic: when the verdict was taken
    first_picture_at: float | None = None


@dataclass(frozen=True)
class ProbeOutcome:
    outcome: str  # "ok" or a reason code
    at: float  # monotonic


def visit_settled(health: h.StreamHealth, first_picture_at: float | None, now: float) -> bool:
    """True once a visit has seen enough to judge the camera as the live rules would."""
    if health.close_reason is not None:
        return True
    latest, reference = health.latest, health.reference
    if latest is None or first_picture_at is None:
        return False
    span = now - health.flow.first_at - h.BURST_S if health.flow.first_at is not None else 0.0
    if span < VISIT_RATE_SPAN_S:
        return False
    if h.is_black(latest.thumb):
        return True
    unchanged = reference is not None and reference.at <= first_picture_at
    if unchanged and reference is not None and latest.at - reference.at < h.frozen_for(health.settings):
        return False  # a still picture so far: read on until the frozen rule can decide
    nominal = h.expected_fps(health)
    fps = h.measured_fps(health, now)
    if nominal and fps is not None and fps < health.settings.min_fps_ratio * nominal and span < h.FLOW_WINDOW_S:
        return False  # too few frames so far: read on until the full window decides
    return True


def visit_failure(close_reason: str, message: str, last_probe: ProbeOutcome | None) -> str:
    """A visit that could not open a hung camera times out like an unreachable one; the probe knows better."""
    if (
        close_reason == UNREACHABLE
        and last_probe is not None
        and last_probe.outcome == STALLED
        and "refused" not in message.lower()
    ):
        return STALLED
    return close_reason


def probe_verdict(outcome: str) -> h.Verdict | None:
    """The state a failed probe implies; None for a probe that got its answer."""
    if outcome == PROBE_OK:
        return None
    if outcome == AUTH_FAILED:
        return h.Verdict(h.UNAUTHORIZED, (AUTH_FAILED,))
    return h.Verdict(h.OFFLINE, (outcome,))


def patrol_verdict(visit: VisitOutcome | None, probe: ProbeOutcome | None, now: float, period_s: float) -> h.Verdict:
    """The record's state between visits: the newer of visit and probe, never up on an overdue visit."""
    failed = probe_verdict(probe.outcome) if probe is not None else None
    if failed is not None and probe is not None and (visit is None or probe.at >= visit.ended):
        return failed
    if visit is None:
        return h.Verdict(h.CONNECTING)
    if visit.verdict.state in h.UP_STATES and now - visit.ended > period_s:
        return h.Verdict(h.CONNECTING, (OVERDUE,))
    return visit.verdict
