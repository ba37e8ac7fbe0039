"""Run every benchmark in turn (`make bench`); `--smoke` runs each once at its smallest size (CI).

Smoke runs write their JSON to a temporary folder, never over bench/results/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL = [
    ["sim_load.py", "--streams", "50", "200", "--window", "15"],
    ["ingest_cost.py", "--streams", "16", "64", "256"],
    ["detect_times.py", "--trials", "10"],
    ["api_scale.py"],
    ["wall_cpu.py"],
    ["first_frame.py", "--opens", "50"],
    ["map_markers.py", "--streams", "2000"],
    ["live_capacity.py"],
    ["estate.py", "--cold"],
    ["estate.py", "--overload", "2"],
    ["diagnostics.py"],
    ["diagnostics.py", "--set", "natural", "--trials", "6", "--deadline", "180"],
    ["sharpness_measures.py"],
    ["login_burst.py"],
    ["cluster.py"],
    ["cluster_scale.py"],
    ["cluster_records.py"],
    ["cluster_reference.py"],
    ["incidents.py"],
    ["incidents_map.py"],
]
SMOKE = [
    ["sim_load.py", "--streams", "4", "--warmup", "1", "--window", "2"],
    ["ingest_cost.py", "--streams", "4", "--warmup", "2", "--window", "3"],
    ["detect_times.py", "--trials", "1"],
    ["api_scale.py", "--pulling", "4", "--seconds", "2"],
    ["wall_cpu.py", "--window", "3"],
    ["first_frame.py", "--opens", "3"],
    ["map_markers.py", "--streams", "50"],
    ["live_capacity.py", "--ladder", "4", "--warmup", "2", "--window", "3"],
    ["estate.py", "--sample", "40", "--period", "12", "--probe", "4", "--steady", "30"],
    ["diagnostics.py", "--smoke"],
    ["diagnostics.py", "--set", "natural", "--smoke"],
    ["login_burst.py", "--streams", "2", "--seconds", "4", "--burst", "50", "--smoke"],
    ["cluster.py", "--smoke"],
    ["cluster_scale.py", "--smoke"],
    ["cluster_records.py", "--smoke"],
    ["cluster_reference.py", "--smoke"],
    ["incidents.py", "--smoke"],
    ["incidents_map.py", "--smoke"],
]


def main() -> int:
    smoke = "--smoke" in sys.argv
    env = dict(os.environ)
    if smoke:
        env["HUB_BENCH_RESULTS"] = tempfile.mkdtemp(prefix="hub-bench-smoke-")
    failed = []
    for args in SMOKE if smoke else FULL:
        print(f"\n## {' '.join(args)}\n", flush=True)
        if subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]], env=env).returncode != 0:
            failed.append(args[0])
    if failed:
        print(f"\nbenchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
