"""Picture-diagnostics settings from the config, their store across restarts, and grouped outages (pure)."""

from __future__ import annotations

import numpy as np
import pytest

from hub.config import ConfigError, parse_config
from hub.config.diagnostics import for_stream
from hub.diagnostics.checks import Baseline, Sample
from hub.diagnostics.diagnosis import Mute, Reference
from hub.diagnostics.moved import Features, View
from hub.diagnostics.outages import Member, group_outages
from hub.diagnostics.store import Change, DiagnosticsStore

STREAM = """
[[streams]]
id = "gate-1"
name = "Gate"
category = "property"
position = [31.7, 117.3]
url = "rtsp://10.0.0.1/live"
"""


def test_health_sets_every_stream_and_a_stream_overrides_its_own():
    config = parse_config(
        '[health]\ndark_luma = 20\nvote = [6, 8]\npicture_checks = ["exposure", "covered", "moved"]\n'
        + STREAM
        + 'ptz = true\nhealth = { blurred_ratio = 0.3, picture_checks = ["exposure"] }\n'
        + STREAM.replace("gate-1", "gate-2")
    )
    own, other = (for_stream(config.diagnostics, s.health, s.ptz) for s in config.streams)
    assert (own.limits.dark_luma, own.limits.blurred_ratio, own.checks, own.ptz) == (20, 0.3, frozenset({"exposure"}), True)
    assert (other.limits.blurred_ratio, other.checks, other.ptz) == (0.75, frozenset({"exposure", "covered", "moved"}), False)
    assert (own.vote_need, own.vote_window) == (6, 8) == (other.vote_need, other.vote_window)


def test_bad_diagnostics_settings_are_one_line_each():
    with pytest.raises(ConfigError) as error:
        parse_config(
            "[health]\nvote = [11, 10]\ndaylight_hours = [20, 6]\nblurry = 1\n"
            + STREAM
            + 'health = { blurred_ratio = 3, picture_checks = ["focus"], stall_after_s = 3 }\n'
        )
    problems = "\n".join(error.value.problems)
    for expected in (
        "[health]: vote: expected [need, window]",
        "[health]: daylight_hours: expected [start, end]",
        "[health]: blurry: unknown key",
        'stream "gate-1": health.stall_after_s: unknown key',
        'stream "gate-1": health: blurred_ratio: 3 is out of range',
        "unknown check 'focus'",
    ):
        assert expected in problems, (expected, problems)
    assert len(error.value.problems) == 6


def test_turning_every_check_off_stops_the_sampling_too():
    from hub.ingest.sources import reader_settings

    config = parse_config("[health]\npicture_checks = []\n" + STREAM)
    assert reader_settings(config.streams[0], config).sampling.enabled is False
    default = reader_settings(parse_config(STREAM).streams[0], parse_config(STREAM)).sampling
    assert (default.full_every_s, default.every_s) == (10, 4), "every other picture at the default 2 s interval"
    dense = parse_config("[health]\ncheck_sample_s = 2\n" + STREAM)
    assert reader_settings(dense.streams[0], dense).sampling.every_s == 2


def test_references_mutes_and_baselines_survive_a_restart(tmp_path):
    path = tmp_path / "streams.diagnostics.sqlite"
    rng = np.random.default_rng(1)
    features = Features(rng.random((50, 2), np.float32), rng.integers(0, 255, (50, 32), np.uint8), 640)
    thumb = rng.integers(0, 255, (36, 64), np.uint8)
    reference = Reference(View(thumb, 2**63 + 5, features), False, 1_700_000_000.0, "alice")
    mute = Mute("blurred", 1_700_003_600.0, "rain on the dome, cleaning booked", "bob", 1_700_000_000.0)
    baseline = Baseline()
    baseline.learn(Sample(100, 0, 40, 900, 1, 0.5, 0.2, 5.0), False)
    store = DiagnosticsStore(path)
    store.write([Change("gate-1", (reference,), (mute,), baseline.to_json())])
    store.close()
    saved = DiagnosticsStore(path).load()["gate-1"]
    back = saved.references[0]
    assert (back.by, back.night, back.at, back.view.dhash) == ("alice", False, reference.at, reference.view.dhash)
    assert np.array_equal(back.view.thumb, thumb) and np.array_equal(back.view.features.descriptors, features.descriptors)
    assert saved.mutes == {"blurred": mute}
    assert saved.baseline.values[False]["sharpness"] == 900 and saved.baseline.counts == {False: 1, True: 0}


