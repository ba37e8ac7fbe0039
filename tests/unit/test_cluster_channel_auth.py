"""The internal channel's signatures (hub.cluster.channel_auth): a node's signed request passes; a wrong
secret, another path or method, an old or missing signature do not, and none of them shows the secret."""

from __future__ import annotations

from hub.cluster.channel_auth import SIGNATURE, WINDOW_S, refusal, signed_headers

SECRET = "cluster-secret-for-tests-0001"
PATH = "/internal/live?feed=cam-1"


def test_a_nodes_signed_request_passes_and_carries_no_secret():
    headers = signed_headers(SECRET, "n1", "GET", PATH, 1000.0)
    assert refusal(SECRET, headers, "GET", PATH, 1000.0 + WINDOW_S - 1) is None
    assert all(SECRET not in value for value in headers.values())


def test_anything_else_is_refused_with_a_reason():
    headers = signed_headers(SECRET, "n1", "GET", PATH, 1000.0)
    assert "wrong signature" in refusal("another-secret-of-16-chars", headers, "GET", PATH, 1000.0)
    assert "wrong signature" in refusal(SECRET, headers, "GET", "/internal/live?feed=cam-2", 1000.0)
    assert "wrong signature" in refusal(SECRET, headers, "POST", PATH, 1000.0)
    assert "too old" in refusal(SECRET, headers, "GET", PATH, 1000.0 + WINDOW_S + 1)
    assert "nodes only" in refusal(SECRET, {}, "GET", PATH, 1000.0)
    assert "wrong signature" in refusal(SECRET, headers | {SIGNATURE: "0" * 64}, "GET", PATH, 1000.0)
    assert "no cluster secret" in refusal("", headers, "GET", PATH, 1000.0)
