"""A record shared between cluster nodes: what `to_json` shows comes back whole through `from_json`
(hub.index), so another node's camera lists, filters and shows as its holder sees it."""

from __future__ import annotations

from hub.index import StreamRecord


def test_a_record_comes_back_from_its_json_as_its_holder_showed_it():
    record = StreamRecord("ps-0001", 'Gate "N"', "public-security", "Site A", ("gate", "north"), (31.7, 117.3), 25.0)
    record.state, record.reasons, record.fps, record.last_frame_at = "degraded", ("frozen", "low_fps"), 12.5, 1_800_000_000.25
    record.position_at, record.node, record.watching, record.frames_total = 1_800_000_001.0, "hub-b", "live", 1234
    record.muted = (("blurred", 1_800_003_600.0, "roadworks", "ops", True),)
    again = StreamRecord.from_json(record.to_json())
    assert again.to_json() == record.to_json()
    assert again.failing_checks == ("frozen", "low_fps") and again.position == (31.7, 117.3) and again.node == "hub-b"


def test_a_record_never_connected_comes_back_empty():
    record = StreamRecord("cam-2", "Quiet", "childcare", "", (), None, None)
    again = StreamRecord.from_json(record.to_json())
    assert again.to_json() == record.to_json() and again.position is None and again.node == ""
