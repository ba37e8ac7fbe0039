"""Picture diagnostics, pure: each camera's diagnosis fed sampled pictures as a reader takes them.

The pictures are the simulator's scenes, with and without its picture faults, turned into the 4:2:0
TV-range planes a decoder hands the reader. A simulated clip repeats three keyframes (one every 2 s of
a 6 s loop), so the samples here cycle through three pictures too. Where the codec matters (it smooths
added grain, and blocks strong stripes) the keyframes come from the clip the simulator streams, decoded.
No hub, no clock: times are made up.
"""

from __future__ import annotations

from functools import cache

import av
import cv2
import numpy as np
import pytest
from support.pictures import keyframes

from hub.diagnostics.checks import MIN_SAMPLES, Baseline, Sample, scores
from hub.diagnostics.diagnosis import Diagnosis
from hub.diagnostics.moved import Features, confirm
from hub.diagnostics.sampling import Sampler
from hub.diagnostics.settings import DiagnosisSettings, SamplingSettings
from hub.sim import clips, picture_faults, scenes
from hub.sim.picture_faults import FOUND_BY as CHECK_OF

HARD = ("night", "rain", "office", "traffic", "clock")


@cache
def encoded_keyframes(scene: str, fault: tuple[str, float] | None = None, label: str = "Cam 7") -> tuple:
    """The keyframes of the clip the simulator streams (640x360, 10 fps, H.264), decoded as a reader
    decodes them: what the codec leaves of a fault (it smooths added grain away, and blocks strong stripes)."""
    variant = picture_faults.variant(*fault) if fault else clips.NORMAL
    out = []
    with av.open(clips.encode_clip(clips.ClipSpec(scene, 640, 360, 10, "h264", label, variant))) as container:
        for frame in container.decode(video=0):
            if frame.key_frame:
                planar = frame.to_ndarray()
                luma, chroma = planar[:360], planar[360:].reshape(2, 180, 320)
                small = cv2.resize(luma, (160, 90), interpolation=cv2.INTER_AREA)
                out.append((luma, small, cv2.resize(small, (64, 36), interpolation=cv2.INTER_AREA), chroma[0], chroma[1]))
    return tuple(out)


EVERY_PICTURE = SamplingSettings(every_s=2.0)  # check_sample_s = 2: every picture is measured


class Camera:
    """A diagnosis fed as the hub feeds it: a picture every 2 s, the reader's sampler deciding what to measure
    (every picture by default)."""

    def __init__(self, settings: DiagnosisSettings | None = None, sampling: SamplingSettings = EVERY_PICTURE):
        self.diagnosis = Diagnosis(settings or DiagnosisSettings())
        self.sampler = Sampler(sampling)
        self.t = 0.0

    def show(
        self, scene: str, fault=None, samples: int = 1, day: bool = True, label: str = "Cam 7", encoded: bool = False
    ) -> list[tuple[str, ...]]:
        """Feed `samples` pictures (`encoded`: through the simulator's codec); returns what fails after each."""
        frames, seen = (encoded_keyframes if encoded else keyframes)(scene, fault, label), []
        for _ in range(samples):
            luma, small, thumb, cb, cr = frames[int(self.t / 2) % len(frames)]
            self.diagnosis.background(thumb, self.t)  # as the hub does: every picture feeds the moved check's background,
            sampled = self.sampler.take(small, cb, cr, luma, self.t)
            if sampled is not None:  # and only a sampled one is measured
                self.diagnosis.observe(thumb, sampled, self.t, day)
            seen.append(self.diagnosis.failing(self.t))
            self.t += 2.0
        return seen


def default(kind: str) -> tuple[str, float]:
    return kind, picture_faults.DEFAULTS[kind][0]


@pytest.mark.parametrize("scene", list(scenes.SCENES))
def test_ten_minutes_of_every_scene_trip_nothing(scene):
    camera = Camera()
    seen = camera.show(scene, samples=300)
    assert not any(seen), (scene, {c for s in seen for c in s})
    assert camera.diagnosis.baseline.ready(night=False), (
        "a clean camera learns its baseline (a grey one by day too: it never had colour)"
    )


@pytest.mark.parametrize("kind", [k for k in CHECK_OF if k != "moved"])
def test_each_fault_at_its_default_strength_trips_its_own_check_and_no_other(kind):
    camera = Camera()
    camera.show("street", samples=40)
    full_frame = kind in ("noise", "stripes")  # judged on the full-frame sample: every 5th picture (10 s) by default
    seen = camera.show("street", default(kind), samples=60 if full_frame else 20)
    assert seen[-1] == (CHECK_OF[kind],), (kind, seen[-1])
    assert {c for failing in seen for c in failing} == {CHECK_OF[kind]}, "never another diagnosis on the way"
    first = next(i for i, failing in enumerate(seen) if failing)
    assert first <= (45 if full_frame else 10), f"{kind} took {first + 1} samples: the vote trips on the 8th failing one"


