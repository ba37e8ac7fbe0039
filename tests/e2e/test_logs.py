"""Logs for people and for Loki/ELK: `--log-format json` writes one JSON object per line, from the hub and
from its ingest worker processes alike, and no credential reaches either format."""

from __future__ import annotations

import json

from support.processes import Command, free_port

SECRET = "topsecret"
DEAD = f"rtsp://admin:{SECRET}@127.0.0.1:9/live"


def test_hub_serve_logs_json_lines_from_the_hub_and_its_workers(tmp_path):
    config = tmp_path / "streams.toml"
    config.write_text(
        f'[hub]\nlisten = "127.0.0.1:{free_port()}"\ningest_processes = 2\n'
        '[monitor]\nmodes = {{ property = "live" }}\n'.replace("{{", "{").replace("}}", "}")
        + f'[[streams]]\nid = "dead-camera"\nname = "Dead"\ncategory = "property"\nposition = [31.7, 117.3]\n'
        f'url = "{DEAD}"\n'
    )
    serve = Command("--log-level", "DEBUG", "serve", "--config", str(config), "--log-format", "json")
    try:
        serve.wait_for_line('"process": "worker"', timeout=50)
        serve.wait_for_line("dead-camera", timeout=50)
    finally:
        serve.ctrl_c()
        serve.finish()
    entries = [json.loads(line) for line in serve.lines if line.startswith("{")]
    others = [line for line in serve.lines if line and not line.startswith("{")]
    assert entries and not others, "every line is a JSON object:\n" + "\n".join(others)
    assert {"ts", "level", "logger", "message"} <= set(entries[0])
    assert any(e.get("process") == "worker" for e in entries) and any("process" not in e for e in entries)
    assert SECRET not in serve.text
