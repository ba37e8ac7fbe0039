"""Checks from measures, against thresholds and each camera's own baseline (pure)."""

from __future__ import annotations

import cv2

from hub.diagnostics.checks import MIN_SAMPLES, Baseline, Sample, scores
from hub.diagnostics.confirm import Vote
from hub.sim import picture_faults, scenes

CHECK_OF = {"blur": "blurred", "dark": "exposure", "overexposed": "exposure", "lowcontrast": "low_contrast",
            "cover": "covered", "colorcast": "color_cast", "ircut": "ir_cut", "noise": "noisy", "stripes": "striped",
            "mosaic": "mosaic"}


def thumb(bgr):
    return cv2.resize(bgr, (160, 90), interpolation=cv2.INTER_AREA)


def sample(bgr) -> Sample:
    """As the hub will take it: the thumbnail, plus the full frame's luma (its once-a-minute sample)."""
    return Sample.of(thumb(bgr), cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))


def learned(scene: str) -> Baseline:
    baseline = Baseline()
    for i in range(MIN_SAMPLES + 5):
        baseline.learn(sample(scenes.draw(scene, scenes.FrameSpec(i * 7, 640, 360, 25, "Cam"))), day=True)
    return baseline


def test_clean_pictures_of_every_scene_trip_nothing():
    for scene in ("street", "gate", "room", "road", "bars"):
        baseline = learned(scene)
        votes = {}
        for i in range(30):
            picture = sample(scenes.draw(scene, scenes.FrameSpec(500 + i * 11, 640, 360, 25, "Cam")))
            for check, score in scores(picture, baseline, day=True).items():
                votes.setdefault(check, Vote()).add(score)
        assert not [c for c, v in votes.items() if v.failing], scene


def test_each_picture_fault_trips_its_check_on_a_learned_camera():
    baseline = learned("street")
    for kind, check in CHECK_OF.items():
        vote = Vote()
        for i in range(10):
            clean = scenes.draw("street", scenes.FrameSpec(600 + i * 13, 640, 360, 25, "Cam"))
            faulty = picture_faults.render(kind, picture_faults.DEFAULTS[kind][0], clean, i)
            vote.add(scores(sample(faulty), baseline, day=True)[check])
        assert vote.failing, (kind, check)


def test_relative_checks_stay_quiet_until_the_baseline_is_learned_and_ir_cut_only_by_day():
    grey = picture_faults.render("ircut", 1, scenes.draw("street", scenes.FrameSpec(1, 640, 360, 25, "Cam")), 1)
    grey_sample = sample(grey)
    assert scores(grey_sample, Baseline(), day=True)["ir_cut"] == 0.0, "no baseline yet: no guess"
    baseline = learned("street")
    assert scores(grey_sample, baseline, day=True)["ir_cut"] >= 1.0
    assert scores(grey_sample, baseline, day=False)["ir_cut"] == 0.0, "grey at night is normal (and the night baseline is empty)"
