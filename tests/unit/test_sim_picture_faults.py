"""The simulator's picture faults (for the diagnostics): from the config and from the control API, at a
strength, rendered into the clips a camera serves over RTSP."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from support.estates import sim_stream

from hub.config import ConfigError, parse_config, parse_fault
from hub.diagnostics import measures as m
from hub.sim import picture_faults, scenes

STREET = "sim://street?size=640x360&fps=25&codec=h264"


def test_fault_strengths_parse_with_defaults_and_ranges():
    assert str(parse_fault("blur")) == "blur:3" and str(parse_fault("mosaic:32@10s")) == "mosaic:32@10s"
    assert parse_fault("blur:0.1") is None and parse_fault("freeze:2") is None and parse_fault("cover:2") is None
    with pytest.raises(ConfigError, match="picture fault KIND"):
        parse_config(sim_stream("x", STREET, fault="blur:500"))


@pytest.mark.parametrize("kind", picture_faults.PICTURE_FAULTS)
def test_every_picture_fault_changes_what_its_measure_sees(kind):
    clean = scenes.draw("gate", scenes.FrameSpec(40, 640, 360, 25, "Cam"))
    strength = picture_faults.DEFAULTS[kind][0]
    faulty = picture_faults.render(kind, strength, clean, 40)
    assert faulty.shape == clean.shape and faulty.dtype == np.uint8
    a, b = cv2.cvtColor(clean, cv2.COLOR_BGR2GRAY), cv2.cvtColor(faulty, cv2.COLOR_BGR2GRAY)
    changed = {
        "blur": m.sharpness(b, m.noise_sigma(b))[0] < 0.5 * m.sharpness(a, m.noise_sigma(a))[0],
        "dark": m.mean_luma(b) < 25,
        "overexposed": m.bright_share(b) > 0.4,
        "lowcontrast": m.luma_std(b) < 0.4 * m.luma_std(a),
        "cover": m.flat_cells(cv2.resize(b, (160, 90))) >= 10,
        "moved": abs(m.shift(a, b)[0]) > 50,
        "colorcast": m.color_cast(*m.chroma_planes(faulty)) > 1.5,
        "ircut": m.chroma(*m.chroma_planes(faulty)) < 0.25,
        "noise": m.noise_sigma(b) > 3 * m.noise_sigma(a),
        "stripes": m.stripe_strength(b) > 3 * m.stripe_strength(a),
        "mosaic": m.blockiness(b, 16) > 2.0,
    }
    assert changed[kind], kind
