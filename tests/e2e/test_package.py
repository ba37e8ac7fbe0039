"""The hub as ops staff install it: the built wheel in an empty virtualenv, `hub demo` from an empty folder.

The wheel is built from this checkout (`pip wheel`), installed with its dependencies into a new
virtualenv that has nothing else, and run from an empty temporary folder: the UI, the demo config and
the basemap must all come from inside the package. The demo runs on free loopback ports; its clips come
from the shared clip cache (encoded once for the suite), its accounts and state go to a temporary
state folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.browser import hub_page
from support.paths import REPO as ROOT
from support.processes import Command, demo_sign_in, free_port

from hub import __version__
from hub.sim.clips import cache_dir

pytestmark = [pytest.mark.chromium, pytest.mark.timeout(900)]
# Nothing of this checkout or of the test run's own environment may leak into the installed hub.
CLEAN = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A new virtualenv with only the built wheel (and what it depends on) installed."""
    work = tmp_path_factory.mktemp("package")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)],
        check=True,
        timeout=600,
        capture_output=True,
        env=CLEAN,
    )
    (wheel,) = (work / "dist").glob("hub-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True, timeout=120, env=CLEAN)
    subprocess.run(
        [str(work / "venv/bin/python"), "-m", "pip", "install", "-q", "--no-compile", str(wheel)],
        check=True,
        timeout=900,
        capture_output=True,
        env=CLEAN,
    )
    return work / "venv"


def test_the_installed_hub_says_its_version(venv):
    done = subprocess.run([str(venv / "bin/hub"), "--version"], capture_output=True, text=True, timeout=60, check=True, env=CLEAN)
    assert done.stdout.strip() == f"hub {__version__}"


class Demo:
    def __init__(self, port: int):
        self.port = port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def test_hub_demo_from_an_empty_folder_serves_the_page_and_the_streams(venv, tmp_path):
    empty, state = tmp_path / "empty", tmp_path / "state"
    empty.mkdir()
    ports = {"listen": free_port(), "sim-listen": free_port(), "sim-control": free_port()}
    args = [a for name, port in ports.items() for a in (f"--{name}", f"127.0.0.1:{port}")]
    env = {
        "PYTHONPATH": "",
        "XDG_STATE_HOME": str(state),
        "HUB_CACHE_DIR": str(cache_dir()),
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
    }
    demo = Command("demo", *args, env=env, program=[str(venv / "bin/hub")], cwd=empty)
    try:
        demo.wait_for_line("sign in as demo with password", timeout=600)
        password = re.search(r"password (\S+)", demo.text).group(1)
        assert demo_sign_in(ports["listen"], password) == 200
        hub = Demo(ports["listen"])
        async with hub_page(hub, "demo", password) as page:
            await page.wait_for_function(
                "document.querySelectorAll('.leaflet-marker-icon, .marker-cluster').length > 0", timeout=60_000
            )
            streams = await page.evaluate("fetch('/api/streams').then(r => r.json())")
        assert len(streams["streams"]) == 40 and {s["category"] for s in streams["streams"]} == {
            "public-security",
            "property",
            "childcare",
            "vehicle",
        }
        assert not list(empty.iterdir()), "nothing is written into the folder it was started from"
        assert (state / "hub" / "demo.toml").exists(), "the demo's config and accounts live in the state folder"
    finally:
        demo.ctrl_c()
        assert demo.finish() == 0, demo.text
