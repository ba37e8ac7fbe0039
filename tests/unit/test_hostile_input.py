"""Hostile input: each gets a clear error, and the hub keeps serving everyone else.

Path traversal, unknown and malformed ids, oversized and malformed JSON, wrong methods, markup in names,
a WebSocket client that floods or never reads, slow-loris clients, and huge configs."""

from __future__ import annotations

import pytest
from support.estates import sim_stream

from hub.config import ConfigError, load_config


def test_a_50_mb_config_and_one_with_100000_streams_get_one_clear_line(tmp_path):
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"# padding\n" * (5 << 20))
    with pytest.raises(ConfigError) as caught:
        load_config(huge)
    assert "too big" in caught.value.problems[0] and len(caught.value.problems) == 1
    many = tmp_path / "many.toml"
    many.write_text("".join(sim_stream(f"s{i}", "sim://street") for i in range(100_000)))
    with pytest.raises(ConfigError) as caught:
        load_config(many)
    assert "100000 streams" in caught.value.problems[0] and "at most" in caught.value.problems[0]


def test_requests_that_are_not_http_are_logged_as_one_line_not_a_traceback():
    import io
    import logging

    from aiohttp.http_exceptions import LineTooLong

    from hub.web.middleware import QuietProtocolErrors

    logger = logging.getLogger("test.quiet-protocol-errors")
    out = io.StringIO()
    logger.addHandler(logging.StreamHandler(out))
    logger.addFilter(QuietProtocolErrors())
    try:
        raise LineTooLong("a" * 20_000, "8190")
    except LineTooLong:
        logger.exception("Error handling request from %s", "203.0.113.7")  # what aiohttp's server logger does
    assert out.getvalue().count("\n") == 1 and "Traceback" not in out.getvalue()
    assert out.getvalue().startswith("refused a request that is not valid HTTP from 203.0.113.7")
