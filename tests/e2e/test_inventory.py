"""`hub import` and `hub export`: the estate's camera spreadsheet in and out, as ops staff use them.

The commands run as real subprocesses on files in a temporary folder; the checks are what a person sees:
line numbers for every bad row, a config left untouched unless every row is good, a config that `hub
check` accepts afterwards, and no password in an export.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

HEADER_CN = "编号,名称,类别,小区,纬度,经度,主码流,子码流,标签"
GOOD_CN = [
    "ps-0101,华府路1号,治安,芳星3,31.775,117.303,rtsp://admin:s3cret@10.0.0.1/main,rtsp://admin:s3cret@10.0.0.1/sub,路口；北",
    "cc-0101,Sunflower room 1,托育,Sunflower Kindergarten,31.776,117.304,rtsp://10.0.0.2/live,,sensitive",
    "ve-0101,Patrol car 3,车载,,,,rtsp://10.0.0.3/live,,",
]
CONFIG = (
    '[hub]\nlisten = "127.0.0.1:8080"\n\n[[streams]]\nid = "pr-0001"\nname = "Gate"\ncategory = "property"\n'
    'position = [31.77, 117.3]\nurl = "rtsp://viewer:hunter2@10.0.0.9/live"\n'
)


def hub(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "streams.toml").write_text(CONFIG)
    return tmp_path


@pytest.mark.parametrize("bom", ["\ufeff", ""])
def test_a_chinese_spreadsheet_with_or_without_bom_is_imported_and_the_config_stays_valid(folder, bom):
    (folder / "cameras.csv").write_text(bom + "\n".join([HEADER_CN, *GOOD_CN]) + "\n", encoding="utf-8")
    done = hub("import", "cameras.csv", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "added 3 cameras" in done.stdout
    assert hub("check", "streams.toml", cwd=folder).stdout.strip() == "streams.toml: OK, 4 streams"
    text = (folder / "streams.toml").read_text()
    assert 'category = "public-security"' in text and 'tags = ["路口", "北"]' in text and 'category = "vehicle"' in text
    assert text.startswith(CONFIG), "what was there stays as it was"


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(folder):
    rows = [
        "id,name,category,site,lat,lon,url,sub_url,tags",
        "ps-0201,Good one,public-security,Fangxing-3,31.7,117.3,rtsp://10.0.0.1/a,,",
        "Bad Id,Bad,public-security,,31.7,117.3,rtsp://10.0.0.1/b,,",
        "ps-0203,No url,public-security,,31.7,117.3,,,",
        "ps-0204,Bad place,public-security,,north,117.3,rtsp://10.0.0.1/c,,",
        "ps-0205,Wrong kind,police,,31.7,117.3,rtsp://10.0.0.1/d,,",
        "pr-0001,Taken,property,,31.7,117.3,rtsp://10.0.0.1/e,,",
        "ps-0201,Twice,public-security,,31.7,117.3,rtsp://10.0.0.1/f,,",
        "ps-0208,Bad url,public-security,,31.7,117.3,http://admin:pw@10.0.0.1/g,,",
    ]
    (folder / "cameras.csv").write_text("\n".join(rows) + "\n")
    done = hub("import", "cameras.csv", cwd=folder)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    for number, words in [
        (3, "id: 'Bad Id' is not valid"),
        (4, "url: missing"),
        (5, "lat and lon must be numbers"),
        (6, "category: 'police'"),
        (7, "id 'pr-0001' is already in the config"),
        (8, "already in line 2"),
        (9, "unsupported URL 'http://***@10.0.0.1/g'"),
    ]:
        assert any(line.startswith(f"cameras.csv:{number}:") and words in line for line in lines), (number, done.stderr)
    assert "pw@" not in done.stderr
    assert "nothing was added" in done.stderr
    assert (folder / "streams.toml").read_text() == CONFIG


def test_skip_bad_adds_the_good_rows_and_still_reports_the_bad(folder):
    rows = [
        "id,name,category,lat,lon,url",
        "ps-0301,Good,public-security,31.7,117.3,rtsp://10.0.0.1/a",
        "ps-0302,Bad,nope,31.7,117.3,rtsp://10.0.0.1/b",
    ]
    (folder / "cameras.csv").write_text("\n".join(rows) + "\n")
    done = hub("import", "cameras.csv", "--skip-bad", cwd=folder)
    assert done.returncode == 0 and "cameras.csv:3:" in done.stderr and "added 1 camera to" in done.stdout
    assert "(1 bad rows skipped)" in done.stdout
    assert hub("check", "streams.toml", cwd=folder).stdout.strip() == "streams.toml: OK, 2 streams"


@pytest.mark.parametrize(
    "content, words",
    [
        ("", "empty file"),
        ("id,name,colour\n", "unknown column 'colour'"),
        ("id,name,category\n", "missing column url"),
    ],
)
def test_a_file_that_is_not_an_inventory_is_refused(folder, content, words):
    (folder / "cameras.csv").write_text(content)
    done = hub("import", "cameras.csv", cwd=folder)
    assert done.returncode == 1 and words in done.stderr


def test_export_writes_the_same_columns_without_credentials_and_reimports(folder, tmp_path):
    (folder / "cameras.csv").write_text("\ufeff" + "\n".join([HEADER_CN, *GOOD_CN]) + "\n", encoding="utf-8")
    assert hub("import", "cameras.csv", cwd=folder).returncode == 0
    done = hub("export", cwd=folder)
    assert done.returncode == 0
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["id"] for r in rows] == ["pr-0001", "ps-0101", "cc-0101", "ve-0101"]
    assert rows[1]["url"] == "rtsp://***@10.0.0.1/main" and rows[1]["sub_url"] == "rtsp://***@10.0.0.1/sub"
    assert rows[1]["tags"] == "路口;北" and rows[1]["category"] == "public-security" and rows[3]["lat"] == ""
    assert "s3cret" not in done.stdout and "hunter2" not in done.stdout
    other = tmp_path / "other"
    other.mkdir()
    (other / "streams.toml").write_text("")
    (other / "cameras.csv").write_text(done.stdout)
    assert hub("import", "cameras.csv", cwd=other).returncode == 0, "an export reads back in"
