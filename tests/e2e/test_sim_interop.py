"""The simulator seen through FFmpeg's RTSP client (PyAV): streams decode, faults look like real failures."""

from __future__ import annotations

import threading
import time

import av
import cv2
import numpy as np
import pytest
from support.rtspclient import decode, mean_abs_diff, open_stream, packet_rate, pts_rate

from hub.health import pictures_differ
from hub.ingest.observations import Picture
from hub.ingest.reader import THUMB_HEIGHT, THUMB_SIZE, THUMB_WIDTH

CASES = [
    ("h264-360", "", "h264", 640, 360, "tcp"),
    ("h264-360", "", "h264", 640, 360, "udp"),
    ("h265-360", "", "hevc", 640, 360, "tcp"),
    ("h264-720", "", "h264", 1280, 720, "tcp"),
    ("h265-720-auth", "viewer:s3cret", "hevc", 1280, 720, "tcp"),
    ("h264-auth", "viewer:s3cret", "h264", 640, 360, "tcp"),
]


@pytest.mark.parametrize("stream_id,credentials,codec,width,height,transport", CASES)
def test_stream_decodes_at_source_size_and_rate(sim, stream_id, credentials, codec, width, height, transport):
    with open_stream(sim.url(stream_id, credentials), transport) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == codec
        pictures = decode(container, 50)
        rate = packet_rate(container)  # after the probe's burst, and without decoding
    assert len(pictures) == 50
    assert all(p.luma.shape == (height, width) for p in pictures)
    steps = np.diff([p.pts_s for p in pictures])
    assert np.allclose(steps, 1 / 25, atol=0.002), steps
    assert 20 <= rate <= 30, "the camera sends in real time"
    assert mean_abs_diff(pictures[0].luma, pictures[-1].luma) > 1.0, "the scene moves"
    assert pictures_differ(_as_hub_sees_it(pictures[0].luma), _as_hub_sees_it(pictures[-1].luma)), "the hub sees it move"


@pytest.mark.parametrize("credentials", ["", "viewer:wrong", "nobody:s3cret"])
def test_wrong_or_missing_credentials_get_401(sim, credentials):
    with pytest.raises(av.error.HTTPUnauthorizedError):
        open_stream(sim.url("h264-auth", credentials))


def test_unknown_stream_gets_404(sim):
    with pytest.raises(av.error.HTTPNotFoundError):
        open_stream(sim.url("no-such-camera"))


def test_two_clients_share_one_camera(sim):
    results: dict[int, int] = {}

    def reader(slot: int) -> None:
        with open_stream(sim.url("h265-360")) as container:
            results[slot] = len(decode(container, 60))

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {0: 60, 1: 60}


def _pictures_after_fault(sim, stream_id: str, fault: str, count: int) -> list:
    """Open a healthy stream, set the fault while reading, return the pictures decoded after it."""
    container = open_stream(sim.url(stream_id))
    try:
        decode(container, 10)
        sim.set_fault(stream_id, fault)
        marker = time.monotonic()
        # The last `count` of them: what was in flight when the fault started (FFmpeg's buffer, more of it
        # on a loaded machine) comes first and is left out with the 50 pictures of slack.
        after = [p for p in decode(container, count + 50) if p.arrived > marker]
        return after[-count:]
    finally:
        container.close()
        sim.clear_fault(stream_id)


def test_freeze_repeats_one_picture(sim):
    pictures = _pictures_after_fault(sim, "fault-freeze", "freeze", 30)
    assert len(pictures) == 30
    # Encoder noise moves the decoded pictures by about a luma step (more where the still clip loops); the
    # hub's frozen rule must see one picture throughout (and the same rule sees the moving scene move: above).
    seen = [_as_hub_sees_it(p.luma) for p in pictures]
    assert not any(pictures_differ(a, b) for a, b in zip(seen, seen[1:], strict=False))
    first, *rest = seen
    assert not any(pictures_differ(first, later) for later in rest)


