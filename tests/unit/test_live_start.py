"""A new viewer's video starts from a keyframe at once: the writer dates a first keyframe that came without
timestamps, and the reader's recent GOP gives a live stream's viewer the last keyframe instead of the next."""

from __future__ import annotations

import io

import av
import pytest

from hub.ingest import recent_gop
from hub.ingest.recent_gop import RecentGop
from hub.ingest.remux import FRAGMENT, INIT, FragmentWriter
from hub.sim import clips

TICKS = 48_000  # one frame at 25 fps in the raw clip's time base (1/1,200,000)


@pytest.fixture
def clip(tmp_path, monkeypatch):
    """A real H.264 clip (keyframe every 50 frames), demuxed: the stream and its packets, dated as an RTSP
    client dates them (the raw file has no timestamps)."""
    monkeypatch.setenv("HUB_CACHE_DIR", str(tmp_path))
    path = clips.encode_clip(clips.ClipSpec("street", 320, 180, 25, "h264", "Live start"))
    container = av.open(path, format="h264")
    video = container.streams.video[0]
    packets = list(container.demux(video))[:120]
    for i, packet in enumerate(packets):
        packet.dts = packet.pts = i * TICKS
    yield video, packets
    container.close()


def _played(chunks) -> list:
    assert chunks[0].kind == INIT and all(c.kind == FRAGMENT for c in chunks[1:])
    with av.open(io.BytesIO(b"".join(c.data for c in chunks)), format="mp4") as container:
        return list(container.decode(video=0))


def test_a_first_keyframe_without_timestamps_is_not_lost(clip):
    video, packets = clip
    packets[0].dts = packets[0].pts = None  # what FFmpeg's RTSP demuxer gives a connection's first packet
    writer = FragmentWriter(video)
    chunks = [chunk for packet in packets[:10] for chunk in writer.write(packet)]
    writer.close()
    assert chunks[1].keyframe, "the first fragment is the keyframe: the video starts at once"
    frames = _played(chunks)
    assert frames[0].key_frame and len(frames) == 9  # the last frame's fragment waits for the next packet


def test_a_live_streams_new_viewer_starts_from_the_last_keyframe(clip):
    video, packets = clip
    recent = RecentGop()
    for packet in packets[:70]:  # keyframes at 0 and 50: the viewer arrives 20 frames after the second
        recent.add(packet, packet.is_keyframe, packet.size)
    backlog = recent.take()
    assert backlog == packets[50:70]
    assert recent.take() == [], "taken once: muxing consumes the packets"
    writer = FragmentWriter(video)
    chunks = [chunk for packet in [*backlog, packets[70]] for chunk in writer.write(packet)]
    writer.close()
    frames = _played(chunks)
    assert frames[0].key_frame and len(frames) == 20


def test_a_keyframe_interval_too_big_to_keep_is_dropped(clip, monkeypatch):
    _, packets = clip
    monkeypatch.setattr(recent_gop, "MAX_PACKETS", 10)
    recent = RecentGop()
    for packet in packets[:30]:
        recent.add(packet, packet.is_keyframe, packet.size)
    assert recent.take() == [], "the viewer waits for the next keyframe instead"
    for packet in packets[50:55]:
        recent.add(packet, packet.is_keyframe, packet.size)
    assert len(recent.take()) == 5, "a new keyframe starts keeping again"
