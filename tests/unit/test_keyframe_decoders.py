"""Keyframe decoders shared by a process's readers: any stream's keyframe, made self-contained by its own
parameter sets, decodes right on a decoder that last decoded another stream; the pool stays bounded."""

from __future__ import annotations

import threading

import av
import numpy as np
import pytest

from hub.ingest.keyframes import KeyframeDecoders, new_decoder, shareable
from hub.sim import clips

START = b"\x00\x00\x00\x01"


def stream_of(scene: str, tmp_path, monkeypatch) -> tuple[bytes, list[bytes]]:
    """A camera as FFmpeg's RTSP demuxer gives it: parameter sets apart (the SDP's, Annex B), and keyframe
    packets that carry only their slices."""
    monkeypatch.setenv("HUB_CACHE_DIR", str(tmp_path))
    path = clips.encode_clip(clips.ClipSpec(scene, 320, 180, 25, "h264", "Shared decoders"))
    with av.open(path, format="h264") as container:
        keyframes = [bytes(p) for p in container.demux(video=0) if p.is_keyframe and p.size]
    units = [[START + u.rstrip(b"\x00") for u in k.split(b"\x00\x00\x01") if u.strip(b"\x00")] for k in keyframes]
    parameter_sets = b"".join(u for u in units[0] if u[4] & 0x1F in (7, 8))
    slices = [b"".join(u for u in k if u[4] & 0x1F not in (7, 8)) for k in units]
    assert parameter_sets and all(slices)
    return parameter_sets, slices


def alone(parameter_sets: bytes, data: bytes) -> np.ndarray:
    ctx = new_decoder("h264")
    frames = ctx.decode(av.Packet(parameter_sets + data)) or ctx.decode(None)
    return frames[-1].to_ndarray()


def test_keyframes_of_two_cameras_decode_right_on_one_shared_decoder(tmp_path, monkeypatch):
    street = stream_of("street", tmp_path, monkeypatch)
    gate = stream_of("gate", tmp_path, monkeypatch)
    assert shareable("h264", street[0]) and not shareable("h264", b"\x01avcC") and not shareable("mjpeg", None)
    decoders = KeyframeDecoders(per_kind=1)
    kind = ("h264", 320, 180)
    for n in range(3):  # street, gate, street, gate...: each keyframe on the decoder that just did the other's
        for parameter_sets, slices in (street, gate):
            frames = decoders.decode(kind, parameter_sets, av.Packet(slices[n]))
            assert len(frames) == 1 and (frames[0].width, frames[0].height) == (320, 180)
            assert np.array_equal(frames[0].to_ndarray(), alone(parameter_sets, slices[n]))
    assert decoders.created == 1
    assert not np.array_equal(alone(*[street[0], street[1][0]]), alone(gate[0], gate[1][0])), "two different pictures"


def test_the_pool_lends_at_most_per_kind_decoders_at_once_and_survives_a_broken_keyframe(tmp_path, monkeypatch):
    parameter_sets, slices = stream_of("street", tmp_path, monkeypatch)
    decoders = KeyframeDecoders(per_kind=2)
    kind = ("h264", 320, 180)
    errors: list[Exception] = []

    def work() -> None:
        try:
            for data in slices * 3:
                assert len(decoders.decode(kind, parameter_sets, av.Packet(data))) == 1
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and decoders.created == 2
    with pytest.raises(av.error.FFmpegError):
        decoders.decode(kind, b"", av.Packet(b"\x00\x00\x01\x65" + b"\xff" * 64))  # a slice with no parameter sets
    assert len(decoders.decode(kind, parameter_sets, av.Packet(slices[0]))) == 1, "the decoder is lent again, and works"
