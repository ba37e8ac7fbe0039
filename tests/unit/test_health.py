"""Health rules, driven with made-up observations and made-up times (no I/O)."""

from __future__ import annotations

import numpy as np
import pytest

from hub import health as h
from hub.config import HealthSettings
from hub.ingest.observations import Closed, DecodeFailed, Opened, Packet, PacketBatch, Picture

SETTINGS = HealthSettings(stall_after_s=5, picture_interval_s=2, frozen_after_s=8, min_fps_ratio=0.5)
GEN = 1


def thumb(seed: int, level: int = 120) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(level, 40, (36, 64)), 0, 255).astype(np.uint8)


def stream(fps: float | None = 25) -> h.StreamHealth:
    health = h.StreamHealth(SETTINGS, fps)
    h.observe(health, Opened(GEN, "h264", 640, 360, 25.0), 0.0)
    return health


def feed(health: h.StreamHealth, start: float, end: float, fps: float = 25, pictures: list | None = None) -> None:
    """Packets at `fps` from `start` to `end`, a keyframe every 2 s; pictures (thumbs) every 2 s if given."""
    t, n = start, 0
    step = 1 / fps
    while t < end:
        key = n % max(1, int(2 * fps)) == 0
        h.observe(health, PacketBatch(GEN, (Packet(t, 2500, key, t),)), t)
        if key and pictures is not None:
            h.observe(health, Picture(GEN, t, 640, 360, pictures.pop(0) if len(pictures) > 1 else pictures[0], b"jpg"), t)
        t += step
        n += 1


def test_connecting_until_the_first_frame_then_online():
    health = stream()
    assert h.evaluate(health, 0.5) == h.Verdict("connecting")
    feed(health, 1.0, 10.0, pictures=[thumb(i) for i in range(10)])
    assert h.evaluate(health, 10.0) == h.Verdict("online")
    assert h.measured_fps(health, 10.0) == pytest.approx(25, rel=0.05)
    assert h.measured_bitrate(health, 10.0) == pytest.approx(25 * 2500 * 8, rel=0.05)
    assert h.keyframe_interval(health) == pytest.approx(2.0, abs=0.05)


def test_no_packet_for_stall_after_s_is_offline_stalled():
    health = stream()
    feed(health, 0.0, 10.0, pictures=[thumb(i) for i in range(10)])
    assert h.evaluate(health, 14.9).state == "online"
    assert h.evaluate(health, 15.1) == h.Verdict("offline", ("stalled",))


@pytest.mark.parametrize("reason", ["unreachable", "not_found"])
def test_closed_connection_is_offline_with_its_reason(reason):
    health = stream()
    feed(health, 0.0, 3.0)
    h.observe(health, Closed(GEN, reason, "x", True), 3.0)
    assert h.evaluate(health, 3.5) == h.Verdict("offline", (reason,))


def test_a_stream_that_ends_and_plays_again_at_once_is_a_reconnect_not_an_outage():
    health = stream()
    feed(health, 0.0, 6.0, pictures=[thumb(i) for i in range(3)])
    h.observe(health, Closed(GEN, "ended", "the stream ended", True), 6.0)  # a server looping its file
    assert h.evaluate(health, 6.5).state == "online"
    h.observe(health, Closed(GEN, "unreachable", "Connection refused", False), 6.1)  # the server still restarting
    assert h.evaluate(health, 6.5).state == "online"
    h.observe(health, Opened(GEN, "h264", 640, 360, 25.0), 7.0)
    assert h.evaluate(health, 7.5).state == "online"
    feed(health, 7.6, 12.0, pictures=[thumb(i) for i in range(3, 6)])
    assert h.evaluate(health, 12.0).state == "online" and health.reconnects == 1
    # One that ends and does not come back is ended once no video followed within stall_after_s.
    h.observe(health, Closed(GEN, "ended", "the stream ended", True), 12.0)
    assert h.evaluate(health, 16.9).state == "online"
    assert h.evaluate(health, 17.1) == h.Verdict("offline", ("ended",))
    # And one whose reopening keeps failing is down for that reason, after the same grace.
    h.observe(health, Closed(GEN, "unreachable", "Connection refused", False), 12.5)
    assert h.evaluate(health, 16.9).state == "online"
    assert h.evaluate(health, 17.1) == h.Verdict("offline", ("unreachable",))


