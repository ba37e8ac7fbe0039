"""Every shell command in README.md and docs/*.md, run against a real `hub demo` on loopback: a wrong
command in the docs fails here.

The demo runs as a subprocess with its own home folder, on free ports; each `sh` block runs in bash
(`set -euo pipefail`) with the demo's ports and this checkout's `.venv/bin/` put in for the defaults,
in a folder holding a copy of the top-level `streams.toml`; `curl` fails on an HTTP error. A block
that cannot run in a test says why in a comment right above it (`<!-- untested: why -->`); one without a reason fails here too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.paths import REPO
from support.processes import Command, free_port

from hub.sim.clips import cache_dir

FENCE = re.compile(r"(?:^[ \t]*<!-- untested: (?P<why>[^>]*)-->\n)?^[ \t]*```sh\n(?P<body>.*?)^[ \t]*```", re.M | re.S)
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def blocks() -> list[tuple[str, int, str | None, str]]:
    """(page, line, why it is not run or None, the block's text) of every `sh` block of the docs."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in FENCE.finditer(text):
            body = textwrap.dedent(match.group("body"))
            found.append((page.name, text[: match.start()].count("\n") + 1, match.group("why"), body))
    return found


def test_every_block_the_docs_do_not_run_says_why():
    untested = [(page, line, why) for page, line, why, _ in blocks() if why is not None]
    assert all(why.strip() for _, _, why in untested), untested
    assert len(blocks()) - len(untested) >= 5, "most of the docs' commands are run"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`hub demo` on free ports, its state in a home folder of its own (its clips shared by scene, so a fresh
    machine encodes a few, not forty)."""
    home = tmp_path_factory.mktemp("home")
    state = home / ".local" / "state" / "hub"
    state.mkdir(parents=True)
    demo_config = (REPO / "hub" / "demo" / "streams.toml").read_text()
    state.joinpath("demo.toml").write_text(demo_config.replace("[sim]\n", '[sim]\nclip_labels = "scene"\n', 1))
    ports = {"hub": free_port(), "rtsp": free_port(), "control": free_port()}
    env = {"HOME": str(home), "HUB_CACHE_DIR": str(cache_dir()), "XDG_STATE_HOME": "", "XDG_CACHE_HOME": ""}
    command = Command(
        "demo", "--config", str(state / "demo.toml"), "--listen", f"127.0.0.1:{ports['hub']}",
        "--sim-listen", f"127.0.0.1:{ports['rtsp']}", "--sim-control", f"127.0.0.1:{ports['control']}", env=env,
    )  # fmt: skip
    try:
        command.wait_for_line("UI and API on", timeout=240)
        command.wait_for_line("connecting -> online", timeout=120)
        yield home, ports, env
    finally:
        command.ctrl_c()
        command.finish(30)


def _runnable(text: str, ports: dict[str, int]) -> str:
    bin_dir = str(Path(sys.executable).parent) + "/"
    text = text.replace(".venv/bin/", bin_dir)
    text = re.sub(r"(?m)^(\s*)curl ", r"\1curl --fail-with-body ", text)  # an HTTP error fails, as a reader would see it
    for default, port in (("8080", ports["hub"]), ("8554", ports["rtsp"]), ("8555", ports["control"])):
        text = re.sub(rf"\b(localhost|127\.0\.0\.1):{default}\b", rf"\g<1>:{port}", text)
    return text


@pytest.mark.parametrize("page, line, why, body", blocks(), ids=lambda v: v if isinstance(v, str) and v.endswith(".md") else None)
def test_a_documented_command_runs(demo, tmp_path, page, line, why, body):
    if why is not None:
        pytest.skip(f"untested: {why.strip()}")
    home, ports, env = demo
    shutil.copy(REPO / "streams.toml", tmp_path / "streams.toml")
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + _runnable(body, ports)],
        cwd=tmp_path, env={**os.environ, **env, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"{page}:{line} failed:\n{body}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