@pytest.mark.parametrize(
    "scene, fault",
    [
        ("room", ("moved", 15.0)),  # the furniture shows the turn; the walls alone would not
        ("night", ("noise", 12.0)),  # on top of the IR picture's own grain
        ("office", ("cover", 0.75)),  # three quarters of the lens, under the camera's text
        ("night", ("cover", 0.75)),  # on a dim, faint picture a cover is still no fog: the scene is gone
        ("clock", ("mosaic", 16.0)),  # blocks on the codec's grid, with a ticking clock on top
        ("room", ("stripes", 50.0)),  # strong stripes make the codec blocky one way only: not mosaic
        ("night", ("lowcontrast", 0.25)),  # fog over a dim picture flattens it, but the scene still shows: not covered
        ("rain", ("lowcontrast", 0.1)),
        ("street", ("lowcontrast", 0.1)),  # grey and faint by day is fog, not a camera gone to night mode early
    ],
)
def test_faults_that_hide_in_hard_places_are_found_and_taken_for_nothing_else(scene, fault):
    camera = Camera()
    camera.show(scene, samples=60, encoded=True)
    seen = camera.show(scene, fault, samples=90, encoded=True)
    assert seen[-1] == (CHECK_OF[fault[0]],), (scene, fault, seen[-1])
    assert {c for failing in seen for c in failing} == {CHECK_OF[fault[0]]}, (scene, fault)


def test_measuring_every_other_picture_trips_a_fault_in_about_half_a_minute():
    camera = Camera(sampling=SamplingSettings(every_s=4.0))  # check_sample_s = 4, the default
    assert not any(camera.show("street", samples=40))
    seen = camera.show("street", default("cover"), samples=30)
    first = next(i for i, failing in enumerate(seen) if failing)
    assert seen[-1] == ("covered",) and 14 <= first <= 16, "8 failing measured pictures, 4 s apart: 30-32 s"


def test_one_failing_sample_is_not_enough_and_a_fault_that_ends_clears():
    camera = Camera()
    camera.show("gate", samples=MIN_SAMPLES + 5)
    assert not any(camera.show("gate", default("cover"), samples=7)), "7 of 10 do not trip"
    assert camera.show("gate", default("cover"), samples=1)[-1] == ("covered",)
    after = camera.show("gate", samples=10)
    assert after[6] == ("covered",) and after[-1] == (), "clears once 8 of the last 10 are below 70 % of the trigger"


def test_a_camera_turned_away_is_moved_and_accepting_the_new_view_clears_it():
    camera = Camera()
    camera.show("office", samples=60)  # 2 minutes: the background and its reference, with features
    assert [r.by for r in camera.diagnosis.references] == ["hub"]
    seen = camera.show("office", default("moved"), samples=90)
    assert seen[-1] == ("moved",)
    assert camera.diagnosis.accept_reference("alice", camera.t).by == "alice"
    assert not any(camera.show("office", default("moved"), samples=60)), "the new view is the reference now"


def test_busy_and_ticking_scenes_are_not_moved_but_a_pan_of_them_is():
    for scene in ("traffic", "clock", "rain"):
        camera = Camera()
        assert not any(camera.show(scene, samples=150)), scene
        seen = camera.show(scene, default("moved"), samples=90)
        assert seen[-1] == ("moved",), scene
        assert {c for failing in seen for c in failing} == {"moved"}, f"{scene}: the move is not taken for another fault"


def test_a_ptz_camera_keeps_a_reference_per_preset():
    camera = Camera(DiagnosisSettings(ptz=True))
    camera.show("street", samples=60)
    camera.show("street", ("moved", 30), samples=90)  # preset 2, before anybody accepted it
    assert "moved" in camera.diagnosis.failing(camera.t)
    camera.diagnosis.accept_reference("alice", camera.t)
    assert len(camera.diagnosis.references) == 2
    assert not any(camera.show("street", samples=60)), "back at preset 1"
    assert not any(camera.show("street", ("moved", 30), samples=60)), "at preset 2 again"
    assert camera.show("street", ("moved", 15), samples=90)[-1] == ("moved",), "somewhere else"


