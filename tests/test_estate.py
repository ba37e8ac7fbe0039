"""`hub estate`: the reference estate as a config, and the demo's vehicles driving the basemap's streets."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from hub.config import FAULTS, load_config, parse_config
from hub.inventory.estate import blocks, estate_config, load_basemap, streets
from hub.sim.simulator import clip_specs
from hub.sim.vehicles import SPEED_DEG_S, position_at


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
    assert Counter(config.mode_of(s) for s in config.streams) == {"patrol": 1538, "live": 17}
    assert all(s.has_substream for s in config.streams if s.category != "vehicle")
    assert all(s.reports_position and s.position is None for s in config.streams if s.category == "vehicle")
    assert all("sensitive" in s.tags for s in config.streams if s.category == "childcare")
    assert len(set(clip_specs(config).values())) <= 8, "clips are shared per scene and size, not one per camera"


def test_cameras_stand_on_the_basemap():
    basemap = load_basemap()
    config = parse_config(estate_config())
    south = min(b[0] for b in blocks(basemap)) - 0.001
    north = max(b[2] for b in blocks(basemap)) + 0.001
    for stream in config.streams:
        if stream.position:
            assert south - 0.01 < stream.position[0] < north + 0.01
    by_site = Counter(s.site for s in config.streams if s.category == "public-security")
    assert set(by_site) == {name for name, _ in streets(basemap)}, "street cameras line every street"
    compounds = Counter(s.site for s in config.streams if s.category == "property")
    assert len(compounds) == len(blocks(basemap)) and all(n >= 25 for n in compounds.values())


def test_the_same_seed_gives_the_same_estate_and_another_moves_the_faults():
    assert estate_config(7) == estate_config(7)
    assert estate_config(7) != estate_config(8)


def test_a_vehicle_drives_its_street_back_and_forth():
    _, route = streets(load_basemap())[0]
    length = sum(((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in zip(route, route[1:], strict=False))
    assert position_at(route, length, 0.0) == route[0]
    end = position_at(route, length, length / SPEED_DEG_S)
    assert abs(end[0] - route[-1][0]) < 1e-9 and abs(end[1] - route[-1][1]) < 1e-9
    back = position_at(route, length, 2 * length / SPEED_DEG_S)
    assert abs(back[0] - route[0][0]) < 1e-9, "and back again"
