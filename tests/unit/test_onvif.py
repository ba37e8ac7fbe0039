"""ONVIF onboarding, end to end on loopback: the simulator answers as an ONVIF device and to unicast
WS-Discovery probes; `hub onvif add` and `hub onvif discover` run as a user runs them.

The client side is the real `onvif-zeep-async` (the same library `hub onvif add` uses), the streams
that onboarding writes are played with PyAV, and the snapshot is fetched over HTTP with its credentials.
"""

from __future__ import annotations

import pytest

from hub.config import parse_config
from hub.onvif.device import DeviceReport, Profile, device_address
from hub.onvif.entries import Placement, stream_tables, with_credentials
from hub.sim.onvif_device import DEVICE_PATH, MEDIA_PATH, OnvifCamera, OnvifDevice
from hub.sim.onvif_soap import envelope


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