def test_a_moved_check_can_be_turned_off():
    camera = Camera(DiagnosisSettings(checks=frozenset(DiagnosisSettings().checks - {"moved"})))
    camera.show("office", samples=60)
    assert not any(camera.show("office", default("moved"), samples=90))


def test_orb_features_tell_a_move_from_a_busy_moment_or_say_they_cannot():
    gray = cv2.cvtColor(scenes.draw("office", scenes.FrameSpec(0, 640, 360, 25, "Cam")), cv2.COLOR_BGR2GRAY)
    same = cv2.cvtColor(scenes.draw("office", scenes.FrameSpec(50, 640, 360, 25, "Cam")), cv2.COLOR_BGR2GRAY)
    turned = np.roll(same, 96, axis=1)
    assert confirm(Features.of(gray), Features.of(same)) is False
    assert confirm(Features.of(gray), Features.of(turned)) is True
    flat = np.full((360, 640), 90, np.uint8)
    assert confirm(Features.of(flat), Features.of(flat)) is None, "a flat picture has no features to tell"


def test_a_muted_check_is_still_judged_but_not_reported_until_the_mute_ends():
    camera = Camera()
    camera.show("street", samples=MIN_SAMPLES + 5)
    from hub.diagnostics.diagnosis import Mute

    camera.diagnosis.mutes["covered"] = Mute("covered", camera.t + 30, "bag over it, maintenance booked", "alice", camera.t)
    seen = camera.show("street", default("cover"), samples=12)
    assert not any(seen) and camera.diagnosis.tripped() == ["covered"]
    assert camera.show("street", default("cover"), samples=12)[-1] == ("covered",), "the mute ended"


def test_ir_cut_grey_by_day_colour_by_night_and_neither_for_a_grey_camera():
    camera = Camera()
    camera.show("street", samples=MIN_SAMPLES + 5)
    assert camera.show("street", default("ircut"), samples=12)[-1] == ("ir_cut",), "grey in daylight"
    night = Camera()
    assert not any(night.show("street", default("ircut"), samples=40, day=False)), "grey at night is night mode"
    dark_colour = night.show("street", ("dark", 2), samples=12, day=False)
    assert dark_colour[-1] == ("ir_cut",), "colour in the dark from a camera whose nights are grey"
    grey = Camera()
    assert not any(grey.show("night", samples=60, day=True)), "a camera that is always grey has no colour to lose"


def test_the_day_baseline_and_the_night_baseline_are_kept_apart():
    camera = Camera()
    camera.show("street", samples=MIN_SAMPLES + 5)
    camera.show("night", samples=MIN_SAMPLES + 5, day=False)
    base = camera.diagnosis.baseline
    assert base.ready(False) and base.ready(True)
    assert base.values[False]["chroma"] > 1 > base.values[True]["chroma"]
    assert not any(camera.show("street", samples=30)) and not any(camera.show("night", samples=30, day=False)), (
        "switching is no fault"
    )


def test_without_a_baseline_only_what_no_clean_camera_shows_is_a_fault():
    street = scenes.draw("street", scenes.FrameSpec(0, 640, 360, 25, "C"))
    blurred = Sample.from_bgr(picture_faults.render("blur", 3, street, 0))
    assert scores(blurred, Baseline(), clock_day=True)["blurred"] >= 1.0, "no fine detail at all: absolutely blurred"
    softer = Sample.from_bgr(picture_faults.render("blur", 1, street, 0))
    assert scores(softer, Baseline(), clock_day=True)["blurred"] < 1.0, "a little soft: it waits for its own baseline"
    clean = scores(Sample.from_bgr(street), Baseline(), clock_day=True)
    assert all(score < 1.0 for score in clean.values()), clean


@pytest.mark.parametrize("kind", ["blur", "colorcast", "cover", "dark", "mosaic"])
def test_a_camera_faulty_from_its_first_picture_is_reported_and_never_learnt(kind):
    found = []
    for scene in ("street", "gate", "road", "office", "clock"):
        camera = Camera()
        seen = camera.show(scene, default(kind), samples=40, encoded=True)
        assert not camera.diagnosis.baseline.ready(False), f"{scene}: learnt from faulty pictures"
        found.append(CHECK_OF[kind] in seen[-1])
        assert seen.index(seen[-1]) <= 10, f"{scene}: {kind} found within one vote (10 pictures)"
    assert all(found), found


def test_no_signal_or_a_black_picture_suspends_the_votes():
    camera = Camera()
    camera.show("street", samples=MIN_SAMPLES + 5)
    camera.show("street", default("cover"), samples=6)
    camera.diagnosis.suspend()
    assert not any(camera.show("street", default("cover"), samples=7)), "the vote starts over after a suspension"
