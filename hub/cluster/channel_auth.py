"""The nodes' internal channel, authenticated: each request is signed with the cluster's secret.

Pure; used by the node asking (`hub.cluster.remote_feeds`) and the node answering (`hub.web.internal`).
A request carries the asking node's name, the time and an HMAC-SHA256 over both with the method and
the path (query included), keyed by the secret from `[cluster] secret_env`: the secret itself never
travels, a signature is good for `WINDOW_S` either side of the answering node's clock and for that one
request only, and nothing a browser holds (a session, a token) opens these routes.
"""

from __future__ import annotations

import hashlib
import hmac

NODE, TIME, SIGNATURE = "X-Hub-Node", "X-Hub-Time", "X-Hub-Signature"
WINDOW_S = 30.0


def _mac(secret: str, node: str, at: str, method: str, path: str) -> str:
    message = "\n".join((node, at, method.upper(), path)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, node: str, method: str, path: str, now: float) -> dict[str, str]:
    at = f"{now:.3f}"
    return {NODE: node, TIME: at, SIGNATURE: _mac(secret, node, at, method, path)}


def refusal(secret: str, headers, method: str, path: str, now: float) -> str | None:
    """Why the request may not use the internal channel, or None when it is a node's, signed right."""
    if not secret:
        return "this node has no cluster secret"
    node, at, signature = headers.get(NODE), headers.get(TIME), headers.get(SIGNATURE)
    if not node or not at or not signature:
        return "internal route: cluster nodes only"
    try:
        when = float(at)
    except ValueError:
        return "malformed signature time"
    if abs(now - when) > WINDOW_S:
        return "signature too old or from the future (are the nodes' clocks set?)"
    if not hmac.compare_digest(signature, _mac(secret, node, at, method, path)):
        return "wrong signature (is HUB_CLUSTER_SECRET the same on every node?)"
    return None
