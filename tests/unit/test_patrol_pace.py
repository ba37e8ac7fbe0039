"""The patrol's period kept when the load changes, driven with made-up times: a node that takes over
another's cameras (twice the patrol, visits slowed by the busier machine) and gives them back later.

The rule under test is the one an operator sees: a camera whose verdict the node already had never goes
`overdue` (its verdict older than what the hub owes it) because the node took on more, or less, work.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hub.patrol.schedule import PatrolPlan, PatrolTiming

TIMING = PatrolTiming(period_s=300.0, probe_interval_s=30.0, concurrency=24)
OWN, TAKEN = 355, 389  # half the reference estate's share per node, at half the concurrency
TAKEN_AT, GIVEN_BACK_AT = 900.0, 2200.0


@dataclass
class Run:
    """What the simulated patroller saw of the cameras it had from the start."""

    overdue: set[str] = field(default_factory=set)
    tightest_s: float = float("inf")  # the least time any verdict had left before its promise ran out
    periods: list[float] = field(default_factory=list)
    first_verdicts: dict[str, float] = field(default_factory=dict)


def _run(busy_visit_s: float, noise: float, seconds: float = 3600.0, step: float = 0.5, seed: int = 1) -> Run:
    """Own cameras rotate with 5 s visits; at TAKEN_AT the taken ones arrive and visits take
    `busy_visit_s` (each one up to `noise` longer or shorter); at GIVEN_BACK_AT they leave again."""
    rng = random.Random(seed)
    plan = PatrolPlan(TIMING)
    own = [f"own-{i}" for i in range(OWN)]
    taken = [f"taken-{i}" for i in range(TAKEN)]
    plan.add(own, 0.0)
    run, ended, started, running = Run(), {}, {}, []
    visit_s, mean, now = 5.0, None, 0.0
    while now < seconds:
        if now == TAKEN_AT:
            plan.add(taken, now)
            visit_s = busy_visit_s
        if now == GIVEN_BACK_AT:
            for sid in taken:
                plan.remove(sid)
            visit_s = 5.0
        for end, sid in [r for r in running if r[0] <= now]:
            running.remove((end, sid))
            plan.visited(sid, now)
            ended[sid] = now
            run.first_verdicts.setdefault(sid, now)
            took = now - started[sid]
            mean = took if mean is None else mean + 0.05 * (took - mean)
        run.periods.append(plan.pace(now, mean, TIMING.concurrency))
        for sid in plan.due_visits(now, TIMING.concurrency - len(running)):
            plan.visit_started(sid, now)
            started[sid] = now
            running.append((now + rng.uniform(1 - noise, 1 + noise) * visit_s, sid))
        if now >= 300.0 and now % 2 == 0:
            for sid in own:
                left = plan.promise(sid) - (now - ended[sid])
                run.tightest_s = min(run.tightest_s, left)
                if left < 0:
                    run.overdue.add(sid)
        now += step
    return run


def test_taking_over_twice_the_patrol_on_a_busier_machine_makes_no_verdict_overdue():
    for noise in (0.0, 0.6):
        run = _run(busy_visit_s=12.0, noise=noise)
        assert not run.overdue, f"noise {noise}: {len(run.overdue)} cameras overdue, e.g. {sorted(run.overdue)[:3]}"
        assert run.tightest_s > 5.0, run.tightest_s
        during = run.periods[int(TAKEN_AT / 0.5) + 60 : int(GIVEN_BACK_AT / 0.5)]
        # 744 cameras, 12 s visits, 24 at once: one round takes 372 s, so the period kept stretches
        assert min(during) > 372.0 and max(during) < 2 * 372.0, (min(during), max(during))
        last_first = max(run.first_verdicts[f"taken-{i}"] for i in range(TAKEN)) - TAKEN_AT
        assert last_first < max(during), "every taken camera has its first verdict within one period kept"


def test_giving_the_cameras_back_brings_the_period_back_without_a_verdict_going_overdue():
    run = _run(busy_visit_s=16.0, noise=0.6, seconds=4400.0)
    assert max(run.periods) > 450.0, "the patrol was stretched"
    assert not run.overdue, f"{len(run.overdue)} cameras overdue, e.g. {sorted(run.overdue)[:3]}"
    assert run.periods[-1] == TIMING.period_s, "the configured period is kept again once the load has fallen"


def test_a_light_load_keeps_the_configured_period():
    run = _run(busy_visit_s=5.0, noise=0.3, seconds=1800.0)
    assert set(run.periods) == {TIMING.period_s}
    assert not run.overdue
