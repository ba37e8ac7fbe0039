"""Three `hub serve` nodes, one real `redis-server` and one simulator on loopback: every camera is
pulled by exactly one node, and when a node is killed (-9) a survivor pulls its cameras again, at no
moment two sessions on one feed. Proof comes from the simulator's own session counts (`GET /sessions`
on its control port), sampled every 100 ms by a thread for the whole test. Waits are on conditions
with generous deadlines (the 15 s failover target is measured by the cluster benchmark, not here).
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
import urllib.error
import urllib.request

import aiohttp
import pytest
import redis as redis_sync
from prometheus_client.parser import text_string_to_metric_families
from support.cluster_nodes import start_node as start_cluster_node
from support.estates import sim_for, sim_stream
from support.paths import DASHBOARD
from support.processes import Command
from support.sim_sessions import SessionWatch
from support.tcp_proxy import TcpProxy

from hub.cluster.assign import NodeShare, assign

pytestmark = pytest.mark.redis
CAMERAS = [f"cam-{i:02d}" for i in range(9)]
ESTATE = "".join(sim_stream(c, "sim://street?size=320x180&fps=10&codec=h264") for c in CAMERAS)
# the cameras end a session left silent for 2 s, as cameras do (after their own timeout): a paused node's
serving = sim_for("[sim]\nsession_timeout_s = 2\n" + ESTATE)


def wait(condition, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)
    return time.monotonic() - start


def start_node(folder, name: str, redis_url: str, serving) -> Command:
    """A node in a folder of its own (its users and audit trail sit beside its config), same estate."""
    return start_cluster_node(folder, name, redis_url, serving, ESTATE)


def stream_records(node: Command) -> list[dict]:
    """The node's records (GET /api/streams), with the admin token made beside its config."""
    body = authorized_json(node, "/api/streams")
    return body["streams"] if isinstance(body, dict) else body


def authorized_json(node: Command, path: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{node.port}{path}", headers={"Authorization": f"Bearer {node.token}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)


def first_event(node: Command) -> dict:
    """The `hello` event a page gets on opening the event stream."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{node.port}/api/events", headers={"Authorization": f"Bearer {node.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        for line in reply:
            if line.startswith(b"data: "):
                return json.loads(line[6:])
    raise AssertionError("no event")


def whole_estate(node: Command) -> dict[str, str]:
    """Camera -> the node the node's API says pulls it (every configured camera, with a holder or not)."""
    return {r["id"]: r.get("node", "") for r in stream_records(node)}


def metric_families(node: Command) -> dict:
    """The node's /metrics, parsed by prometheus_client."""
    with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/metrics", timeout=10) as reply:
        return {family.name: family for family in text_string_to_metric_families(reply.read().decode())}


def cluster_series(node: Command) -> dict[str, float]:
    """The node's own cluster series."""
    return {
        sample.name: sample.value
        for family in metric_families(node).values()
        for sample in family.samples
        if sample.name.startswith("hub_cluster_")
    }


NAMES = ("n1", "n2", "n3")


def stop_all(watch: SessionWatch, nodes: list[Command]) -> None:
    watch.stop()
    for node in nodes:
        if node.process.poll() is None:
            node.ctrl_c()
            node.finish(60)


def never_two_sessions(watch: SessionWatch) -> None:
    """No feed ever had two sessions at once, in any sample of the whole test."""
    assert all(count <= 1 for count in watch.worst.values()), f"a feed had two sessions at once: {watch.worst}"


@pytest.fixture
def cluster(tmp_path, redis_server, serving):
    """Three nodes with the cameras spread over them, each pulled once; the session watch runs throughout
    and, at the end, no feed may ever have had two sessions at once."""
    watch = SessionWatch(serving.control, CAMERAS)
    nodes = [start_node(tmp_path / n, n, redis_server.url, serving) for n in NAMES]
    try:
        for node in nodes:
            node.wait_for_line("cluster: joined as", timeout=60)

        def spread() -> dict[str, int] | None:  # the first node up takes every camera; the others get theirs gradually
            pulling = {n: _pulling(node) for n, node in zip(NAMES, nodes, strict=True)}
            settled = sum(pulling.values()) == len(CAMERAS) and all(pulling.values()) and watch.each_pulled_once()
            return pulling if settled else None

        wait(spread, 120, "the cameras spread over the three nodes, each pulled once")
        wait(lambda: all(cluster_series(n).get("hub_cluster_members") == 3 for n in nodes), 30, "three members seen")
        yield nodes, watch, spread()
        never_two_sessions(watch)
    finally:
        stop_all(watch, nodes)


