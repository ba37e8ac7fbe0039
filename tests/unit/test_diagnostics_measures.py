"""Picture diagnostics, first step: each measure separates a clean scene from its fault, and the vote
trips on 8 of 10 samples and clears only below 70 % of the trigger (pure: no hub, no clock)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hub.diagnostics import measures as m
from hub.diagnostics.confirm import Vote, falling, rising
from hub.sim import scenes

SCENES = ("street", "gate", "room", "road", "bars")


def picture(scene: str, frame: int = 50) -> np.ndarray:
    return scenes.draw(scene, scenes.FrameSpec(frame, 640, 360, 25, "Cam"))


def sharpness(luma: np.ndarray) -> float:
    return m.sharpness(luma, m.noise_sigma(luma))[0]


def gray(bgr: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    if size is not None:
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("scene", SCENES)
def test_each_measure_separates_the_clean_scene_from_its_fault(scene):
    clean = picture(scene)
    luma = gray(clean)
    thumb = gray(clean, (160, 90))
    rng = np.random.default_rng(7)
    blurred = gray(cv2.GaussianBlur(clean, (0, 0), 3))
    assert sharpness(blurred) < 0.5 * sharpness(luma), "blur at sigma 3 halves fine detail over coarse"
    assert m.mean_luma(gray(clean // 8, (160, 90))) < 25 < m.mean_luma(thumb)
    over = cv2.convertScaleAbs(clean, alpha=0.2, beta=250)  # blown out: washed to white
    assert m.bright_share(gray(over, (160, 90))) > 0.4 > m.bright_share(thumb)
    small = cv2.resize(over, (80, 45), interpolation=cv2.INTER_AREA)
    assert (
        m.clipped_share(gray(small), *m.chroma_planes(small))
        > 0.4
        > m.clipped_share(gray(clean, (80, 45)), *m.chroma_planes(cv2.resize(clean, (80, 45))))
    )
    covered = np.full_like(clean, 60) + rng.integers(0, 3, clean.shape, dtype=np.uint8)
    assert m.flat_cells(gray(covered, (160, 90))) >= 10 > m.flat_cells(thumb)
    noisy = np.clip(luma.astype(np.float32) + rng.normal(0, 12, luma.shape), 0, 255).astype(np.uint8)
    assert m.noise_sigma(noisy) > 3 * m.noise_sigma(luma)
    stripes = np.clip(luma.astype(np.float32) + 25 * np.sin(np.arange(360)[:, None] * 2 * np.pi / 6), 0, 255).astype(np.uint8)
    assert m.stripe_strength(stripes) > 3 * m.stripe_strength(luma)
    mosaic = cv2.resize(cv2.resize(luma, (80, 45), interpolation=cv2.INTER_AREA), (640, 360), interpolation=cv2.INTER_NEAREST)
    assert m.blockiness(mosaic) > 2.0 > m.blockiness(luma)
    grey = cv2.cvtColor(luma, cv2.COLOR_GRAY2BGR)
    assert (
        m.chroma(*m.chroma_planes(cv2.resize(grey, (160, 90))))
        < 0.25
        < 1.0
        < m.chroma(*m.chroma_planes(cv2.resize(clean, (160, 90))))
    )
    dx, dy, response = m.shift(thumb, np.roll(thumb, 20, axis=1))
    assert abs(dx - 20) < 1 and abs(dy) < 1 and response > 0.5
    assert m.shift(thumb, thumb)[2] > 0.99 and m.hamming(m.dhash(thumb), m.dhash(thumb)) == 0


def test_a_colour_cast_shows_against_a_neutral_scene():
    clean = cv2.resize(picture("street"), (160, 90))
    cast = clean.copy()
    cast[..., 0] = np.clip(cast[..., 0].astype(np.int16) + 60, 0, 255)
    assert m.color_cast(*m.chroma_planes(cast)) > 1.5 > m.color_cast(*m.chroma_planes(clean))


def test_the_vote_trips_on_8_of_10_and_clears_only_below_70_percent_of_the_trigger():
    vote = Vote()
    assert not any(vote.add(score) for score in [1.2] * 7 + [0.5, 0.5]), "7 of 9 is not enough"
    assert vote.add(1.2), "the 8th failing score of the last 10 trips it"
    for _ in range(10):
        assert vote.add(0.8), "between 70 % and 100 % of the trigger it stays failing: no flapping"
    states = [vote.add(0.5) for _ in range(8)]
    assert states[-1] is False and states[:-1] == [True] * 7, "8 scores below 0.7 clear it"
    vote.add(1.5)
    vote.suspend()
    assert not vote.failing and not vote.scores


def test_scores_put_rising_and_falling_measures_on_one_scale():
    assert rising(12.0, 8.0) == 1.5 and rising(4.0, 8.0) == 0.5
    assert falling(100.0, 200.0) == 2.0 and falling(400.0, 200.0) == 0.5 and falling(0.0, 1.0) == float("inf")


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6])
def test_the_per_pixel_median_is_numpys_at_any_count(count):
    rng = np.random.default_rng(count)
    pictures = [rng.integers(0, 256, (36, 64), dtype=np.uint8) for _ in range(count)]
    pictures[0][:4] = 255  # ties and extremes: the order must not lose or wrap a value
    expected = np.median(np.stack(pictures), axis=0).astype(np.uint8)
    assert np.array_equal(m.median_picture(pictures), expected)
