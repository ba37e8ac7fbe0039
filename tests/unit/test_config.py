"""`hub check` and config loading: every bad input gets one clear line naming the stream and field."""

from __future__ import annotations

import pytest
from support.estates import config_stream as stream

from hub.cli import main
from hub.cli.demo import DEMO_CONFIG
from hub.config import ConfigError, parse_config

GOOD = """
[[streams]]
id = "ps-0001"
name = "Gate"
category = "public-security"
position = [31.77, 117.30]
url = "rtsp://admin:${CAM_PASS}@10.1.2.3:554/Streaming/Channels/102"
"""


def problems(text: str, env: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "test.toml", env if env is not None else {"CAM_PASS": "hunter2"})
    return caught.value.problems


def test_good_config_loads_with_env_filled_in():
    config = parse_config(GOOD, "test.toml", {"CAM_PASS": "hunter2"})
    (s,) = config.streams
    assert s.url == "rtsp://admin:hunter2@10.1.2.3:554/Streaming/Channels/102"
    assert s.safe_url == "rtsp://***@10.1.2.3:554/Streaming/Channels/102"
    assert "hunter2" not in repr(s)
    assert config.health.stall_after_s == 5 and config.sim.listen.port == 8554 and config.hub.listen.port == 8080


def test_default_streams_toml_is_valid():
    assert main(["check", str(DEMO_CONFIG)]) == 0


@pytest.mark.parametrize(
    "text,expected",
    [
        (stream(colour='"red"'), 'stream "ps-0001": colour: unknown key'),
        ('[hub]\nlisten = "127.0.0.1:8080"\nport = 1\n', "[hub]: port: unknown key"),
        ("[health]\nstall_after = 5\n", "[health]: stall_after: unknown key"),
        ("[extra]\n", "extra: unknown key"),
        (stream(id=None), "streams[1]: id: missing (required)"),
        (stream() + stream(), 'stream "ps-0001": id: duplicate id (streams[1] and streams[2])'),
        (stream(mobile='"yes"'), "mobile: expected true or false, got 'yes'"),
        (stream(id='"PS_0001"'), "id: 'PS_0001' is not valid"),
        (stream(id='"' + "a" * 65 + '"'), "is not valid: use 1 to 64"),
        (stream(category='"traffic"'), "category: 'traffic' is not one of public-security, property, childcare, vehicle"),
        (stream(position="[91.0, 117.3]"), "position: latitude 91 is out of range -90..90"),
        (stream(position="[31.7, 181.0]"), "position: longitude 181 is out of range -180..180"),
        (stream(position="[31.7]"), "position: expected [latitude, longitude]"),
        (stream(position=None), "position: missing (required for every category but vehicle)"),
        (stream(url='"http://10.0.0.1/video.mjpg"'), "url: unsupported URL 'http://10.0.0.1/video.mjpg'"),
        (stream(url='"rtsp://u:${NOT_SET}@10.0.0.1/live"'), "url: environment variable ${NOT_SET} is not set"),
        (stream(transport='"sctp"'), "transport: 'sctp' is not one of tcp, udp"),
        (stream(url='"sim://street"', fault='"explode"'), "fault: 'explode' is not valid"),
        (stream(url='"sim://street"', fault='"freeze@soon"'), "fault: 'freeze@soon' is not valid"),
        (stream(fault='"freeze"'), "fault: faults apply to simulated (sim://) streams only"),
        (stream(url='"sim://beach"'), "url: unknown sim scene 'beach'"),
        (stream(url='"sim://street?size=641x360"'), "sim query size='641x360' is not valid"),
        (stream(url='"sim://street?codec=vp9"'), "sim query codec='vp9' is not valid"),
        (stream(url='"sim://street?bitrate=1"'), "unknown sim query key 'bitrate'"),
        (stream(fps="-1"), "fps: -1 is out of range"),
        (stream(tags='"gate"'), "tags: expected a list of strings"),
        ("[health]\nmin_fps_ratio = 2\n", "[health]: min_fps_ratio: 2 is out of range"),
        ('[sim]\nlisten = "nowhere"\n', '[sim]: listen: expected "HOST:PORT"'),
        ('[hub]\nlisten = "127.0.0.1:8²"\n', '[hub]: listen: expected "HOST:PORT"'),  # isdigit() says yes, int() says no
        (stream(url='"sim://street?fps=２５"'), "sim query fps='２５' is not valid"),
        ('[map]\ntiles = "https://tiles.example/x.png"\n', "[map]: tiles: expected an XYZ URL template"),
        ("streams = 3\n", "streams: expected an array of tables"),
        (stream(mode='"sometimes"'), "mode: 'sometimes' is not one of auto, live, patrol"),
        (
            stream(sub_url='"http://10.0.0.1/sub"'),
            "sub_url: unsupported URL 'http://10.0.0.1/sub': expected one of rtsp://, rtsps://",
        ),
        (stream(url='"sim://street?sub=100x"'), "sim query sub='100x' is not valid"),
        ('[monitor]\nmodes = { traffic = "live" }\n', "[monitor]: modes.traffic: unknown category"),
        ('[monitor]\nmodes = { childcare = "never" }\n', "[monitor]: modes.childcare: 'never' is not one of auto, live, patrol"),
        ('[monitor]\npriority = ["property", "zoo"]\n', "[monitor]: priority: expected a list of distinct categories"),
        ("[monitor]\npatrol_period_s = 1\n", "[monitor]: patrol_period_s: 1 is out of range"),
        ("[monitor]\npatrol_concurrency = 0\n", "[monitor]: patrol_concurrency: 0 is out of range"),
        ("[monitor]\nperiod = 5\n", "[monitor]: period: unknown key"),
        ('[hub]\ningest_processes = "many"\n', '[hub]: ingest_processes: expected "auto" or a whole number'),
        ('[sim]\nclip_labels = "camera"\n', "[sim]: clip_labels: 'camera' is not one of name, scene"),
        (stream(heading="360"), "heading: 360 is out of range: expected degrees clockwise from north"),
        (stream(heading="-5"), "heading: -5 is out of range"),
        (stream(fov="60"), "fov: needs heading"),
        (stream(heading="90", fov="0"), "fov: 0 is out of range"),
    ],
)
def test_each_bad_input_gets_a_clear_line(text, expected):
    found = problems(text)
    assert any(expected in line for line in found), found
    assert all(line.startswith("test.toml: ") for line in found)


