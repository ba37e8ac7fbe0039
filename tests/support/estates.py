"""The simulator estates tests run on, and a fixture maker for a `hub sim` process serving one.

Who runs where: `sim_for` makes a pytest fixture that starts `hub sim` as a subprocess (its own
process, on free loopback ports) and stops it after the tests of its scope.
"""

from __future__ import annotations

import pytest

from hub.sim.process import SimProcess, start_sim

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


def config_stream(**fields) -> str:
    """A `[[streams]]` table of a good camera, with `fields` (TOML values as text) changed or, when None, left out."""
    base = {
        "id": '"ps-0001"',
        "name": '"Gate"',
        "category": '"public-security"',
        "position": "[31.77, 117.30]",
        "url": '"rtsp://10.0.0.1/live"',
    }
    base.update(fields)
    body = "\n".join(f"{k} = {v}" for k, v in base.items() if v is not None)
    return "[[streams]]\n" + body + "\n"
