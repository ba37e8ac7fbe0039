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


def test_a_cluster_says_which_node_pulls_what_and_what_no_node_pulls():
    def stream(i: int, node: str, state: str = "online") -> dict:
        return {"id": f"cam-{i}", "name": "Gate", "category": "property", "site": "", "state": state, "reasons": [],
                "since": 100.0} | ({"node": node} if node else {})  # fmt: skip

    streams = [stream(1, "n1"), stream(2, "n1"), stream(3, "n2", "offline"), stream(4, "", "connecting")]
    text = render(Estate(streams, [], "http://hub/", 160.0))
    assert "Pulled by: n1 2, n2 1; by no node right now: 1" in text
    assert any("cam-3" in line and "@n2" in line for line in text.splitlines()), text
    single = render(Estate([stream(1, "")], [], "http://hub/", 160.0))
    assert "Pulled by" not in single
