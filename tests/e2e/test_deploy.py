"""The shipped systemd unit, checked by systemd's own `systemd-analyze verify`.

The unit's ExecStart is pointed at this checkout's `hub` (verify insists that the binary exists);
everything else is checked as shipped. Verify exits 0 even on some mistakes and only warns, so any
output at all is a failure here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import REPO as ROOT

pytestmark = pytest.mark.systemd

UNIT = ROOT / "deploy" / "systemd" / "hub.service"
HUB = Path(sys.executable).parent / "hub"


def verify(text: str, folder: Path) -> subprocess.CompletedProcess:
    path = folder / "hub.service"
    path.write_text(text.replace("/opt/hub/bin/hub", str(HUB)))
    return subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=120)


def test_the_unit_verifies_without_a_word(tmp_path):
    done = verify(UNIT.read_text(), tmp_path)
    assert done.returncode == 0 and not done.stdout and not done.stderr, done.stdout + done.stderr


def test_a_unit_with_a_mistake_is_caught(tmp_path):
    done = verify(UNIT.read_text().replace("Restart=on-failure", "Restart=sometimes"), tmp_path)
    assert "restart specifier" in done.stdout + done.stderr


def test_the_cluster_example_verifies_without_a_word(tmp_path):
    """deploy/cluster: the node template (an instance of it, as systemd loads it) and the target."""
    folder = ROOT / "deploy" / "cluster"
    (tmp_path / "hub-node@.service").write_text((folder / "hub-node@.service").read_text().replace("/opt/hub/bin/hub", str(HUB)))
    (tmp_path / "hub-cluster.target").write_text((folder / "hub-cluster.target").read_text())
    for unit in ("hub-node@hub-a.service", "hub-cluster.target"):
        done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / unit)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and not done.stdout and not done.stderr, unit + ": " + done.stdout + done.stderr