def test_reader_giving_up_early_is_stalled_only_after_stall_after_s():
    health = stream()
    feed(health, 0.0, 3.0, pictures=[thumb(1), thumb(2)])
    h.observe(health, Closed(GEN, "stalled", "no packet for 4 s", True), 7.0)
    assert h.evaluate(health, 7.5).state == "online"
    assert h.evaluate(health, 8.1) == h.Verdict("offline", ("stalled",))


def test_a_hung_camera_whose_next_open_times_out_is_still_stalled_and_one_refusing_is_unreachable():
    health = stream()
    feed(health, 0.0, 3.0)
    h.observe(health, Closed(GEN, "stalled", "no packet for 10 s", True), 13.0)
    h.observe(health, Closed(GEN, "unreachable", "Connection timed out", False), 20.0)
    assert h.evaluate(health, 20.0) == h.Verdict("offline", ("stalled",))
    h.observe(health, Closed(GEN, "unreachable", "Connection refused", False), 30.0)
    assert h.evaluate(health, 30.0) == h.Verdict("offline", ("unreachable",))
    # a camera its patrol found hung, gone live (somebody opens it): the same rule, from the carried reason
    live = h.seeded(SETTINGS, 25, None, down_for="stalled")
    assert h.evaluate(live, 0.0) == h.Verdict("offline", ("stalled",)), "no moment of 'connecting' either"
    h.observe(live, Closed(GEN, "unreachable", "Connection timed out", False), 5.0)
    assert h.evaluate(live, 5.0) == h.Verdict("offline", ("stalled",))
    h.observe(live, Opened(GEN, "h264", 640, 360, 25.0), 6.0)
    feed(live, 6.0, 12.0, pictures=[thumb(i) for i in range(4)])
    assert h.evaluate(live, 12.0).state == "online"


def test_auth_failure_is_unauthorized():
    health = h.StreamHealth(SETTINGS, None)
    h.observe(health, Closed(GEN, "auth_failed", "401", False), 1.0)
    assert h.evaluate(health, 1.0) == h.Verdict("unauthorized", ("auth_failed",))


def test_frames_after_a_failure_bring_it_back_online():
    health = stream()
    feed(health, 0.0, 3.0)
    h.observe(health, Closed(GEN, "unreachable", "x", True), 3.0)
    h.observe(health, Opened(GEN, "h264", 640, 360, 25.0), 5.0)
    assert h.evaluate(health, 5.1).state == "offline"  # connected, but no frame yet
    feed(health, 5.2, 9.0, pictures=[thumb(i) for i in range(5)])
    assert h.evaluate(health, 9.0).state == "online"
    assert health.reconnects == 1


def test_same_picture_for_frozen_after_s_is_frozen():
    health = stream()
    feed(health, 0.0, 10.0, pictures=[thumb(i) for i in range(5)])
    still = thumb(99)
    noisy = [
        np.clip(still.astype(np.int16) + np.random.default_rng(i).integers(-3, 4, still.shape), 0, 255).astype(np.uint8)
        for i in range(12)
    ]
    feed(health, 10.0, 30.0, pictures=noisy)  # encoder noise on a still picture is not "live"
    verdict = h.evaluate(health, 30.0)
    assert verdict == h.Verdict("degraded", ("frozen",))
    assert h.failing_checks(health, 30.0) == ["frozen"]


def test_frozen_needs_the_full_interval():
    health = stream()
    feed(health, 0.0, 10.0, pictures=[thumb(i) for i in range(5)])
    feed(health, 10.0, 17.0, pictures=[thumb(7)] * 4)
    assert h.evaluate(health, 17.0).state == "online"


def test_moving_picture_is_not_frozen():
    health = stream()
    feed(health, 0.0, 30.0, pictures=[thumb(i) for i in range(20)])
    assert "frozen" not in h.evaluate(health, 30.0).reasons


def test_black_flat_picture_is_black_but_a_dark_scene_is_not():
    health = stream()
    black = np.full((36, 64), 16, np.uint8)
    feed(health, 0.0, 6.0, pictures=[black])
    assert "black" in h.evaluate(health, 6.0).reasons
    night = stream()
    feed(night, 0.0, 6.0, pictures=[thumb(i, level=25) for i in range(5)])
    assert "black" not in h.evaluate(night, 6.0).reasons


def test_a_long_black_picture_is_black_not_also_frozen():
    health = stream()
    feed(health, 0.0, 30.0, pictures=[np.full((36, 64), 16, np.uint8)])
    assert h.evaluate(health, 30.0) == h.Verdict("degraded", ("black",))


