"""Run the hub in the test's own event loop against a real simulator, and wait on its state."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import socket
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from yarl import URL

from hub.auth import passwords
from hub.auth.tokens import TokenStore
from hub.auth.users import UserStore, users_db_for
from hub.config import Listen, load_config
from hub.ports import bind_tcp
from hub.web.app import create_app
from hub.web.keys import READ_DOOR
from hub.web.reads.keeper import serve_on
from hub.web.server import CAP, runner_options

TEST_USER, TEST_PASSWORD = "tester", "a-test-password-1"


@functools.cache
def _test_hash() -> str:
    return passwords.hash_password(TEST_PASSWORD)  # Argon2 is slow on purpose: hash once per test run


def provision(config_path: Path, name: str = TEST_USER, role: str = "admin", grants: tuple = ()) -> str:
    """A user `name` (password TEST_PASSWORD) next to the config, and a token with the same rights; returns the token."""
    with UserStore(users_db_for(config_path)) as users:
        if users.get(name) is None:
            users.add(name, role, _test_hash())
            for kind, value in grants:
                users.grant(name, kind, value)
    with TokenStore(users_db_for(config_path)) as tokens:
        return tokens.create(name, role, list(grants), "tests")[1]


class RunningHub:
    """A hub under test; `session` sends an admin's bearer token (`token`), the browser signs in as TEST_USER."""

    def __init__(self, server: ServedApp, session: aiohttp.ClientSession, config_path: Path, token: str):
        self.server = server
        self.session = session
        self.config_path = config_path
        self.app = server.app
        self.token = token
        self.auth = {"Authorization": f"Bearer {token}"}

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def get_json(self, path: str) -> tuple[int, dict]:
        async with self.session.get(self.url(path)) as response:
            return response.status, await response.json()

    async def open_sensitive(self, *stream_ids: str) -> None:
        """Give the reason a sensitive (childcare) stream needs before its pictures or video are shown."""
        for stream_id in stream_ids:
            async with self.session.post(self.url(f"/api/streams/{stream_id}/open"), json={"reason": "hub test suite"}) as reply:
                assert reply.status == 200, await reply.text()

    async def record(self, stream_id: str) -> dict:
        status, body = await self.get_json(f"/api/streams/{stream_id}")
        assert status == 200, body
        return body

    async def wait_for(self, stream_id: str, state: str, reason: str | None = None, timeout: float = 60.0) -> dict:
        """Wait (polling the API) until the stream is in `state` (with `reason` among its reasons)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            record = await self.record(stream_id)
            if record["state"] == state and (reason is None or reason in record["reasons"]):
                return record
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{stream_id} did not reach {state}/{reason} in {timeout} s: {record['state']} {record['reasons']}"
                )
            await asyncio.sleep(0.2)


def origin(hub: RunningHub) -> str:
    return hub.url("/").rstrip("/")


async def sign_in(hub: RunningHub, user: str = TEST_USER, password: str = TEST_PASSWORD, address: str | None = None):
    """A signed-in browser-like client (cookie jar, same-origin Origin; `address` as sent through a trusted
    proxy); returns (session, csrf token, reply status). The caller closes the session."""
    headers = {"Origin": origin(hub), **({"X-Forwarded-For": address} if address else {})}
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)
    async with session.post(hub.url("/api/login"), json={"user": user, "password": password}) as reply:
        body = await reply.json()
        return session, body.get("csrf"), reply.status


async def until(condition, timeout: float, what: str, every: float = 0.2):
    """Poll `condition` (a function, plain or async) every `every` seconds until it returns something
    true, and return that; fail saying `what` did not happen once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(every)


class ServedApp:
    """The app served on a loopback port as `hub serve` serves it: its runner, the connection cap, and the
    read door in front (what the tests call `hub.server`)."""

    def __init__(self, app: web.Application, runner: web.AppRunner, sock: socket.socket):
        self.app, self.runner, self.sock = app, runner, sock
        self.host, self.port = sock.getsockname()[:2]

    def make_url(self, path: str) -> URL:
        return URL(f"http://{self.host}:{self.port}").join(URL(path))

    async def close(self) -> None:
        await self.runner.cleanup()
        self.sock.close()


async def serve(app: web.Application, config) -> ServedApp:
    runner = web.AppRunner(app, access_log=None, **runner_options(config.hub))
    await runner.setup()
    assert runner.server is not None
    app[CAP].install(runner.server)
    sock = bind_tcp(Listen("127.0.0.1", 0), "the hub under test", "another test", None)
    await serve_on(runner, sock, app[READ_DOOR])
    return ServedApp(app, runner, sock)


@contextlib.asynccontextmanager
async def running_hub(config_path: Path):
    config = load_config(config_path)
    token = provision(config_path)
    app = create_app(config, str(config_path))
    server = await serve(app, config)
    session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})
    try:
        yield RunningHub(server, session, config_path, token)
    finally:
        await session.close()
        await server.close()


@contextlib.asynccontextmanager
async def hub_on(sim, folder: Path, estate: str, monitor: str):
    """A hub over `estate` on a running simulator, with the given [monitor] (and [hub]) tables."""
    path = folder / "hub.toml"
    path.write_text(hub_config_text(estate, sim.rtsp, sim.control, monitor=monitor))
    async with running_hub(path) as hub:
        yield hub


ALL_LIVE = '[monitor]\nmodes = { public-security = "live", property = "live", childcare = "live", vehicle = "live" }\n'
# What the patrol tests watch: street and property cameras on patrol, childcare and vehicles live.
PATROL_MODES = 'modes = { public-security = "patrol", property = "patrol", childcare = "live", vehicle = "live" }\n'


def hub_config_text(estate: str, rtsp: str, control: str, extra: str = "", monitor: str = ALL_LIVE) -> str:
    """A hub config over the simulator's estate, pointing sim:// streams at the running simulator.

    Every stream is live unless `monitor` says otherwise: these tests are about live behaviour;
    the patrol tests pass their own [monitor] table."""
    return f'[sim]\nlisten = "{rtsp}"\ncontrol = "{control}"\n{monitor}{extra}\n' + estate
