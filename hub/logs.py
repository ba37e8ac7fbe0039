"""Log output: lines for people (text) or one JSON object per line for Loki or ELK, credentials redacted.

Set up once per process: the hub's main process by the command line (`--log-format`), each ingest
worker process by itself with the format and level the hub hands it. Every message, and every
exception's text, goes through `redact_text` on the way out, whatever the call site already did.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from hub.safe.redact import redact_text

FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s%(role)s: %(message)s"


class TextFormatter(logging.Formatter):
    def __init__(self, role: str = ""):
        super().__init__(TEXT)
        self.role = f"[{role}]" if role else ""

    def format(self, record: logging.LogRecord) -> str:
        record.role = self.role
        return redact_text(super().format(record))


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "message"} (+ "process" for a worker, "exception" with a traceback)."""

    def __init__(self, role: str = ""):
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        if self.role:
            entry["process"] = self.role
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a record is written (a test harness swaps it; a handler
    holding the old one would write to a closed file)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def setup(level: int | str, fmt: str = "text", role: str = "") -> None:
    """Send this process's logs to standard error in `fmt`, replacing any handler set before."""
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter(role) if fmt == "json" else TextFormatter(role))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def current_format() -> str:
    """The format this process logs in (handed to the ingest workers it starts)."""
    return "json" if any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers) else "text"


def announce(message: str, logger: str = "hub") -> None:
    """A line the person (or journal) running the hub always sees, whatever the level: "hub: ..." on
    standard output, or the same as a JSON log object in the JSON format."""
    if current_format() == "json":
        entry = logging.LogRecord(logger, logging.INFO, __file__, 0, message, None, None)
        print(JsonFormatter().format(entry), flush=True)
    else:
        print(f"{logger}: {message}", flush=True)
