"""Cluster nodes for the end-to-end tests: `hub serve` processes with one Redis and one simulator.

Who runs where: the test's own process starts each node as a subprocess (`support.processes.Command`)
in a folder of its own, where its users, audit trail and layouts sit beside its config.
"""

from __future__ import annotations

from pathlib import Path

from support.hubrun import provision
from support.processes import Command, free_port

SECRET = "cluster-secret-for-tests-0001"


def start_node(folder: Path, name: str, redis_url: str, serving, estate: str) -> Command:
    """A node pulling from the simulator `serving`, with an admin's token made beside its config
    (`node.token`) and its port (`node.port`)."""
    folder.mkdir()
    config = folder / "hub.toml"
    config.write_text(
        f'[sim]\nlisten = "{serving.rtsp}"\ncontrol = "{serving.control}"\n'
        '[monitor]\nmodes = { public-security = "live" }\n[metrics]\npublic = true\n'
        f'[cluster]\nredis = "{redis_url}"\nnode = "{name}"\n' + estate
    )
    token, port = provision(config), free_port()
    env = {"HUB_CLUSTER_SECRET": SECRET}
    node = Command("serve", "--config", str(config), "--listen", f"127.0.0.1:{port}", env=env, cwd=folder)
    node.port, node.token, node.config = port, token, config
    return node


def restart_node(node: Command) -> Command:
    """The same node started again (its folder, config, users and trail as they are), on its port."""
    env = {"HUB_CLUSTER_SECRET": SECRET}
    again = Command("serve", "--config", str(node.config), "--listen", f"127.0.0.1:{node.port}", env=env, cwd=node.config.parent)
    again.port, again.token, again.config = node.port, node.token, node.config
    return again
