"""`hub estate`: the reference estate as a config, and the demo's vehicles driving the basemap's streets."""

from __future__ import annotations

from collections import Counter

from hub.config import parse_config
from hub.inventory.estate import blocks, estate_config, load_basemap, streets
from hub.sim.vehicles import SPEED_DEG_S, position_at


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
