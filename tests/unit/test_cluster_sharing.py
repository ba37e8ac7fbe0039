"""What a holder shares of its records (hub.cluster.sharing): a state change at once, measurements at
most every REFRESH_S, nothing unchanged, and everything again after a camera comes back."""

from __future__ import annotations

from hub.cluster.sharing import REFRESH_S, ShareSchedule
from hub.index import StreamRecord


def record(camera: str = "cam-1") -> StreamRecord:
    r = StreamRecord(camera, "Gate", "public-security", "", (), (31.7, 117.3), 25.0)
    r.state, r.fps, r.node = "online", 25.0, "n1"
    return r


def shared(schedule: ShareSchedule, records, now: float) -> list[str]:
    due = schedule.due(records, now)
    schedule.done(due, now)
    return [camera for camera, _, _ in due]


def test_a_record_is_shared_first_in_full_then_only_when_it_changes():
    schedule, r = ShareSchedule(), record()
    assert shared(schedule, [r], 0.0) == ["cam-1"]
    assert shared(schedule, [r], 100.0) == []  # unchanged: nothing, however long


def test_a_state_change_goes_at_once_and_measurements_at_most_every_refresh():
    schedule, r = ShareSchedule(), record()
    shared(schedule, [r], 0.0)
    r.fps = 24.5
    assert shared(schedule, [r], 1.0) == []  # fps moved: waits for the refresh
    assert shared(schedule, [r], REFRESH_S) == ["cam-1"]
    r.state, r.reasons = "offline", ("unreachable",)
    assert shared(schedule, [r], REFRESH_S + 0.5) == ["cam-1"]


def test_what_is_due_but_not_written_stays_due():
    schedule, r = ShareSchedule(), record()
    assert [c for c, _, _ in schedule.due([r], 0.0)] == ["cam-1"]  # Redis did not answer: no `done`
    assert shared(schedule, [r], 0.5) == ["cam-1"]


def test_a_camera_that_comes_back_is_shared_again_in_full():
    schedule, a, b = ShareSchedule(), record("cam-1"), record("cam-2")
    shared(schedule, [a, b], 0.0)
    schedule.forget({"cam-2"})
    assert shared(schedule, [a, b], 1.0) == ["cam-1"]
