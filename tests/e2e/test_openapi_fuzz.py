"""Property-based requests generated from /api/openapi.json (schemathesis): none gets a 500 or a traceback."""

from __future__ import annotations

import asyncio
import threading

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from support.hubrun import provision

from hub.config import load_config
from hub.web.app import create_app
from hub.web.openapi import describe

# The event stream and the WebSocket never end by design: they have their own tests.
schema = schemathesis.openapi.from_dict(describe()).exclude(path_regex=r"^/api/(events|live)$")
CONFIG = "".join(
    f'[[streams]]\nid = "{sid}"\nname = "Camera <b>{sid}</b>"\ncategory = "{category}"\nsite = "S"\nposition = [31.77, 117.30]\n'
    f'url = "rtsp://u:topsecret@127.0.0.1:9/{sid}"\n'
    for sid, category in (("ps-1", "public-security"), ("cc-1", "childcare"), ("veh-1", "vehicle"))
)


@pytest.fixture(scope="module")
def served_hub(tmp_path_factory):
    """A hub on its own event loop in a thread (schemathesis calls it synchronously, with requests)."""
    path = tmp_path_factory.mktemp("fuzz") / "hub.toml"
    path.write_text(CONFIG)
    token = provision(path)
    loop = asyncio.new_event_loop()
    ready, stop = threading.Event(), asyncio.Event()
    state: dict = {}

    async def serve() -> None:
        runner = web.AppRunner(create_app(load_config(path), str(path)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["url"] = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        ready.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(60), "the hub did not start"
    yield state["url"], token, path
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)


def test_no_generated_request_gets_a_500_or_a_traceback(served_hub):
    """Every operation of the description, 30 generated requests each, in one test (one report: schemathesis'
    own parametrisation reports each operation under one test id, which confuses pytest's progress)."""
    url, token, _ = served_hub
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_500(case) -> None:
            _check(case.call(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30), case)

        no_500()
    assert len(operations) >= 20, "every API route is fuzzed"


def _check(response, case) -> None:
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])
    assert "Traceback" not in response.text and "topsecret" not in response.text
    if response.status_code >= 400 and not response.text.startswith("400, message:"):
        # (a request that is not valid HTTP, say an empty Content-Length, is refused by aiohttp's parser
        # before any handler runs, with its own plain-text 400: tests/e2e/test_hostile_input.py)
        assert response.json()["error"], "errors are JSON with a message"


def test_the_description_is_served_and_names_every_api_route(served_hub):
    url, _, path = served_hub
    document = requests.get(f"{url}/api/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.") and "/api/streams/{id}/snapshot.jpg" in document["paths"]
    app = create_app(load_config(path), str(path))
    routes = {r.resource.canonical for r in app.router.routes() if r.resource.canonical.startswith("/api/")}
    assert routes <= set(document["paths"]), routes - set(document["paths"])
