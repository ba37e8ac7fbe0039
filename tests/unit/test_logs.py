"""Logs for people and for Loki/ELK: `--log-format json` writes one JSON object per line, from the hub and
from its ingest worker processes alike, and no credential reaches either format."""

from __future__ import annotations

import json
import logging

from hub.logs import JsonFormatter, TextFormatter

SECRET = "topsecret"
DEAD = f"rtsp://admin:{SECRET}@127.0.0.1:9/live"


def record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("hub.ingest", logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_json_line_is_one_object_with_time_level_logger_and_message_and_no_credentials():
    try:
        raise ConnectionError(f"cannot open {DEAD}")
    except ConnectionError as exc:
        failed = (type(exc), exc, exc.__traceback__)
    line = JsonFormatter(role="worker").format(record("camera %s: %s", "cam-1", DEAD, exc_info=failed))
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "warning" and entry["logger"] == "hub.ingest" and entry["process"] == "worker"
    assert entry["ts"].endswith("Z") and entry["message"] == "camera cam-1: rtsp://***@127.0.0.1:9/live"
    assert "ConnectionError" in entry["exception"] and SECRET not in line


def test_text_lines_are_redacted_too():
    line = TextFormatter().format(record("opening %s", DEAD))
    assert "rtsp://***@127.0.0.1:9/live" in line and SECRET not in line


def test_the_log_handler_follows_standard_error_when_it_is_replaced(capsys):
    import io
    import sys

    from hub import logs

    saved = logging.getLogger().handlers[:], logging.getLogger().level
    try:
        logs.setup(logging.INFO, "json")
        first = sys.stderr
        sys.stderr = io.StringIO()
        first_replaced = sys.stderr
        logging.getLogger("hub.test").info("after the swap")
        assert "after the swap" in first_replaced.getvalue() and first is not first_replaced
    finally:
        sys.stderr = first
        logging.getLogger().handlers[:], _ = saved
        logging.getLogger().setLevel(saved[1])
