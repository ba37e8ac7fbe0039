"""`hub estate`: the reference estate as a config, and the demo's vehicles driving the basemap's streets."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from hub.config import FAULTS, load_config
from hub.sim.simulator import clip_specs


def test_the_estate_has_the_reference_numbers_and_every_fault_kind(tmp_path):
    out = tmp_path / "estate.toml"
    done = subprocess.run([sys.executable, "-m", "hub", "estate", "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1555 streams" in done.stdout
    config = load_config(out)
    assert Counter(s.category for s in config.streams) == {
        "public-security": 1000,
        "property": 538,
        "childcare": 14,
        "vehicle": 3,
    }
    faults = Counter(s.fault.kind for s in config.streams if s.fault)
    assert set(faults) == set(FAULTS) and 40 <= sum(faults.values()) <= 55, faults  # about 3 %, every kind
    assert Counter(config.mode_of(s) for s in config.streams) == {"auto": 1555}, "as many live as the machine carries"
    assert all(s.has_substream for s in config.streams if s.category != "vehicle")
    assert all(s.reports_position and s.position is None for s in config.streams if s.category == "vehicle")
    assert all("sensitive" in s.tags for s in config.streams if s.category == "childcare")
    assert len(set(clip_specs(config).values())) <= 8, "clips are shared per scene and size, not one per camera"
