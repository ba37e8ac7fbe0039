"""Sample clips: deterministic, the right size, rate and keyframe spacing, cached outside git."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from hub.sim import clips


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_clips_are_deterministic_and_well_formed(tmp_path, monkeypatch, codec):
    spec = clips.ClipSpec("gate", 320, 180, 25, codec, "Determinism")
    paths = []
    for run in ("a", "b"):
        monkeypatch.setenv("HUB_CACHE_DIR", str(tmp_path / run))
        paths.append(clips.encode_clip(spec))
    data = [open(p, "rb").read() for p in paths]
    assert data[0] == data[1], "the same spec must give the same bytes"
    with av.open(paths[0], format="h264" if codec == "h264" else "hevc") as container:
        frames = list(container.decode(video=0))
    assert len(frames) == clips.CLIP_SECONDS * 25
    assert {(f.width, f.height) for f in frames} == {(320, 180)}
    keyframes = [i for i, f in enumerate(frames) if f.key_frame]
    assert keyframes == list(range(0, len(frames), 50)), "keyframe every 2 s at 25 fps"


def test_loaded_clip_puts_parameter_sets_before_each_keyframe(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_CACHE_DIR", str(tmp_path))
    spec = clips.ClipSpec("street", 320, 180, 25, "h264", "Params")
    clips.encode_clip(spec)
    clip = clips.load_clip(spec)
    assert clip.fps == 25 and len(clip.frames) == 150
    for frame in clip.frames:
        kinds = [p[0] & 0x1F for p in frame.payloads]
        assert (kinds[:2] == [7, 8]) == frame.keyframe
    assert 100_000 < clip.bitrate_bps < 2_000_000


def test_lowfps_variant_runs_at_a_fifth_of_the_rate(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_CACHE_DIR", str(tmp_path))
    spec = clips.ClipSpec("room", 320, 180, 25, "h264", "Slow", clips.LOW_FPS)
    clips.encode_clip(spec)
    clip = clips.load_clip(spec)
    assert clip.fps == 5 and len(clip.frames) == clips.CLIP_SECONDS * 5


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HUB_CACHE_DIR", str(tmp_path / "x"))
    assert clips.cache_dir() == tmp_path / "x"
    monkeypatch.delenv("HUB_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert clips.cache_dir() == tmp_path / "xdg" / "hub" / "clips"


def test_clips_of_fractional_strengths_and_other_labels_never_share_a_file(tmp_path, monkeypatch):
    """A fault's strength holds a dot ("lowcontrast-0.25"): it once read as a file suffix, and every
    fractional strength of every camera played whichever clip was encoded first."""
    monkeypatch.setenv("HUB_CACHE_DIR", str(tmp_path))
    specs = [
        clips.ClipSpec("gate", 64, 36, 5, "h264", label, variant)
        for label in ("Cam a", "Cam b")
        for variant in ("lowcontrast-0.25", "lowcontrast-0.4")
    ]
    paths = {clips.encode_clip(spec) for spec in specs}
    assert len(paths) == 4 and all(path.endswith(".h264") and ("0.25" in path or "0.4" in path) for path in paths)
    assert len({Path(p).read_bytes() for p in paths}) == 4
