"""`hub check` and config loading: every bad input gets one clear line naming the stream and field."""

from __future__ import annotations

import subprocess
import sys

from support.estates import config_stream as stream


def test_hub_check_exit_codes_and_output(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(stream(category='"traffic"') + stream(id='"x y"'))
    result = subprocess.run([sys.executable, "-m", "hub", "check", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and all(str(bad) in line for line in lines)
    good = tmp_path / "good.toml"
    good.write_text(stream())
    result = subprocess.run([sys.executable, "-m", "hub", "check", str(good)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "1 streams" in result.stdout
