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
from conftest import sim_for, sim_stream

from hub.config import load_config, parse_config
from hub.onvif.device import DeviceReport, Profile, device_address, read_device
from hub.onvif.entries import Placement, stream_tables, with_credentials
from hub.sim.onvif_device import DEVICE_PATH, MEDIA_PATH, OnvifCamera, OnvifDevice
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


# Pure parts: the device's answers and the entries made of them.


def test_a_hostile_request_gets_a_fault_never_a_crash_or_injected_xml():
    import datetime as dt

    device = OnvifDevice([OnvifCamera("cam", "Cam", "street", 640, 360, 25, "h264", None)], "0.0.0.0", 554)
    now = dt.datetime.now(dt.UTC)
    for body in (b"", b"<not xml", b"<a/>", b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'):
        status, answer = device.answer(DEVICE_PATH, body, "127.0.0.1:80", now)
        assert status == 400 and "Fault" in answer
    status, answer = device.answer(DEVICE_PATH, envelope("<tds:Reboot/>").encode(), "127.0.0.1:80", now)
    assert status == 400 and "ActionNotSupported" in answer
    status, answer = device.answer(DEVICE_PATH, envelope("<tds:GetServices/>").encode(), 'x"><evil/>:80', now)
    assert "<evil/>" not in answer
    status, answer = device.answer(
        MEDIA_PATH,
        envelope("<trt:GetStreamUri><trt:ProfileToken>cam-main</trt:ProfileToken></trt:GetStreamUri>").encode(),
        "10.1.2.3:8080",
        now,
    )
    assert status == 200 and "rtsp://10.1.2.3:554/cam" in answer, "a wildcard listen answers with the address the client used"


def report(*profiles: Profile, host: str = "10.0.0.5") -> DeviceReport:
    return DeviceReport(host, 80, "Hikvision", "DS-7608NI", "SN1", "V4", tuple(profiles))


def profile(token: str, source: str, width: int, uri: str, source_name: str = "") -> Profile:
    return Profile(token, token, source, source_name, width, width * 9 // 16, "H264", uri)


def test_profiles_of_one_source_make_one_stream_main_and_sub():
    tables = stream_tables(
        report(
            profile("p2", "VideoSource_1", 640, "rtsp://10.0.0.5/Streaming/102"),
            profile("p1", "VideoSource_1", 1920, "rtsp://10.0.0.5/Streaming/101"),
            profile("p3", "VideoSource_1", 320, "rtsp://10.0.0.5/Streaming/103"),
        ),
        Placement("public-security", position=(31.0, 121.0)),
        "admin",
        "NVR_PW",
    )
    assert len(tables) == 1
    assert tables[0]["id"] == "onvif-10-0-0-5" and tables[0]["name"] == "Hikvision DS-7608NI"
    assert tables[0]["url"] == "rtsp://admin:${NVR_PW}@10.0.0.5/Streaming/101"
    assert tables[0]["sub_url"] == "rtsp://admin:${NVR_PW}@10.0.0.5/Streaming/103", "the smallest other profile"


def test_an_nvr_gives_one_stream_per_channel_with_ids_from_the_channel():
    tables = stream_tables(
        report(
            *(profile(f"p{n}", f"Channel {n}", 1920, f"rtsp://10.0.0.5/ch{n}", source_name="Camera 01") for n in (1, 2)),
            profile("snap", "Channel 3", 0, "http://10.0.0.5/snap.jpg"),
        ),
        Placement("property", id_prefix="Nvr A", position=(1.0, 2.0)),
        "op",
        "PW",
    )
    assert [t["id"] for t in tables] == ["nvr-a-channel-1", "nvr-a-channel-2"], "non-RTSP profiles are skipped"
    assert [t["name"] for t in tables] == ["Hikvision DS-7608NI 1", "Hikvision DS-7608NI 2"], "same channel names: numbered"
    parse_config(
        "".join(
            f'[[streams]]\nid = "{t["id"]}"\nname = "{t["name"]}"\ncategory = "property"\nposition = [1, 2]\nurl = "{t["url"]}"\n'
            for t in tables
        ),
        "t",
        env={"PW": "x"},
    )


def test_credentials_in_the_devices_uri_are_replaced_and_odd_user_names_quoted():
    assert (
        with_credentials("rtsp://root:old@[fd00::5]:8554/live?ch=1", "ops@site", "PW")
        == "rtsp://ops%40site:${PW}@[fd00::5]:8554/live?ch=1"
    )
    with pytest.raises(ValueError, match="--password-env"):
        device_address("http://admin:pw@10.0.0.5")
