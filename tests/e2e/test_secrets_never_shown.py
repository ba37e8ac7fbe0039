"""No camera password ever leaves the hub: not in an API answer, a page, an event, a metric, a log line or an error."""

from __future__ import annotations

import asyncio
import json
import logging

from support.estates import sim_for
from support.hubrun import hub_config_text, running_hub

SECRETS = ("s3cret", "topsecret", "wrongpass9", "Zq9xSecret")  # the last follows an "@" in its own password
ESTATE = (
    '[[streams]]\nid = "locked"\nname = "Locked camera"\ncategory = "property"\nsite = "South"\nposition = [31.77, 117.30]\n'
    'url = "sim://viewer:s3cret@street?size=640x360&fps=25&codec=h264"\n'
)


def extra_streams(sim) -> str:
    dead = (
        '[[streams]]\nid = "dead"\nname = "Dead camera"\ncategory = "property"\nposition = [31.77, 117.30]\n'
        'url = "rtsp://admin:topsecret@127.0.0.1:9/live"\n'
    )
    at_sign = (
        '[[streams]]\nid = "at-sign"\nname = "Password with an at sign"\ncategory = "property"\nposition = [31.77, 117.30]\n'
        'url = "rtsp://admin:Ab@Zq9xSecret@127.0.0.1:9/live"\n'
    )
    wrong = (
        '[[streams]]\nid = "wrong-password"\nname = "Wrong password"\ncategory = "childcare"\nposition = [31.77, 117.30]\n'
        f'url = "rtsp://viewer:wrongpass9@{sim.rtsp}/locked"\n'
    )
    return dead + at_sign + wrong


sim = sim_for(ESTATE)


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} shown in {where}"


async def test_no_password_in_answers_pages_events_metrics_logs_or_errors(sim, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(ESTATE + extra_streams(sim), sim.rtsp, sim.control))
    async with running_hub(path) as hub:
        events = await hub.session.get(hub.url("/api/events"))
        await hub.wait_for("locked", "online", timeout=60)
        await hub.wait_for("dead", "offline", timeout=60)
        await hub.wait_for("wrong-password", "unauthorized", timeout=60)
        # Its first verdict may have come before the feed opened: the right password, reloaded, brings it
        # online while the feed listens.
        path.write_text(path.read_text().replace("viewer:wrongpass9@", "viewer:s3cret@"))
        async with hub.session.post(hub.url("/api/reload")) as reply:
            assert reply.status == 200, await reply.text()
        await hub.wait_for("wrong-password", "online", timeout=60)
        async with hub.session.post(
            hub.url("/api/streams/wrong-password/open"), json={"reason": "checking the leak scan"}
        ) as reply:
            assert reply.status == 200
        paths = [
            "/",
            "/login",
            "/api/streams",
            "/api/layouts",
            "/api/ui",
            "/api/me",
            "/api/audit",
            "/healthz",
            "/metrics",
            "/api/openapi.json",
            "/api/streams?q=viewer",
            "/api/streams/no-such",
            "/api/streams/dead/snapshot.jpg",
            "/api/streams/wrong-password/snapshot.jpg?width=99999",
        ]
        paths += [f"/api/streams/{i}" for i in ("locked", "dead", "wrong-password")]
        for target in paths:
            async with hub.session.get(hub.url(target)) as reply:
                body = await reply.read()
                assert_clean(body.decode("utf-8", "replace") + json.dumps(dict(reply.headers)), target)
        path.write_text(
            path.read_text() + '\n[[streams]]\nid = "BAD ID"\nurl = "rtsp://x:topsecret@h/"\n'
            '\n[[streams]]\nid = "bad-scheme"\nname = "x"\ncategory = "property"\nurl = "ftp://u:Ab@Zq9xSecret@h/"\n'
        )
        async with hub.session.post(hub.url("/api/reload")) as reply:  # a refused reload lists its problems
            body = await reply.text()
            assert reply.status == 400 and "BAD ID" in body
            assert_clean(body, "a refused reload's problems")
        async with hub.session.ws_connect(hub.url("/api/live")) as ws:
            await ws.send_str(json.dumps({"follow": ["locked", "dead", "wrong-password"]}))
            message = await asyncio.wait_for(ws.receive(), 30)
            assert_clean(message.data, "a live status message")
        seen = b""
        try:
            while len(seen) < 200_000:
                seen += await asyncio.wait_for(events.content.read(65536), 3)
        except TimeoutError:
            pass  # the feed went quiet: everything it had to say is in `seen`
        finally:
            events.close()
        assert b"wrong-password" in seen, "the event feed carried the states"
        assert_clean(seen.decode(), "the event feed")
    assert any(r.name.startswith("hub") for r in caplog.records), "the hub's logs were captured"
    assert_clean(caplog.text, "the log")
