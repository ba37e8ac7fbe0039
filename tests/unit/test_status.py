"""`hub status`: the estate in a terminal, asked of a running hub over its API with a token."""

from __future__ import annotations

from hub.cli.status import Estate, render


def test_control_characters_from_a_name_never_reach_the_terminal():
    stream = {
        "id": "cam-1",
        "name": "Gate\x1b[2J\x07",
        "category": "property",
        "site": "",
        "state": "offline",
        "reasons": ["stalled"],
        "since": 100.0,
    }
    text = render(Estate([stream], [], "http://hub/", 160.0))
    assert "\x1b" not in text and "\x07" not in text and "Gate?[2J?" in text and "for 1m00s" in text
