"""`hub demo`, `hub serve` and `hub sim` as an operator runs them: busy ports, Ctrl-C, first-start clip encoding.

Each command runs as a real subprocess in its own process group, and Ctrl-C is sent to the whole group, as
a terminal does. Waits are on output lines and process exits, with generous deadlines.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest
from support.estates import STREET, sim_stream
from support.hubrun import ALL_LIVE
from support.processes import Command, demo_sign_in, free_port

from hub.config import Listen
from hub.ports import PortBusy, bind_tcp

CAMERAS = sim_stream("cam-a", STREET) + sim_stream("cam-b", STREET)


def write_config(folder: Path, streams: str = CAMERAS) -> tuple[Path, dict[str, int]]:
    ports = {"hub": free_port(), "rtsp": free_port(), "control": free_port()}
    text = (
        f'[hub]\nlisten = "127.0.0.1:{ports["hub"]}"\n[sim]\nlisten = "127.0.0.1:{ports["rtsp"]}"\n'
        f'control = "127.0.0.1:{ports["control"]}"\n' + ALL_LIVE + streams
    )
    path = folder / "streams.toml"
    path.write_text(text)
    return path, ports


def test_demo_refuses_a_second_instance_and_stops_the_hub_before_the_simulator(sim, tmp_path):
    path, ports = write_config(tmp_path)  # the clips are cached by the session's simulator
    first = Command("demo", "--config", str(path))
    try:
        first.wait_for_line("UI and API on")
        first.wait_for_line("connecting -> online")
        assert "encoding" not in first.text, "clips were cached: nothing to encode, nothing to announce"
        password = re.search(r"sign in as demo with password (\S+)", first.text).group(1)
        assert demo_sign_in(ports["hub"], password) == 200, "the printed demo login works"
        second = Command("demo", "--config", str(path))
        assert second.finish() == 1
        rival = "the port is already in use. Is another `hub demo` (Ctrl-C in its terminal stops it) running? Stop it first."
        assert second.lines == [
            f"hub: cannot listen on 127.0.0.1:{ports['hub']} for the hub's UI and API: {rival}",
            f"hub: cannot listen on 127.0.0.1:{ports['rtsp']} for the simulator's RTSP: {rival}",
            f"hub: cannot listen on 127.0.0.1:{ports['control']} for the simulator's control API: {rival}",
        ], "every port that is taken, one line each"
        first.ctrl_c()
        assert first.finish() == 0, first.text
    finally:
        first.finish(5)
    assert "-> offline" not in first.text and "Traceback" not in first.text, first.text
    assert first.lines[-1] == "hub demo: stopped the hub, then the simulator"
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", ports["rtsp"])) != 0, "the simulator outlived the demo"


def test_serve_on_a_busy_port_says_so_before_contacting_any_camera(tmp_path):
    with socket.socket() as camera, socket.socket() as taken:
        camera.bind(("127.0.0.1", 0))  # a "camera" that records whether anybody knocked
        camera.listen()
        camera.setblocking(False)
        path, ports = write_config(tmp_path, sim_stream("cam", f"rtsp://127.0.0.1:{camera.getsockname()[1]}/live"))
        taken.bind(("127.0.0.1", ports["hub"]))
        taken.listen()
        serve = Command("serve", "--config", str(path))
        assert serve.finish() == 1
        with pytest.raises(BlockingIOError):
            camera.accept()
    expected = (
        f"hub: cannot listen on 127.0.0.1:{ports['hub']} for the hub's UI and API: the port is already in use. "
        "Is another hub or `hub demo` running? Stop it, or choose another port with --listen HOST:PORT."
    )
    assert serve.lines == [expected], serve.lines


def interrupted_while_encoding(tmp_path: Path, command: str, clips: int, announcement: str) -> Command:
    """Run `hub COMMAND` on `clips` cameras whose clips are not cached yet; Ctrl-C once it announces encoding."""
    streams = "".join(sim_stream(f"new-{n}", STREET, name=f"Fresh clip {n}") for n in range(clips))
    path, _ = write_config(tmp_path, streams)
    running = Command(command, "--config", str(path), env={"HUB_CACHE_DIR": str(tmp_path / "clips")})
    try:
        running.wait_for_line(announcement)
        running.ctrl_c()
        assert running.finish() == 0, running.text
    finally:
        running.finish(5)
    assert "Traceback" not in running.text and "BrokenProcessPool" not in running.text, running.text
    return running


def test_simulator_stopped_while_it_encodes_clips_exits_cleanly(tmp_path):
    simulator = interrupted_while_encoding(tmp_path, "sim", 6, "generating 6 sample clip(s)")
    assert simulator.lines[-1].startswith("simulator: stopped before it was ready"), simulator.text


def test_demo_announces_encoding_only_when_it_encodes_and_stops_cleanly_meanwhile(tmp_path):
    demo = interrupted_while_encoding(tmp_path, "demo", 4, "hub demo: encoding 4 sample clips")
    assert demo.lines[-1] == "hub demo: stopped", demo.text


def test_each_listening_problem_gets_its_own_advice():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortBusy) as busy:
            bind_tcp(Listen("127.0.0.1", port), "the UI", "another hub", None)
    assert (
        str(busy.value)
        == f"cannot listen on 127.0.0.1:{port} for the UI: the port is already in use. Is another hub running? Stop it first."
    )
    with pytest.raises(PortBusy) as foreign:  # a documentation address (TEST-NET-1): binding sends nothing
        bind_tcp(Listen("192.0.2.1", 8080), "the UI", "another hub", "--listen")
    assert str(foreign.value) == (
        "cannot listen on 192.0.2.1:8080 for the UI: 192.0.2.1 is not an address of this machine. "
        "Choose another with --listen HOST:PORT."
    )


def test_a_demo_killed_with_minus_9_takes_its_simulator_with_it(sim, tmp_path):
    path, ports = write_config(tmp_path)  # the clips are cached by the session's simulator
    demo = Command("demo", "--config", str(path))
    try:
        demo.wait_for_line("UI and API on")
        os.kill(demo.process.pid, signal.SIGKILL)  # a closed terminal, the OOM killer: no Ctrl-C, no clean-up
        demo.process.wait(30)
        deadline = time.monotonic() + 30
        while _listening(ports["rtsp"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _listening(ports["rtsp"]) and not _listening(ports["control"]), "the simulator outlived its demo"
    finally:
        demo.finish(5)
    again = Command("demo", "--config", str(path))
    try:
        again.wait_for_line("UI and API on")  # the next demo finds its ports free
    finally:
        again.ctrl_c()
        again.finish(60)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_simulator_answers_503_while_it_encodes_its_clips(tmp_path):
    config = tmp_path / "sim.toml"
    config.write_text(sim_stream("big", "sim://traffic?size=640x360&fps=25&codec=h265", name="Warm-up camera"))
    port = free_port()
    sim = Command("sim", "--config", str(config), "--listen", f"127.0.0.1:{port}", "--control", "127.0.0.1:0",
                  env={"HUB_CACHE_DIR": str(tmp_path / "clips")})  # fmt: skip
    try:
        sim.wait_for_line("generating 1 sample clip")
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(b"OPTIONS rtsp://127.0.0.1/big RTSP/1.0\r\nCSeq: 7\r\n\r\n")
            answer = client.recv(4096).decode()
        assert answer.startswith("RTSP/1.0 503 Service Unavailable\r\n"), answer
        assert "CSeq: 7\r\n" in answer and "Retry-After: 5\r\n" in answer
        sim.wait_for_line("cameras on rtsp://", timeout=300)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(b"OPTIONS rtsp://127.0.0.1/big RTSP/1.0\r\nCSeq: 8\r\n\r\n")
            assert client.recv(4096).startswith(b"RTSP/1.0 200 OK"), "served once the clips are ready"
    finally:
        sim.ctrl_c()
        sim.finish(60)
