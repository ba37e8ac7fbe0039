"""No camera password ever leaves the hub: not in an API answer, a page, an event, a metric, a log line or an error."""

from __future__ import annotations

SECRETS = ("s3cret", "topsecret", "wrongpass9", "Zq9xSecret")  # the last follows an "@" in its own password


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} shown in {where}"


def test_no_password_in_what_the_command_line_prints(tmp_path, capsys, caplog):
    """`hub check` (problems name the URL) and `hub export` (the inventory) show URLs redacted, an "@" in a
    password included."""
    from hub.cli import main

    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    camera = '[[streams]]\nid = "cam"\nname = "Cam"\ncategory = "property"\nposition = [31.77, 117.30]\nurl = "{url}"\n'
    good.write_text(camera.format(url="rtsp://admin:Ab@Zq9xSecret@127.0.0.1:9/live"))
    bad.write_text(camera.format(url="ftp://admin:Ab@Zq9xSecret@cam.example/live"))
    assert main(["check", str(good)]) == 0
    assert main(["check", str(bad)]) == 1
    assert main(["export", "--config", str(good), "--out", "-"]) == 0
    out = capsys.readouterr()
    assert "ftp://***@cam.example/live" in out.out + out.err and "rtsp://***@127.0.0.1:9/live" in out.out
    assert_clean(out.out + out.err + caplog.text, "the command line's output")
