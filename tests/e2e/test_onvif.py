"""ONVIF onboarding, end to end on loopback: the simulator answers as an ONVIF device and to unicast
WS-Discovery probes; `hub onvif add` and `hub onvif discover` run as a user runs them.

The client side is the real `onvif-zeep-async` (the same library `hub onvif add` uses), the streams
that onboarding writes are played with PyAV, and the snapshot is fetched over HTTP with its credentials.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import av
import pytest
from support.estates import sim_for, sim_stream

from hub.config import load_config
from hub.onvif.device import DeviceReport, Profile, device_address, read_device
from hub.sim.onvif_device import DEVICE_PATH, MEDIA_PATH
from hub.sim.onvif_soap import envelope

PASSWORD = "s3cret"
ESTATE = sim_stream(
    "gate-1", f"sim://admin:{PASSWORD}@gate?size=640x360&fps=10&sub=320x180", category="property", name="Gate 1"
) + sim_stream("lobby-2", "sim://office?size=320x180&fps=10", category="property", name="Lobby <2>")
onvif_sim = sim_for(ESTATE)
HUB = [sys.executable, "-m", "hub"]


def hub_command(*args: str, password: str = PASSWORD, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, CAM_PW=password)
    return subprocess.run([*HUB, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def first_packet(url: str) -> bool:
    with av.open(url, options={"rtsp_transport": "tcp", "timeout": "10000000"}, timeout=10) as container:
        return any(packet.size for packet, _ in zip(container.demux(video=0), range(50), strict=False))


async def test_the_simulator_answers_the_onvif_library_as_a_device_with_a_profile_per_stream(onvif_sim):
    host, port = device_address(onvif_sim.control)
    report = await read_device(host, port, "admin", PASSWORD)
    assert (report.manufacturer, report.model) == ("hub", "camera simulator")
    profiles = {p.token: p for p in report.profiles}
    assert set(profiles) == {"gate-1-main", "gate-1-sub", "lobby-2-main"}
    assert (profiles["gate-1-main"].width, profiles["gate-1-sub"].width) == (640, 320)
    assert profiles["gate-1-sub"].source == profiles["gate-1-main"].source == "gate-1"
    assert profiles["lobby-2-main"].source_name == "Lobby <2>", "names travel escaped and come back whole"
    assert profiles["gate-1-sub"].stream_uri == f"rtsp://{onvif_sim.rtsp}/gate-1/sub"


async def test_a_token_for_no_camera_is_refused_and_without_one_only_open_cameras_show(onvif_sim):
    from hub.onvif.device import DeviceError

    host, port = device_address(onvif_sim.control)
    with pytest.raises(DeviceError, match="refused user 'admin': wrong user name or password"):
        await read_device(host, port, "admin", "guess-1234")
    body = envelope("<trt:GetProfiles/>").encode()
    request = urllib.request.Request(
        f"http://{onvif_sim.control}{MEDIA_PATH}", data=body, headers={"Content-Type": "application/soap+xml"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        await asyncio.to_thread(urllib.request.urlopen, request, timeout=10)
    assert refused.value.code == 400 and b"NotAuthorized" in refused.value.read()


def test_snapshot_uri_gives_a_jpeg_behind_the_cameras_credentials(onvif_sim):
    url = f"http://{onvif_sim.control}/onvif/snapshot/gate-1"
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(url, timeout=10)
    assert anonymous.value.code == 401
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, "admin", PASSWORD)
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
    with opener.open(url, timeout=10) as response:
        picture = response.read()
    assert response.headers["Content-Type"] == "image/jpeg" and picture[:2] == b"\xff\xd8"


def test_onvif_add_writes_valid_entries_that_play_and_keeps_the_password_out_of_the_config(onvif_sim, tmp_path):
    config = tmp_path / "streams.toml"
    config.write_text("# the estate\n" + sim_stream("existing", "rtsp://127.0.0.1:9/x"))
    done = hub_command(
        "onvif",
        "add",
        f"http://{onvif_sim.control}",
        "--user",
        "admin",
        "--password-env",
        "CAM_PW",
        "--category",
        "property",
        "--site",
        "Fangxing-3",
        "--position",
        "31.2,121.4",
        "--config",
        str(config),
    )
    assert done.returncode == 0, done.stderr
    assert "added 2 cameras" in done.stdout
    text = config.read_text()
    assert text.startswith("# the estate\n") and PASSWORD not in text and "${CAM_PW}" in text
    loaded = load_config(config, env={"CAM_PW": PASSWORD})
    gate = loaded.stream("onvif-127-0-0-1-gate-1")
    assert gate is not None and gate.name == "Gate 1" and gate.site == "Fangxing-3" and gate.model == "hub camera simulator"
    assert gate.sub_url.endswith("/gate-1/sub") and gate.position == (31.2, 121.4)
    assert first_packet(gate.url) and first_packet(gate.sub_url), "the entries play with the credentials from the environment"
    again = hub_command(
        "onvif",
        "add",
        f"http://{onvif_sim.control}",
        "--user",
        "admin",
        "--password-env",
        "CAM_PW",
        "--category",
        "property",
        "--position",
        "31.2,121.4",
        "--config",
        str(config),
    )
    assert again.returncode == 1 and "already in" in again.stderr and config.read_text() == text


def test_onvif_add_says_what_is_wrong_and_writes_nothing(onvif_sim, tmp_path):
    config = tmp_path / "streams.toml"
    config.write_text(sim_stream("existing", "rtsp://127.0.0.1:9/x"))
    before = config.read_text()
    base = ["onvif", "add", f"http://{onvif_sim.control}", "--user", "admin", "--password-env", "CAM_PW", "--config", str(config)]
    wrong = hub_command(*base, "--category", "property", "--position", "1,2", password="nope")
    assert wrong.returncode == 1 and "wrong user name or password" in wrong.stderr and "nope" not in wrong.stderr
    nowhere = hub_command(*base, "--category", "property")
    assert nowhere.returncode == 1 and "position" in nowhere.stderr
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
    missing = hub_command(
        "onvif",
        "add",
        f"http://127.0.0.1:{dead}",
        "--user",
        "admin",
        "--password-env",
        "CAM_PW",
        "--category",
        "vehicle",
        "--config",
        str(config),
    )
    assert missing.returncode == 1 and f"127.0.0.1:{dead}" in missing.stderr
    assert config.read_text() == before


def test_onvif_discover_finds_the_simulator_by_unicast_probe(onvif_sim):
    found = hub_command("onvif", "discover", "--probe", onvif_sim.control, "--timeout", "2")
    assert found.returncode == 0, found.stderr
    assert f"http://{onvif_sim.control}{DEVICE_PATH}" in found.stdout and "hub-sim" in found.stdout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))  # holds the port, answers nothing
        nobody = hub_command("onvif", "discover", "--probe", f"127.0.0.1:{quiet.getsockname()[1]}", "--timeout", "1")
    assert nobody.returncode == 1 and "no ONVIF device answered" in nobody.stderr


def report(*profiles: Profile, host: str = "10.0.0.5") -> DeviceReport:
    return DeviceReport(host, 80, "Hikvision", "DS-7608NI", "SN1", "V4", tuple(profiles))
