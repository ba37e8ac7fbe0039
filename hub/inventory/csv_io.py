"""The camera inventory as a spreadsheet: `hub import cameras.csv` and `hub export`.

Pure apart from reading and writing the files the command names. Columns: id, name, category, site,
lat, lon, url, sub_url, tags (Chinese headers too; UTF-8 with or without a byte-order mark). Each row
becomes a `[[streams]]` table and is validated by the config's own parser, so a row is good exactly when
the same stream would be good in `streams.toml`; every problem names the CSV line. Nothing is written
unless every row is good (or the caller skips the bad ones). Export writes the same columns, with
credentials in URLs redacted.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import tomli_w

from hub.config import Config, ConfigError, parse_config
from hub.safe.numbers import ascii_float
from hub.safe.redact import redact_url

COLUMNS = ("id", "name", "category", "site", "lat", "lon", "url", "sub_url", "tags")
REQUIRED = ("id", "name", "category", "url")  # columns a file must have (a vehicle's cells may leave lat and lon empty)
HEADERS = {  # what estates' spreadsheets call the columns
    "id": ("id", "编号", "设备编号", "摄像机编号", "点位编号"),
    "name": ("name", "名称", "设备名称", "点位名称", "摄像机名称"),
    "category": ("category", "类别", "类型", "分类"),
    "site": ("site", "站点", "小区", "场所", "位置"),
    "lat": ("lat", "latitude", "纬度"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "url": ("url", "地址", "主码流", "主码流地址", "取流地址"),
    "sub_url": ("sub_url", "子码流", "子码流地址"),
    "tags": ("tags", "标签"),
}
CATEGORIES = {
    "治安": "public-security",
    "公安": "public-security",
    "社会治安": "public-security",
    "物业": "property",
    "住宅": "property",
    "小区": "property",
    "托育": "childcare",
    "幼儿园": "childcare",
    "车载": "vehicle",
}
TAG_SEPARATORS = (";", "；", ",", "，", "|")


@dataclass(frozen=True)
class Row:
    line: int  # in the CSV file, counting the header as line 1
    table: dict  # the [[streams]] table this row becomes


@dataclass(frozen=True)
class Imported:
    good: list[Row]
    problems: list[str]  # one line each: "cameras.csv:7: ..."
    bad_rows: int = 0


def read_rows(text: str, source: str, existing: Config | None = None) -> Imported:
    """Every row of a CSV inventory, checked: its own fields, ids repeated in the file or already configured."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return Imported([], [f"{source}: empty file: expected a header row ({', '.join(COLUMNS)})"])
    columns, problems = _columns(header, source)
    if problems:
        return Imported([], problems)
    taken = {s.id: "the config" for s in existing.streams} if existing else {}
    good: list[Row] = []
    bad_rows = 0
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line
        row, row_problems = _row(cells, columns, number, source)
        stream_id = cells[columns["id"]].strip() if columns["id"] < len(cells) else ""
        if stream_id in taken:
            row_problems.append(f"{source}:{number}: id {stream_id!r} is already in {taken[stream_id]}")
        elif stream_id:
            taken[stream_id] = f"line {number}"
        if row_problems:
            problems += row_problems
            bad_rows += 1
        elif row is not None:
            good.append(row)
    return Imported(good, problems, bad_rows)


def _columns(header: list[str], source: str) -> tuple[dict[str, int], list[str]]:
    names = {alias.lower(): column for column, aliases in HEADERS.items() for alias in aliases}
    columns: dict[str, int] = {}
    problems = []
    for index, cell in enumerate(header):
        column = names.get(cell.strip().lower())
        if column is None:
            problems.append(f"{source}:1: unknown column {cell.strip()!r} (columns: {', '.join(COLUMNS)})")
        elif column in columns:
            problems.append(f"{source}:1: column {column!r} appears twice")
        else:
            columns[column] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        problems.append(f"{source}:1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if ("lat" in columns) != ("lon" in columns):
        problems.append(f"{source}:1: lat and lon come together")
    return columns, problems


def _row(cells: list[str], columns: dict[str, int], number: int, source: str) -> tuple[Row | None, list[str]]:
    where = f"{source}:{number}"
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        return None, [f"{where}: {len(cells)} cells, the header has {len(columns)} columns"]
    value = {c: (cells[i].strip() if i < len(cells) else "") for c, i in columns.items()}
    table: dict = {"id": value["id"], "name": value["name"], "category": CATEGORIES.get(value["category"], value["category"])}
    table = {k: v for k, v in table.items() if v}  # an empty one is reported by the config parser as missing
    if value.get("url"):
        table["url"] = value["url"]
    if value.get("site"):
        table["site"] = value["site"]
    problems = []
    if value.get("lat") or value.get("lon"):
        lat, lon = ascii_float(value["lat"]), ascii_float(value["lon"])
        if lat is not None and lon is not None:
            table["position"] = [lat, lon]
        else:
            problems.append(f"{where}: lat and lon must be numbers (got {value['lat']!r}, {value['lon']!r})")
    if value.get("sub_url"):
        table["sub_url"] = value["sub_url"]
    if value.get("tags"):
        table["tags"] = _tags(value["tags"])
    try:
        parse_config(tables_toml([table]), where)
    except ConfigError as exc:
        problems += exc.problems  # each starts with "cameras.csv:7:"
    return (None if problems else Row(number, table)), problems


def _tags(cell: str) -> list[str]:
    for separator in TAG_SEPARATORS[1:]:
        cell = cell.replace(separator, TAG_SEPARATORS[0])
    return [t.strip() for t in cell.split(TAG_SEPARATORS[0]) if t.strip()]


def streams_toml(rows: list[Row]) -> str:
    """The rows as `[[streams]]` tables, to append to a config."""
    return tables_toml([r.table for r in rows])


def tables_toml(tables: list[dict]) -> str:
    """`[[streams]]` tables as a person would write them: one key a line, short arrays on one line
    (tomli-w escapes the values)."""
    blocks = []
    for table in tables:
        lines = ["[[streams]]"] + [f"{key} = {_value(value)}" for key, value in table.items()]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def export_csv(config: Config) -> str:
    """Every configured stream as an inventory row; URLs without their credentials."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for s in config.streams:
        lat, lon = s.position if s.position is not None else ("", "")
        writer.writerow([s.id, s.name, s.category, s.site, lat, lon, redact_url(s.url), redact_url(s.sub_url), ";".join(s.tags)])
    return out.getvalue()