def test_unchanged_since_is_when_the_current_still_picture_began():
    health = stream()
    feed(health, 0.0, 10.0, pictures=[thumb(i) for i in range(5)])
    moving_until = h.picture_unchanged_since(health)
    assert moving_until == pytest.approx(8.0)  # the last keyframe that differed from the one before
    feed(health, 10.0, 30.0, pictures=[thumb(99)])
    assert h.picture_unchanged_since(health) == pytest.approx(10.0)
    assert "frozen" in h.evaluate(health, 30.0).reasons


def test_low_fps_against_nominal():
    health = stream(fps=25)
    feed(health, 0.0, 10.0, fps=25, pictures=[thumb(i) for i in range(10)])
    feed(health, 10.0, 20.0, fps=5, pictures=[thumb(i) for i in range(10, 20)])
    assert h.evaluate(health, 20.0) == h.Verdict("degraded", ("low_fps",))
    assert h.measured_fps(health, 20.0) == pytest.approx(5, rel=0.1)


def test_low_fps_uses_the_streams_own_rate_when_config_has_none():
    health = stream(fps=None)
    feed(health, 0.0, 10.0, fps=10, pictures=[thumb(i) for i in range(10)])
    assert "low_fps" in h.evaluate(health, 10.0).reasons  # announced 25, delivers 10


def test_resolution_change_and_decode_errors_degrade():
    health = stream()
    feed(health, 0.0, 6.0, pictures=[thumb(i) for i in range(5)])
    h.observe(health, Picture(GEN, 6.0, 1280, 720, thumb(50), b"jpg"), 6.0)
    h.observe(health, DecodeFailed(GEN, 6.0, "bad"), 6.0)
    feed(health, 6.0, 7.0, pictures=[thumb(i) for i in range(60, 70)])
    verdict = h.evaluate(health, 7.0)
    assert verdict.state == "degraded"
    assert set(verdict.reasons) >= {"resolution_changed", "decode_errors"}


def test_probe_burst_does_not_inflate_fps():
    health = stream()
    burst = tuple(Packet(1.0 + i * 0.001, 2500, i % 50 == 0, i / 25) for i in range(25))
    h.observe(health, PacketBatch(GEN, burst), 1.03)
    feed(health, 1.04, 8.0)
    assert h.measured_fps(health, 8.0) == pytest.approx(25, rel=0.08)


def test_arrival_clock_restamps_late_flushes_but_follows_real_time():
    from hub.ingest.reader import ArrivalClock

    clock = ArrivalClock()
    for i in range(100):  # steady: 40 ms apart, 50 ms network latency
        assert clock.stamp(100.05 + i * 0.04, i * 0.04) == pytest.approx(100.05 + i * 0.04)
    # A packet stamped pts 4.0 handed over 4 s late is stamped when it should have come.
    assert clock.stamp(108.05, 4.0) == pytest.approx(104.05, abs=0.01)
    # Timestamps restarting far back is a discontinuity, not a 30 s late packet.
    assert clock.stamp(200.0, 0.0) == 200.0


def _still_pictures(health: h.StreamHealth, arrivals: list[float], pts: list[float | None]) -> None:
    """The same picture, sampled at `arrivals` (the hub's clock) with the camera's timestamps `pts`."""
    still = thumb(7)
    for at, stamp in zip(arrivals, pts, strict=False):
        h.observe(health, PacketBatch(GEN, (Packet(at, 2500, True, stamp),)), at)
        h.observe(health, Picture(GEN, at, 640, 360, still, b"jpg", stamp), at)


def test_a_reader_behind_real_time_does_not_call_a_looping_scene_frozen():
    # The hub read 6 s of the camera's stream in 9 s (it was overloaded); a 6 s looping scene repeats itself.
    health = stream()
    _still_pictures(health, [1.0, 10.0], [101.0, 107.0])
    assert "frozen" not in h.evaluate(health, 10.0).reasons


def test_frozen_needs_still_pictures_spanning_frozen_after_s_not_just_time_since_the_first():
    # A sampler slowed by the load governor (a picture every 4 s or more) can take the same keyframe of
    # a 6 s looping scene twice in a row; until a third picture, that is no evidence of a still picture.
    health = stream()
    _still_pictures(health, [1.0, 7.0], [101.0, 107.0])
    assert "frozen" not in h.evaluate(health, 9.5).reasons, "two pictures 6 s apart say nothing of the 8 s rule"
    _still_pictures(health, [9.0], [109.0])
    assert "frozen" in h.evaluate(health, 9.5).reasons, "three spanning 8 s do"


