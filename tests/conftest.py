"""Shared fixtures: a real `hub sim` subprocess serving a small test estate."""

from __future__ import annotations

import logging

import pytest
from hubrun import hub_config_text, running_hub

from hub import logs
from hub.sim.process import SimProcess, start_sim


@pytest.fixture(autouse=True)
def _hub_logging_undone():
    """A test that runs `hub.cli.main` in this process sets up the root logger as the hub does (INFO, to
    standard error): undo it, or the background threads of later tests would write to the terminal."""
    level = logging.getLogger().level
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logs.StderrHandler)]:
        root.removeHandler(handler)
    root.setLevel(level)


TEST_CAMERA = "Test camera"


def sim_stream(
    stream_id: str, url: str, fault: str | None = None, category: str = "public-security", name: str = TEST_CAMERA
) -> str:
    lines = [
        "[[streams]]",
        f'id = "{stream_id}"',
        f'name = "{name}"',
        f'category = "{category}"',
        "position = [31.775, 117.303]",
        f'url = "{url}"',
    ]
    if fault:
        lines.append(f'fault = "{fault}"')
    return "\n".join(lines) + "\n"


STREET = "sim://street?size=640x360&fps=25&codec=h264"

SIM_ESTATE = "".join(
    [
        sim_stream("h264-360", STREET),
        sim_stream("h265-360", "sim://street?size=640x360&fps=25&codec=h265"),
        sim_stream("h264-720", "sim://street?size=1280x720&fps=25&codec=h264"),
        sim_stream("h265-720-auth", "sim://viewer:s3cret@street?size=1280x720&fps=25&codec=h265"),
        sim_stream("h264-auth", "sim://viewer:s3cret@street?size=640x360&fps=25&codec=h264"),
        *(sim_stream(f"fault-{kind}", STREET) for kind in ("stall", "drop", "freeze", "black", "lowfps", "auth", "notfound")),
        sim_stream("cfg-black", STREET, fault="black"),
        sim_stream("cfg-late", STREET, fault="freeze@3s"),
    ]
)


def sim_for(estate: str, scope: str = "module"):
    """A fixture: a `hub sim` subprocess serving `estate`, shared by the tests of one module (or the session)."""

    @pytest.fixture(scope=scope)
    def serving(tmp_path_factory) -> SimProcess:
        config = tmp_path_factory.mktemp("sim") / "streams.toml"
        config.write_text(estate)
        process = start_sim(config)
        yield process
        process.stop()

    return serving


sim = sim_for(SIM_ESTATE, scope="session")  # the small test estate most tests share


UNREACHABLE = """
[[streams]]
id = "dead-camera"
name = "Camera with <script>alert(1)</script> in its name"
category = "property"
site = "Nowhere"
position = [31.776, 117.304]
url = "rtsp://admin:topsecret@127.0.0.1:9/live"
tags = ["dead"]
"""


@pytest.fixture
def hub_config(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(SIM_ESTATE + UNREACHABLE, sim.rtsp, sim.control))
    return path


@pytest.fixture
async def hub(hub_config):
    async with running_hub(hub_config) as running:
        yield running