def _as_hub_sees_it(luma: np.ndarray) -> Picture:
    """The thumbnails the hub's reader makes of a decoded picture, for its frozen rule."""
    detail = cv2.resize(luma, THUMB_SIZE, interpolation=cv2.INTER_AREA)
    thumb = cv2.resize(detail, (THUMB_WIDTH, THUMB_HEIGHT), interpolation=cv2.INTER_AREA)
    return Picture(0, 0.0, luma.shape[1], luma.shape[0], thumb, b"", detail=detail)


def test_black_sends_black_flat_pictures(sim):
    pictures = _pictures_after_fault(sim, "fault-black", "black", 20)
    assert len(pictures) == 20
    assert all(p.luma.mean() < 20 and p.luma.std() < 2 for p in pictures)


def test_lowfps_drops_the_frame_rate(sim):
    pictures = _pictures_after_fault(sim, "fault-lowfps", "lowfps", 12)
    assert len(pictures) == 12
    assert pts_rate(pictures) < 8  # nominal 25 fps, the fault sends 5 (on the stream's clock: see pts_rate)


def test_stall_keeps_the_connection_but_sends_nothing(sim):
    container = open_stream(sim.url("fault-stall"), read_timeout=3.0)
    try:
        seen = decode(container, 10)
        sim.set_fault("fault-stall", "stall")
        # FFmpeg may still hand over what it had queued (stamped before the fault), then its read timeout fires.
        limit = seen[-1].pts_s + 1.5
        with pytest.raises(av.error.ExitError):
            for packet in container.demux(video=0):
                if packet.size and packet.pts is not None:
                    assert float(packet.pts * packet.time_base) < limit, "new video arrives during a stall"
    finally:
        container.close()
    with pytest.raises(av.error.FFmpegError):  # a new client gets no answer either (a healthy one answers in milliseconds)
        open_stream(sim.url("fault-stall"), read_timeout=3.0, open_timeout=4.0)
    sim.clear_fault("fault-stall")
    with open_stream(sim.url("fault-stall")) as container:
        assert len(decode(container, 10)) == 10


def test_drop_closes_connections_and_refuses_new_ones(sim):
    container = open_stream(sim.url("fault-drop"))
    try:
        decode(container, 10)
        sim.set_fault("fault-drop", "drop")
        packets_after = sum(1 for _ in container.demux(video=0))  # ends: the server closed the connection
        assert packets_after < 60
    finally:
        container.close()
    with pytest.raises(av.error.FFmpegError):
        open_stream(sim.url("fault-drop"))
    sim.clear_fault("fault-drop")
    with open_stream(sim.url("fault-drop")) as container:
        assert len(decode(container, 10)) == 10


@pytest.mark.parametrize("fault,error", [("auth", av.error.HTTPUnauthorizedError), ("notfound", av.error.HTTPNotFoundError)])
def test_auth_and_notfound_end_sessions_and_refuse(sim, fault, error):
    stream_id = f"fault-{fault}"
    container = open_stream(sim.url(stream_id))
    try:
        decode(container, 10)
        sim.set_fault(stream_id, fault)
        assert sum(1 for _ in container.demux(video=0)) < 60  # the session is closed
    finally:
        container.close()
    with pytest.raises(error):
        open_stream(sim.url(stream_id))
    sim.clear_fault(stream_id)
    with open_stream(sim.url(stream_id)) as container:
        assert len(decode(container, 10)) == 10


def test_fault_from_config_applies_at_start(sim):
    with open_stream(sim.url("cfg-black")) as container:
        pictures = decode(container, 10)
    assert all(p.luma.mean() < 20 for p in pictures)


def test_delayed_fault_from_config_starts_after_its_delay(sim):
    deadline = time.monotonic() + 30
    while True:
        status, body = sim.control_call("GET", "/faults")
        assert status == 200
        if body["faults"].get("cfg-late", {}).get("active"):
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    assert body["faults"]["cfg-late"]["fault"] == "freeze"