def test_a_frozen_picture_with_the_camera_clock_running_is_frozen():
    health = stream()
    _still_pictures(health, [1.0, 10.0], [101.0, 110.0])
    assert "frozen" in h.evaluate(health, 10.0).reasons


@pytest.mark.parametrize("pts", [[None, None], [101.0, 101.0], [101.0, 50.0]])
def test_without_usable_camera_timestamps_the_wall_clock_decides_frozen(pts):
    health = stream()
    _still_pictures(health, [1.0, 10.0], pts)
    assert "frozen" in h.evaluate(health, 10.0).reasons


def test_arrival_jitter_is_not_taken_for_reader_lag():
    health = stream()
    _still_pictures(health, [1.0, 9.0], [101.0, 108.6])  # the picture 0.4 s "late": jitter, not lag
    assert "frozen" in h.evaluate(health, 9.0).reasons


def _sampled_phases(arrivals: list[float], pts: list[float], every: float, loop_s: float) -> list[float]:
    """The loop phases of the keyframes a reader takes pictures of (hub.ingest.reader's rule)."""
    from hub.ingest.reader import _picture_due

    taken, last_at, last_pts = [], -1e9, None
    for at, stamp in zip(arrivals, pts, strict=True):
        if _picture_due(at - last_at, stamp, last_pts, every):
            taken.append(stamp % loop_s)
            last_at, last_pts = at, stamp
    return taken


def test_a_reader_catching_up_takes_pictures_by_the_streams_clock_so_a_looping_scene_never_repeats():
    # Keyframes every 2 s of a 6 s looping scene, read 3.33 times faster than real time after a stall:
    # spaced by the hub's clock (1.8 s), every picture would be the loop's first keyframe again.
    pts = [2.0 * k for k in range(30)]
    arrivals = [100.0 + p / 3.33 for p in pts]
    phases = _sampled_phases(arrivals, pts, 1.8, 6.0)
    assert all(a != b for a, b in zip(phases, phases[1:], strict=False)), phases
    assert len(phases) == len(pts), "every keyframe: two seconds of the stream each"


def test_a_stream_whose_clock_stands_still_is_sampled_by_the_hubs_clock():
    phases = _sampled_phases([100.0 + 2 * k for k in range(10)], [5.0] * 10, 1.8, 6.0)
    assert len(phases) == 10


def test_a_frozen_picture_carries_over_to_the_next_connection_but_a_moving_cameras_last_picture_does_not():
    frozen = stream()
    _still_pictures(frozen, [1.0, 3.0, 5.0, 7.0, 9.0], [101.0, 103.0, 105.0, 107.0, 109.0])  # frozen when it ended
    assert "frozen" in h.evaluate(frozen, 9.0).reasons
    again = h.seeded(SETTINGS, 25, frozen)
    _still_pictures(again, [30.0], [7.0])  # the same picture, 21 s later, on the new connection
    assert "frozen" in h.evaluate(again, 30.0).reasons, "frozen since the same moment"
    moving = stream()
    for at, seed in ((1.0, 1), (3.0, 2), (5.0, 3)):
        h.observe(moving, Picture(GEN, at, 640, 360, thumb(seed), b"jpg", 100.0 + at), at)
    again = h.seeded(SETTINGS, 25, moving)
    h.observe(again, PacketBatch(GEN, (Packet(30.0, 2500, True, 0.0),)), 30.0)
    h.observe(again, Picture(GEN, 30.0, 640, 360, thumb(3), b"jpg", 0.0), 30.0)  # a looping clip starts over
    assert "frozen" not in h.evaluate(again, 30.0).reasons, "one picture seen again is no still run"


def test_a_still_run_too_short_to_be_frozen_does_not_carry_over():
    # A quiet scene showed the same picture twice before the connection ended (a visit, a live stream sent
    # to patrol); minutes later, on a new connection (gone live again), its first picture matches once more.
    quiet = stream()
    _still_pictures(quiet, [1.0, 3.0, 5.0], [101.0, 103.0, 105.0])
    assert "frozen" not in h.evaluate(quiet, 5.0).reasons
    again = h.seeded(SETTINGS, 25, quiet)
    _still_pictures(again, [300.0], [7.0])
    assert "frozen" not in h.evaluate(again, 300.0).reasons, "one picture seen again says nothing of the minutes between"
    _still_pictures(again, [302.0, 304.0, 306.0, 308.0], [9.0, 11.0, 13.0, 15.0])
    assert "frozen" in h.evaluate(again, 308.0).reasons, "still for the frozen rule's time on this connection: frozen"
