"""The simulator's picture faults (for the diagnostics): from the config and from the control API, at a
strength, rendered into the clips a camera serves over RTSP."""

from __future__ import annotations

import av
import cv2
import numpy as np
from support.estates import sim_for, sim_stream

from hub.diagnostics import measures as m

STREET = "sim://street?size=640x360&fps=25&codec=h264"
sim = sim_for(sim_stream("clean", STREET) + sim_stream("blurred", STREET, fault="blur:4") + sim_stream("switched", STREET))


def first_picture(sim, stream_id: str) -> np.ndarray:
    with av.open(sim.url(stream_id), options={"rtsp_transport": "tcp"}, timeout=20) as container:
        for frame in container.decode(video=0):
            return frame.to_ndarray(format="bgr24")


def test_the_camera_serves_the_fault_from_the_config_and_from_the_control_api(sim):
    clean, blurred = first_picture(sim, "clean"), first_picture(sim, "blurred")
    lumas = [cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY) for picture in (blurred, clean)]
    sharp, sharp_clean = (m.sharpness(luma, m.noise_sigma(luma))[0] for luma in lumas)
    assert sharp < 0.3 * sharp_clean, "the lens is blurred (the camera's text lines stay sharp: sharpness leaves them out)"
    status, body = sim.control_call("POST", "/faults/switched", {"fault": "ircut"})
    assert status == 200 and body["fault"] == "ircut:1"
    assert sim.control_call("GET", "/faults")[1]["faults"]["switched"] == {"fault": "ircut:1", "active": True}
    assert m.chroma(*m.chroma_planes(cv2.resize(first_picture(sim, "switched"), (160, 90)))) < 0.1, "grey in daylight"
    sim.clear_fault("switched")
    assert m.chroma(*m.chroma_planes(cv2.resize(first_picture(sim, "switched"), (160, 90)))) > 1.0
    status, body = sim.control_call("POST", "/faults/switched", {"fault": "blur:999"})
    assert status == 400 and "picture fault" in body["error"]
