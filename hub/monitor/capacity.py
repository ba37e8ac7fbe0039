"""What the hub carries now and, from what it measures, could carry: the admin's `/healthz` answer.

Pure: reads the load meter's last sample and the patrol's pace; runs on the event loop when asked.
"""

from __future__ import annotations

from hub.config import MonitorSettings
from hub.load.meter import LoadMeter
from hub.patrol.patroller import Patroller


def capacity_report(
    live: int, watched: int, meter: LoadMeter, patroller: Patroller, monitor: MonitorSettings, processes: int, why: dict
) -> dict:
    """`why`: how many streams are live and patrolled for each reason (`hub.monitor.modes`)."""
    mean_visit = patroller.mean_visit_s
    return {
        "cores": meter.cores,
        "ingest_processes": processes,
        "cores_in_use": round(meter.sample.cpu_share * meter.cores, 2),
        "live_streams": live,
        "live_ceiling": meter.ceiling.value,
        "live_budget": meter.budget.value,
        "live_cost_share": None if meter.budget.cost is None else round(meter.budget.cost, 5),
        "watching": why,
        "patrolled_streams": watched - live,
        "patrol_period_s": monitor.patrol_period_s,
        "patrol_period_kept_s": round(patroller.plan.period_s, 1),
        "patrol_concurrency": patroller.concurrency,
        "mean_visit_s": None if mean_visit is None else round(mean_visit, 2),
        # Cameras the patrol can visit once per period at the current concurrency and visit length.
        "patrol_capacity": None if not mean_visit else int(patroller.concurrency * monitor.patrol_period_s / mean_visit),
    }
