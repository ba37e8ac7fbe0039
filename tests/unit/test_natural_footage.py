"""Picture diagnostics on natural footage: photographs through a camera's optics and sensor
(`hub.sim.natural`, `hub.sim.optics`), not the simulator's drawn scenes, fed to a camera's diagnosis as
the hub feeds it (a keyframe every 2 s, one measured every 4 s). Pure: no hub, no codec, made-up times.
The benchmark (`bench/diagnostics.py --set natural`) runs the same footage through H.264, GStreamer's
RTSP server and a real hub.
"""

from __future__ import annotations

import cv2
import pytest

from hub.diagnostics.checks import Baseline, Sample, scores
from hub.diagnostics.diagnosis import Diagnosis
from hub.diagnostics.sampling import Sampler
from hub.diagnostics.settings import SamplingSettings
from hub.sim import natural

pytest.importorskip("skimage")


class NaturalCamera:
    """One camera showing a natural clip: its diagnosis, fed each sampled picture."""

    def __init__(self, scene: str, **clip):
        self.plan = natural.ClipPlan(scene, 3600, 1, label=f"Cam {scene}", **clip)
        self.diagnosis, self.t = Diagnosis(), 0.0
        self.sampler = Sampler(SamplingSettings(every_s=0.0))  # every picture it is given: one every 4 s

    def run(self, seconds: float, day: bool = True) -> list[tuple[str, ...]]:
        seen = []
        end = self.t + seconds
        while self.t < end:
            yuv = cv2.cvtColor(natural.picture(self.plan, int(self.t)), cv2.COLOR_BGR2YUV_I420)
            luma = yuv[:360]
            small = cv2.resize(luma, (160, 90), interpolation=cv2.INTER_AREA)
            thumb = cv2.resize(small, (64, 36), interpolation=cv2.INTER_AREA)
            sampled = self.sampler.take(small, yuv[360:450].reshape(180, 320), yuv[450:].reshape(180, 320), luma, self.t)
            self.diagnosis.background(thumb, self.t)
            self.diagnosis.observe(thumb, sampled, self.t, day)
            seen.append(self.diagnosis.failing(self.t))
            self.t += 4.0
        return seen


SCENES = [*natural.DAY_SCENES, *natural.NIGHT_SCENES]


@pytest.mark.parametrize("scene", SCENES)
def test_a_clean_natural_scene_in_changing_light_trips_nothing(scene):
    camera = NaturalCamera(scene, change=True)
    seen = camera.run(480, day=not scene.endswith("-night"))  # two periods of the light, a shadow crossing twice
    assert not any(seen), sorted({c for failing in seen for c in failing})


@pytest.mark.parametrize("kind", ["defocus", "dirty", "fog"])
def test_a_lens_fault_after_a_clean_start_is_found_and_named(kind):
    strength = natural.STRENGTHS[kind][1]
    for scene in SCENES:
        camera = NaturalCamera(scene, kind=kind, strength=strength, onset_s=120)
        night = scene.endswith("-night")
        assert not any(camera.run(120, day=not night)), f"{scene}: clean while it learns"
        seen = camera.run(80, day=not night)
        assert seen[-1] == (natural.FOUND_BY[kind],), f"{scene}: {kind} -> {seen[-1]}"


def test_a_camera_out_of_focus_from_its_first_picture_is_found_and_its_baseline_never_learnt():
    for scene in natural.DAY_SCENES:
        camera = NaturalCamera(scene, kind="defocus", strength=natural.STRENGTHS["defocus"][2])
        seen = camera.run(120)
        assert seen[-1] == ("blurred",), f"{scene}: {seen[-1]}"
        assert not camera.diagnosis.baseline.ready(False), scene


FLAT_WHEN_FADED = ("launch", "launch-night")  # mostly sky: faded, as flat as a cover (no reference view tells them apart)


@pytest.mark.parametrize("kind", ["fog", "lowcontrast"])
def test_a_camera_fogged_or_faded_from_its_first_picture_is_found_by_its_veil_and_never_learnt(kind):
    """No baseline to compare with: the darkest parts lifted toward the brightest give fog and a faded
    signal away on every scene, day and night, sharp or soft, while clean ones stay quiet (above)."""
    for scene in SCENES:
        camera = NaturalCamera(scene, kind=kind, strength=0.7 if kind == "fog" else 0.25)  # the default strengths
        seen = camera.run(120, day=not scene.endswith("-night"))
        expected = ("covered",) if scene in FLAT_WHEN_FADED else ("low_contrast",)
        assert seen[-1] == expected, f"{scene}: {kind} -> {seen[-1]}"
        assert camera.diagnosis.baseline.counts == {False: 0, True: 0}, f"{scene}: learnt a faulty picture"


@pytest.mark.parametrize("scene", natural.DAY_SCENES[:5])  # the colourful ones: a grey camera has no colour to lose
def test_an_ir_cut_filter_stuck_by_day_is_found_in_a_dim_scene_as_in_a_bright_one(scene):
    camera = NaturalCamera(scene, kind="ircut", strength=1, onset_s=120, change=True)
    assert not any(camera.run(120)), f"{scene}: clean while it learns"
    assert camera.run(80)[-1] == ("ir_cut",), scene


def test_night_mode_switched_on_early_at_dusk_in_a_dim_scene_is_no_ir_cut_fault():
    """Dusk's night mode is dimmer and flatter than the day; a stuck filter shows the day less its colour."""
    baseline = Baseline()
    for index in range(0, 1200, 40):
        baseline.learn(Sample.from_bgr(natural.picture(natural.ClipPlan("launch", 240, change=True), index)), False)
    for index in range(0, 1200, 100):
        dusk = Sample.from_bgr(natural.picture(natural.ClipPlan("launch-night", 240, change=True), index))
        stuck = Sample.from_bgr(natural.picture(natural.ClipPlan("launch", 240, kind="ircut", strength=1, change=True), index))
        assert scores(dusk, baseline, clock_day=True)["ir_cut"] < 1.0, index
        assert scores(stuck, baseline, clock_day=True)["ir_cut"] >= 1.0, index