def test_where_a_camera_looks():
    (s,) = parse_config(stream(heading="359.5", fov="60")).streams
    assert (s.heading, s.fov) == (359.5, 60)
    (s,) = parse_config(stream()).streams
    assert (s.heading, s.fov) == (None, None)


def test_modes_come_from_the_category_unless_a_stream_says_otherwise():
    config = parse_config(stream() + stream(id='"ps-0002"', mode='"live"') + stream(id='"cc-0001"', category='"childcare"'))
    assert [config.mode_of(s) for s in config.streams] == ["auto", "live", "auto"], "auto unless said otherwise"
    custom = parse_config('[monitor]\nmodes = { childcare = "patrol" }\n' + stream(id='"cc-0001"', category='"childcare"'))
    assert custom.mode_of(custom.streams[0]) == "patrol" and custom.monitor.mode_for("property") == "auto"
    ordered = parse_config('[monitor]\npriority = ["property"]\n')
    assert ordered.monitor.priority == ("property", "public-security", "childcare", "vehicle"), "the rest keep their order"


def test_not_toml_reports_line_and_column():
    (line,) = problems('[[streams]]\nid = "a"\nname = Gate\n')
    assert "not valid TOML" in line and "line 3, column 8" in line


def test_every_problem_is_reported_at_once():
    text = stream(category='"traffic"', transport='"sctp"') + stream(id='"BAD"')
    assert len(problems(text)) == 3


def test_no_password_in_any_problem():
    bad = [
        stream(url='"http://admin:hunter2@10.0.0.1/x"'),
        stream(url='"rtsp://admin:hunter2@"'),
        stream(url='"sim://admin:hunter2@beach"', fault='"nope"'),
        stream(url='"sim://admin:hunter2@street?size=1x1"'),
        stream(url='"rtsp://admin:${CAM_PASS}@10.0.0.1/x"', transport='"x"', fault='"freeze"'),
    ]
    for text in bad:
        found = problems(text)
        assert found and not any("hunter2" in line for line in found), found


def test_missing_file_is_an_error_not_a_traceback(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.toml")]) == 1
    assert "cannot read" in capsys.readouterr().out


def test_vehicle_needs_no_position():
    config = parse_config(stream(category='"vehicle"', position=None), "t.toml", {})
    assert config.streams[0].position is None


def test_sim_url_parts_and_credentials():
    config = parse_config(stream(url='"sim://cam:p%40ss@gate?size=1280x720&fps=15&codec=h265"', fault='"freeze@30s"'), "t", {})
    (s,) = config.streams
    assert (s.sim.scene, s.sim.width, s.sim.height, s.sim.fps, s.sim.codec) == ("gate", 1280, 720, 15, "h265")
    assert (s.sim.username, s.sim.password) == ("cam", "p@ss")
    assert (s.fault.kind, s.fault.after_s) == ("freeze", 30.0)


def test_duplicate_ids_are_listed_with_every_other_problem():
    found = problems(
        stream(category='"traffic"') + stream() + stream(id='"cc-0001"') + stream(id='"cc-0001"', position="[91, 0]")
    )
    assert (
        "test.toml: stream \"ps-0001\": category: 'traffic' is not one of public-security, property, childcare, vehicle" in found
    )
    assert 'test.toml: stream "ps-0001": id: duplicate id (streams[1] and streams[2]): ids must be unique' in found
    assert 'test.toml: stream "cc-0001": position: latitude 91 is out of range -90..90' in found
    assert 'test.toml: stream "cc-0001": id: duplicate id (streams[3] and streams[4]): ids must be unique' in found
    assert len(found) == 4, found


def test_hub_check_warns_on_a_config_without_streams(tmp_path, capsys):
    empty = tmp_path / "empty.toml"
    empty.write_text('[hub]\nlisten = "127.0.0.1:8080"\n')
    assert main(["check", str(empty)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{empty}: warning: no [[streams]]: the hub would watch nothing",
        f"{empty}: OK, 0 streams",
    ]


def test_mobile_cameras_and_vehicles_report_positions_fixed_ones_do_not():
    config = parse_config(
        stream() + stream(id='"ps-0002"', mobile="true") + stream(id='"vh-0001"', category='"vehicle"'), "t", {}
    )
    assert [s.reports_position for s in config.streams] == [False, True, True]