def members(prefix: str, count: int, site: str, since: float, down: bool = True, tags=()) -> list[Member]:
    return [Member(f"{prefix}-{n}", site, tuple(tags), down, since + n, "unreachable") for n in range(count)]


def test_cameras_of_one_site_down_together_are_one_outage_and_a_slow_trickle_is_not():
    outages = group_outages(
        members("fx", 24, "Fangxing-3", 1000.0)
        + members("ok", 10, "Fangxing-3", 0.0, down=False)
        + members("lone", 2, "Elsewhere", 1000.0),
        min_count=5,
        window_s=120,
    )
    assert [o.title for o in outages] == ["site Fangxing-3: 24 cameras unreachable, all within 23 s"]
    assert (outages[0].to_json()["spread_s"], outages[0].reason, outages[0].key) == (
        23.0,
        "unreachable",
        "site:Fangxing-3:unreachable",
    )
    trickle = [Member(f"t-{n}", "Slow", (), True, n * 600.0, "unreachable") for n in range(8)]
    assert group_outages(trickle, 5, 120) == [], "one camera every 10 minutes is no shared outage"


def test_a_tag_groups_cameras_of_several_sites_and_a_camera_is_in_one_outage_only():
    road = [Member(f"r-{n}", f"site-{n}", ("fibre-7",), True, 500.0, "stalled") for n in range(6)]
    site = members("s", 5, "Depot", 500.0, tags=("fibre-7",))
    outages = group_outages(road + site, 5, 120)
    assert [(o.kind, o.name, len(o.streams)) for o in outages] == [("site", "Depot", 5), ("tag", "fibre-7", 6)]
    assert outages[1].title == "tag fibre-7: 6 cameras without video, all within 0 s"


def test_cameras_that_failed_differently_or_apart_are_not_merged_into_one_incident():
    # One site: five cameras unreachable at 1000 s, five refusing the password at 1010 s, five stalled or ended
    # (both "no video") at 1005 s, and five more unreachable ten minutes later: four outages, none mixing failures.
    site = [Member(f"u-{n}", "Yard", (), True, 1000.0 + n, "unreachable") for n in range(5)]
    site += [Member(f"a-{n}", "Yard", (), True, 1010.0, "auth_failed") for n in range(5)]
    site += [Member(f"v-{n}", "Yard", (), True, 1005.0, "stalled" if n % 2 else "ended") for n in range(5)]
    site += [Member(f"late-{n}", "Yard", (), True, 1600.0 + n, "unreachable") for n in range(4)]
    outages = group_outages(site, 5, 60)
    assert sorted(o.title for o in outages) == [
        "site Yard: 5 cameras refusing the password, all within 0 s",
        "site Yard: 5 cameras unreachable, all within 4 s",
        "site Yard: 5 cameras without video, all within 0 s",
    ]
    assert all(not any(s.startswith("late") for s in o.streams) for o in outages), "ten minutes later is another failure"
    assert len({o.key for o in outages}) == 3
    # four cameras of the street tag failing 90 s after the site's: a separate event, not "9 cameras unreachable"
    street = [Member(f"s-{n}", f"house-{n}", ("street-9",), True, 100.0 + n, "unreachable") for n in range(4)]
    street += [Member(f"t-{n}", f"house-{n}", ("street-9",), True, 190.0 + n, "unreachable") for n in range(4)]
    assert group_outages(street, 5, 60) == []
