"""The simulator's picture faults (for the diagnostics): from the config and from the control API, at a
strength, rendered into the clips a camera serves over RTSP."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
from conftest import sim_for, sim_stream

from hub.config import ConfigError, parse_config, parse_fault
from hub.diagnostics import measures as m
from hub.sim import picture_faults, scenes

STREET = "sim://street?size=640x360&fps=25&codec=h264"
sim = sim_for(sim_stream("clean", STREET) + sim_stream("blurred", STREET, fault="blur:4") + sim_stream("switched", STREET))


def first_picture(sim, stream_id: str) -> np.ndarray:
    with av.open(sim.url(stream_id), options={"rtsp_transport": "tcp"}, timeout=20) as container:
        for frame in container.decode(video=0):
            return frame.to_ndarray(format="bgr24")


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
        "blur": m.sharpness(b) < 0.5 * m.sharpness(a),
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


def test_the_camera_serves_the_fault_from_the_config_and_from_the_control_api(sim):
    clean, blurred = first_picture(sim, "clean"), first_picture(sim, "blurred")
    scene = np.s_[40:320]  # between the camera's text lines, which stay sharp: the lens is blurred, not the overlay
    assert m.sharpness(cv2.cvtColor(blurred[scene], cv2.COLOR_BGR2GRAY)) < 0.3 * m.sharpness(
        cv2.cvtColor(clean[scene], cv2.COLOR_BGR2GRAY)
    )
    status, body = sim.control_call("POST", "/faults/switched", {"fault": "ircut"})
    assert status == 200 and body["fault"] == "ircut:1"
    assert sim.control_call("GET", "/faults")[1]["faults"]["switched"] == {"fault": "ircut:1", "active": True}
    assert m.chroma(*m.chroma_planes(cv2.resize(first_picture(sim, "switched"), (160, 90)))) < 0.1, "grey in daylight"
    sim.clear_fault("switched")
    assert m.chroma(*m.chroma_planes(cv2.resize(first_picture(sim, "switched"), (160, 90)))) > 1.0
    status, body = sim.control_call("POST", "/faults/switched", {"fault": "blur:999"})
    assert status == 400 and "picture fault" in body["error"]
