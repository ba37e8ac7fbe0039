"""What every section of docs/performance.md uses: the results files, tables, the machine line, met or missed.

Run by `scripts/performance_doc.py` (and its sections' modules beside it); no I/O but reading bench/results.
"""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def table(columns: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"
    return str(value)


def machine(result: dict) -> str:
    m = result["machine"]
    return f"*Run {m['date']} on {m['cores']} cores ({m['cpu']}), Python {m['python']}, PyAV {m['pyav']}.*"


def met(value: float, limit: float, most: bool = True) -> str:
    ok = value <= limit if most else value >= limit
    return "met" if ok else "**missed**"
