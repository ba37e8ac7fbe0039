"""`[cluster]`: several hub nodes sharing one estate through Redis. No table (or an empty `redis`) is
a single node, exactly as without clustering: embedded, no Redis.

Pure parsing, like `hub.config`, which calls it; every problem is collected by the shared `Checker`,
one line each. The node-to-node secret is read from the environment variable `secret_env` names
(never from the file, never shown: it is left out of the settings' repr).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.config.checks import Checker, check_keys
from hub.safe.redact import redact_url

NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SCHEMES = ("redis://", "rediss://", "unix://")
ADDRESS = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):[0-9]{1,5}")
MIN_SECRET = 16  # characters


@dataclass(frozen=True)
class ClusterSettings:
    redis: str = ""  # redis://host:port/db; empty: a single node
    node: str = ""  # this node's name (default: the host name)
    secret_env: str = "HUB_CLUSTER_SECRET"
    secret: str = field(default="", repr=False)  # from the environment: authenticates the internal channel
    advertise: str = ""  # host:port the other nodes reach this one at (default: where it serves; `advertised`)

    @property
    def enabled(self) -> bool:
        return bool(self.redis)


def cluster(table: dict, check: Checker, env: Mapping[str, str]) -> ClusterSettings:
    check_keys(check, "", table, {"redis", "node", "secret_env", "advertise"})
    url = check.string(table, "redis", "")
    node = check.string(table, "node", "") or _host_name()
    secret_env = check.string(table, "secret_env", ClusterSettings.secret_env)
    if not url:
        return ClusterSettings(node=node, secret_env=secret_env)
    if not url.startswith(SCHEMES):
        check.add("redis", f"{redact_url(url)}: expected a redis://, rediss:// or unix:// address")
    if not NODE_NAME.fullmatch(node):
        check.add("node", f"{node!r}: a node name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    secret = env.get(secret_env, "")
    if len(secret) < MIN_SECRET:
        check.add(
            "secret_env",
            f"the environment variable {secret_env} must hold the cluster's node-to-node secret "
            f"(at least {MIN_SECRET} characters, the same on every node)",
        )
    advertise = check.string(table, "advertise", "")
    if advertise and not ADDRESS.fullmatch(advertise):
        check.add("advertise", f"{advertise!r}: expected host:port, the address the other nodes reach this node at")
    return ClusterSettings(url, node, secret_env, secret, advertise)


def advertised(settings: ClusterSettings, host: str, port: int) -> str:
    """Where the other nodes reach this one: `advertise`, else the address it serves on (its host name
    when it listens on every interface)."""
    if settings.advertise:
        return settings.advertise
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _host_name() -> str:
    name = socket.gethostname().split(".")[0]
    return name if NODE_NAME.fullmatch(name) else "node"
