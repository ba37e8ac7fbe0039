"""Shared fixtures: a real `hub sim` subprocess serving a small test estate."""

from __future__ import annotations

import logging

import pytest
from support.estates import SIM_ESTATE, UNREACHABLE, sim_for
from support.hubrun import hub_config_text, running_hub
from support.redis_server import RedisServer

from hub import logs


@pytest.fixture(autouse=True)
def _hub_logging_undone():
    """A test that runs `hub.cli.main` in this process sets up the root logger as the hub does (INFO, to
    standard error): undo it, or the background threads of later tests would write to the terminal."""
    level = logging.getLogger().level
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logs.StderrHandler)]:
        root.removeHandler(handler)
    root.setLevel(level)


sim = sim_for(SIM_ESTATE, scope="session")  # the small test estate most tests share


@pytest.fixture
def hub_config(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(SIM_ESTATE + UNREACHABLE, sim.rtsp, sim.control))
    return path


@pytest.fixture
async def hub(hub_config):
    async with running_hub(hub_config) as running:
        yield running


@pytest.fixture
def redis_server(tmp_path):
    """Debian's `redis-server` on a free loopback port, killed at the end (the cluster's tests)."""
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()
