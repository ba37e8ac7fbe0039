"""Hot reload (API and SIGHUP) and clean stop (SIGTERM; no thread or socket left behind)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from support.estates import SIM_ESTATE, UNREACHABLE, sim_stream
from support.hubrun import hub_config_text, running_hub, until

from hub.web.keys import MONITOR


def _ingest_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("ingest-")]


def _sockets_to(port: int) -> int:
    """Established TCP connections from this process to `port` (from /proc, no extra dependency)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        match = re.match(r"socket:\[(\d+)\]", target)
        if match:
            inodes.add(match.group(1))
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[3] == "01" and fields[9] in inodes:
            count += 1
    return count


def _without(estate: str, stream_id: str) -> str:
    return "".join("[[streams]]" + b for b in estate.split("[[streams]]")[1:] if f'id = "{stream_id}"' not in b)


async def test_reload_keeps_unchanged_restarts_changed_and_refuses_bad(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(_without(SIM_ESTATE, "h264-auth"), sim.rtsp, sim.control))
    async with running_hub(path) as hub:
        await asyncio.gather(
            hub.wait_for("h264-360", "online"), hub.wait_for("h265-360", "online"), hub.wait_for("h264-720", "online")
        )

        monitor = hub.app[MONITOR]
        generations = {i: monitor.watched[i].supervisor.generation for i in ("h264-360", "h265-360")}
        old_h265 = monitor.watched["h265-360"].supervisor
        before = await hub.record("h264-360")
        # h265-360 changes transport (restart), h264-720 goes, a new one comes, h264-360 is renamed only.
        changed = _without(SIM_ESTATE, "h264-720")  # and h264-auth, left out at first, is new
        changed = changed.replace(
            'id = "h265-360"\nname = "Test camera"', 'id = "h265-360"\nname = "Test camera"\ntransport = "udp"'
        )
        changed = changed.replace('id = "h264-360"\nname = "Test camera"', 'id = "h264-360"\nname = "Renamed camera"')
        path.write_text(hub_config_text(changed, sim.rtsp, sim.control))
        async with hub.session.post(hub.url("/api/reload")) as response:
            assert response.status == 200
            result = await response.json()
        assert "h264-720" in result["stopped"] and "h264-auth" in result["started"]
        assert "h265-360" in result["restarted"] and "h264-360" in result["unchanged"]
        assert monitor.watched["h264-360"].supervisor.generation == generations["h264-360"], "no reconnect"
        assert "h264-720" not in monitor.watched

        # A restarted stream reconnects at the first tick that may open a connection (a lagging hub opens
        # none until it is on time again): its new reader is a fresh one, not the old one carried over.
        def new_supervisor():  # once it has made its first connection attempt (on a busy machine, a moment later)
            supervisor = monitor.watched["h265-360"].supervisor
            fresh = supervisor is not None and supervisor is not old_h265 and supervisor.generation >= 1
            return supervisor if fresh else None

        restarted = await until(new_supervisor, 30, "a new supervisor for h265-360", every=0.05)
        assert restarted.generation == 1, "a fresh reader, not the old one's count carried over"
        await hub.wait_for("h264-auth", "online")
        await hub.wait_for("h265-360", "online")
        after = await hub.record("h264-360")
        assert after["state"] == "online" and after["reconnects"] == before["reconnects"] == 0
        assert after["name"] == "Renamed camera"
        status, _ = await hub.get_json("/api/streams/h264-720")
        assert status == 404
        path.write_text(hub_config_text(changed, sim.rtsp, sim.control) + '\n[[streams]]\nid = "BAD ID"\n')
        async with hub.session.post(hub.url("/api/reload")) as response:
            assert response.status == 400
            body = await response.json()
        assert any("BAD ID" in p for p in body["problems"])
        assert "h264-auth" in monitor.watched and (await hub.record("h264-auth"))["state"] == "online"


async def test_stop_leaves_no_thread_or_socket(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(hub_config_text(SIM_ESTATE, sim.rtsp, sim.control))
    port = int(sim.rtsp.rsplit(":", 1)[1])
    async with running_hub(path) as hub:
        await asyncio.gather(*(hub.wait_for(i, "online") for i in ("h264-360", "h265-360", "h264-720", "h265-720-auth")))
        assert _ingest_threads() and _sockets_to(port) >= 4
        started = time.monotonic()
    took = time.monotonic() - started
    assert not _ingest_threads(), _ingest_threads()
    deadline = time.monotonic() + 10
    while _sockets_to(port) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert _sockets_to(port) == 0
    assert took < 5.0, f"stopping took {took:.1f} s"


def _start_hub_process(config: Path) -> tuple[subprocess.Popen, list[str], threading.Event]:
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        for line in process.stdout:
            lines.append(line.rstrip())
            if "UI and API on" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    assert ready.wait(60), lines
    return process, lines, ready


def _wait_line(lines: list[str], pattern: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(lines):
            if re.search(pattern, line):
                return line
        time.sleep(0.1)
    raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(lines))


def test_sighup_reloads_and_sigterm_stops_cleanly(sim, tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(
        hub_config_text(
            sim_stream("h264-360", "sim://street?size=640x360&fps=25&codec=h264") + UNREACHABLE, sim.rtsp, sim.control
        )
    )
    process, lines, _ = _start_hub_process(path)
    try:
        _wait_line(lines, r"stream h264-360: connecting -> online", 60)
        assert not any("topsecret" in line for line in lines)
        path.write_text(path.read_text() + sim_stream("h265-360", "sim://street?size=640x360&fps=25&codec=h265"))
        process.send_signal(signal.SIGHUP)
        _wait_line(lines, r"reloaded: .*'started': 1", 30)
        _wait_line(lines, r"stream h265-360: connecting -> online", 60)
        path.write_text("not toml [")
        process.send_signal(signal.SIGHUP)
        _wait_line(lines, r"reload refused: .*not valid TOML", 30)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, lines
    assert took < 5.0, f"SIGTERM took {took:.1f} s"
    assert not any("Traceback" in line for line in lines), lines
    assert not any("topsecret" in line for line in lines)