def test_three_nodes_pull_each_camera_once_and_a_killed_nodes_cameras_come_back_on_the_survivors(cluster):
    nodes, watch, pulling = cluster
    series = [cluster_series(n) for n in nodes]
    assert sum(s["hub_cluster_claims"] for s in series) == len(CAMERAS)
    charted = set(re.findall(r"hub_cluster_\w+", DASHBOARD.read_text()))  # the dashboard's cluster row charts real series
    assert charted and charted <= set(series[0]), charted - set(series[0])
    assert len({s["hub_cluster_epoch"] for s in series}) == 3 and all(s["hub_cluster_redis_up"] == 1 for s in series)
    pullers = {}
    for name, node in zip(NAMES, nodes, strict=True):  # each node exports its own streams' series, with its name
        up = metric_families(node)["hub_stream_up"].samples
        assert len(up) == pulling[name] and {s.labels["node"] for s in up} == {name}, up
        pullers |= {s.labels["stream"]: name for s in up}
    assert sorted(pullers) == CAMERAS
    # every node shows the whole estate, each camera with the node that pulls it, and its state
    wait(lambda: all(whole_estate(n) == pullers for n in nodes), 30, "every node to show every camera's puller")
    all_online = lambda: all(r["state"] == "online" for n in nodes for r in stream_records(n))  # noqa: E731
    wait(all_online, 30, "every node to show every camera online")
    victim = max(pulling, key=pulling.get)
    os.killpg(nodes[NAMES.index(victim)].process.pid, signal.SIGKILL)
    wait(lambda: sum(watch.latest.values()) < len(CAMERAS), 30, "the killed node's sessions to end")
    took = wait(watch.each_pulled_once, 60, "the killed node's cameras pulled again by the survivors")
    print(f"failover: all cameras pulled again {took:.1f} s after the kill's sessions ended")
    survivors = [n for n in nodes if n.process.poll() is None]
    wait(lambda: all(cluster_series(n).get("hub_cluster_members") == 2 for n in survivors), 30, "two members seen")
    series = [cluster_series(n) for n in survivors]
    assert sum(s["hub_cluster_claims"] for s in series) == len(CAMERAS)
    # each node's own view, one step behind its claims: no camera left without a holder
    wait(lambda: all(cluster_series(n)["hub_cluster_unheld_cameras"] == 0 for n in survivors), 30, "no camera unheld")
    # and the survivors show every camera pulled by one of them, online again
    names = {NAMES[nodes.index(n)] for n in survivors}

    def shown_by_survivors() -> bool:
        return all(set(whole_estate(n).values()) <= names and all(r["state"] == "online" for r in stream_records(n))
                   for n in survivors)  # fmt: skip

    wait(shown_by_survivors, 30, "the survivors to show every camera online, pulled by one of them")


async def live_messages(node: Command, stream: str, seconds: float, until=None) -> list:
    """What a browser on `node` receives for `{"watch": [stream]}` over `seconds` (or until `until(messages)`):
    ("init", mime) / ("status", tile status, now) / ("video", kind)."""
    got: list = []
    headers = {"Authorization": f"Bearer {node.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"http://127.0.0.1:{node.port}/api/live", headers=headers) as ws:
            await ws.send_str(json.dumps({"watch": [stream]}))
            end = time.monotonic() + seconds
            while time.monotonic() < end and not (until and until(got)):
                try:
                    message = await ws.receive(timeout=max(0.1, end - time.monotonic()))
                except TimeoutError:
                    break
                if message.type == aiohttp.WSMsgType.TEXT:
                    data = json.loads(message.data)
                    if data["type"] == "init":
                        got.append(("init", data["mime"]))
                    elif data["type"] == "status" and stream in data["streams"]:
                        got.append(("status", data["streams"][stream], data["now"]))
                elif message.type == aiohttp.WSMsgType.BINARY:
                    got.append(("video", message.data[0]))
                else:
                    break
    return got


def fresh_video(messages: list) -> bool:
    """An init segment, then fragments, and a status whose newest frame is under 2.5 s old (a live tile)."""
    kinds = [m[0] for m in messages]
    live = [m for m in messages if m[0] == "status" and m[1]["last_frame_at"] and m[2] - m[1]["last_frame_at"] < 2.5]
    return "init" in kinds and kinds.count("video") >= 10 and bool(live)


async def test_a_browser_on_any_node_watches_and_snapshots_a_camera_another_node_pulls(cluster):
    nodes, watch, pulling = cluster
    pullers = {}
    for name, node in zip(NAMES, nodes, strict=True):
        pullers |= {s.labels["stream"]: name for s in metric_families(node)["hub_stream_up"].samples}
    door = nodes[0]
    camera = next(c for c, n in sorted(pullers.items()) if n != NAMES[0])
    messages = await live_messages(door, camera, 60, fresh_video)
    assert fresh_video(messages), messages[:20]  # video and a live status, relayed from the puller
    request = urllib.request.Request(
        f"http://127.0.0.1:{door.port}/api/streams/{camera}/snapshot.jpg", headers={"Authorization": f"Bearer {door.token}"}
    )
    with urllib.request.urlopen(request, timeout=20) as reply:
        assert reply.headers["Content-Type"] == "image/jpeg" and reply.read(3) == b"\xff\xd8\xff"
    # the internal channel itself: closed to anything but a node's signature, a browser's token included
    for headers in ({}, {"Authorization": f"Bearer {door.token}"}, {"Origin": f"http://127.0.0.1:{door.port}"}):
        request = urllib.request.Request(f"http://127.0.0.1:{door.port}/internal/snapshot?stream={camera}", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403


async def test_a_tile_keeps_playing_when_its_camera_moves_to_another_node(cluster):
    nodes, watch, pulling = cluster
    door = nodes[0]
    pullers = {}
    for name, node in zip(NAMES, nodes, strict=True):
        pullers |= {s.labels["stream"]: name for s in metric_families(node)["hub_stream_up"].samples}
    camera = next(c for c, n in sorted(pullers.items()) if n != NAMES[0])
    victim = nodes[NAMES.index(pullers[camera])]
    started = time.monotonic()

    def back_after_the_kill(messages: list) -> bool:
        if victim.process.poll() is None and time.monotonic() - started > 5 and fresh_video(messages):
            os.killpg(victim.process.pid, signal.SIGKILL)  # the camera's puller dies under the playing tile
            messages.append(("killed",))
        after = messages[messages.index(("killed",)) + 1 :] if ("killed",) in messages else []
        return fresh_video(after)

    messages = await live_messages(door, camera, 90, back_after_the_kill)
    assert ("killed",) in messages and back_after_the_kill(messages), [m for m in messages if m[0] != "video"][-10:]


def test_a_node_paused_past_its_lease_loses_its_cameras_and_on_resuming_has_stopped_its_readers_by_itself(cluster):
    nodes, watch, pulling = cluster
    victim_name = max(pulling, key=pulling.get)
    victim = nodes[NAMES.index(victim_name)]
    os.killpg(victim.process.pid, signal.SIGSTOP)
    paused_at = time.monotonic()
    try:
        wait(lambda: sum(watch.latest.values()) < len(CAMERAS), 30, "the paused node's sessions to end at the cameras")
        took = wait(watch.each_pulled_once, 60, "the paused node's cameras pulled again by the others")
        since = time.monotonic() - paused_at
        print(f"paused node: all cameras pulled again {since:.1f} s after the pause ({took:.1f} s after its sessions ended)")
        time.sleep(max(0.0, 10.0 - (time.monotonic() - paused_at)))  # the scenario: paused for 10 s
    finally:
        os.killpg(victim.process.pid, signal.SIGCONT)
    victim.wait_for_line("did not run past its lease", timeout=30)
    survivors = [n for n in nodes if n is not victim]
    wait(lambda: all(cluster_series(n)["hub_cluster_members"] == 3 for n in nodes), 60, "the resumed node back in")
    wait(lambda: all(cluster_series(n)["hub_cluster_unheld_cameras"] == 0 for n in survivors), 30, "no camera unheld")
    assert watch.each_pulled_once(), watch.latest  # and the fixture: no feed had two sessions at any moment


def test_while_redis_is_away_every_camera_stays_pulled_and_after_it_restarts_empty_the_cluster_recovers(cluster, redis_server):
    nodes, watch, _ = cluster
    errors = [cluster_series(n)["hub_cluster_redis_errors_total"] for n in nodes]
    redis_server.kill()
    wait(lambda: all(cluster_series(n)["hub_cluster_redis_up"] == 0 for n in nodes), 30, "every node to see Redis gone")

    def steps_failed() -> bool:  # several steps of every node went by without Redis (past the 6 s heartbeat)
        return all(cluster_series(n)["hub_cluster_redis_errors_total"] >= e + 5 for n, e in zip(nodes, errors, strict=True))

    wait(steps_failed, 60, "five failed steps on every node")
    assert watch.each_pulled_once(), f"a camera was dropped while Redis was away: {watch.latest}"
    health = authorized_json(nodes[0], "/healthz")["cluster"]  # health and the page's banner say so
    assert health["redis_up"] is False and health["held"] > 0, health
    hello = first_event(nodes[0])
    assert hello["cluster"]["redis_up"] is False and hello["cluster"]["node"] == NAMES[0], hello
    redis_server.start()  # on the same port, with nothing in it: epochs, heartbeats and claims are gone

    def recovered() -> bool:
        series = [cluster_series(n) for n in nodes]
        return all(s["hub_cluster_redis_up"] == 1 and s["hub_cluster_members"] == 3 for s in series) and (
            sum(s["hub_cluster_claims"] for s in series) == len(CAMERAS)
        )

    wait(recovered, 60, "the nodes to join again and claim their cameras")
    assert watch.each_pulled_once(), watch.latest


def _pulling(node: Command) -> int:
    """The node's last 'now pulling N cameras' line."""
    lines = [line for line in node.lines if "cluster: now pulling" in line]
    return int(lines[-1].split("now pulling ")[1].split()[0]) if lines else 0


def pullers_of(nodes: list[Command]) -> dict[str, str]:
    """Camera -> the node whose /metrics exports it (each node exports the streams it pulls)."""
    out = {}
    for node in nodes:
        out |= {s.labels["stream"]: s.labels["node"] for s in metric_families(node)["hub_stream_up"].samples}
    return out


def test_a_node_that_joins_takes_its_rendezvous_share_and_nothing_else_moves(tmp_path, redis_server, serving):
    watch = SessionWatch(serving.control, CAMERAS)
    nodes = [start_node(tmp_path / n, n, redis_server.url, serving) for n in NAMES[:2]]
    try:
        for node in nodes:
            node.wait_for_line("cluster: joined as", timeout=60)
        wait(lambda: watch.each_pulled_once() and len(pullers_of(nodes)) == len(CAMERAS), 120, "two nodes pulling all")
        before = pullers_of(nodes)
        nodes.append(start_node(tmp_path / NAMES[2], NAMES[2], redis_server.url, serving))
        nodes[-1].wait_for_line("cluster: joined as", timeout=60)
        share = {c for c, n in assign(CAMERAS, {n: NodeShare(1.0, 10**6) for n in NAMES}).items() if n == NAMES[2]}

        def settled() -> bool:
            return watch.each_pulled_once() and {c for c, n in pullers_of(nodes).items() if n == NAMES[2]} == share

        wait(settled, 120, "the new node to take its share")
        after = pullers_of(nodes)
        moved = {c for c in CAMERAS if before[c] != after[c]}
        # exactly its rendezvous share (about a third of a big estate: tests/unit/test_cluster_assign.py), and no
        # camera moved between the two nodes that were there
        assert moved == share, (moved, share)
        never_two_sessions(watch)
        # each went from its holder's claim straight to the new node's (a handover), never left unclaimed
        client = redis_sync.Redis.from_url(redis_server.url)
        released = {c for _, f in client.xrange("hub:claims:log") if not f[b"h"] for c in f[b"c"].decode().split(",")}
        client.close()
        assert not released & moved, released & moved
    finally:
        stop_all(watch, nodes)


def test_a_node_cut_off_from_redis_alone_stops_before_the_others_take_its_cameras(tmp_path, redis_server, serving):
    """Redis answers n2 and n3 but no longer n1 (its way to Redis is cut): n1 learns from the others that
    Redis is up, stops its readers at its lease's end, and the others take its cameras, never two
    sessions on one feed. (Were Redis away for everyone, every node would keep its cameras.)"""
    proxy = TcpProxy(redis_server.port)
    watch = SessionWatch(serving.control, CAMERAS)
    urls = {NAMES[0]: proxy.url, NAMES[1]: redis_server.url, NAMES[2]: redis_server.url}
    nodes = [start_node(tmp_path / n, n, urls[n], serving) for n in NAMES]
    try:
        for node in nodes:
            node.wait_for_line("cluster: joined as", timeout=60)
        wait(lambda: watch.each_pulled_once() and all(pullers_of(nodes).get(c) for c in CAMERAS), 120, "every camera pulled once")
        wait(lambda: NAMES[0] in pullers_of(nodes).values(), 60, "n1 to pull some cameras")
        proxy.cut()
        nodes[0].wait_for_line("Redis answers the other nodes but not this one", timeout=30)
        wait(lambda: set(pullers_of(nodes[1:]).values()) <= set(NAMES[1:]) and len(pullers_of(nodes[1:])) == len(CAMERAS),
             60, "n2 and n3 to pull every camera")  # fmt: skip
        wait(watch.each_pulled_once, 30, "every camera pulled once")
        never_two_sessions(watch)
    finally:
        proxy.stop()
        stop_all(watch, nodes)
