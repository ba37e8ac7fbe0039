"""Ingest worker processes against the real simulator: live streams, patrol visits and wall video pulled
in other processes; a worker killed mid-run is replaced and its streams resume while the rest carry on."""

from __future__ import annotations

import os
import time

import pytest

from hub.config import parse_config


def test_ingest_processes_takes_auto_or_a_number():
    assert parse_config('[hub]\ningest_processes = "auto"\n').hub.ingest_processes == (os.cpu_count() or 1)
    assert parse_config("[hub]\ningest_processes = 3\n").hub.ingest_processes == 3
    assert parse_config("").hub.ingest_processes == 1, "one process, as before, unless asked"
    with pytest.raises(Exception, match=r'ingest_processes: expected "auto" or a whole number from 1 to 256, got 0'):
        parse_config("[hub]\ningest_processes = 0\n")


def test_result_frames_are_read_whole_across_partial_reads_and_eof():
    # The hub reads its workers' pipes on the event loop: frames a worker writes must come out whole
    # however the pipe splits them, the writer closing must read as the end, and bytes that are not our
    # frames must be refused, not taken for a huge frame.
    import pickle
    import threading

    from hub.workers.frames import FrameError, FrameReader, write_frame

    receive, send = os.pipe()
    reader = FrameReader(receive)
    assert reader.read() == [], "nothing yet is not the end"
    big = {"chunk": b"x" * 300_000}  # larger than a pipe's buffer: arrives in pieces
    messages = [{"n": 1}, big, list(range(1000))]
    got: list = []

    def drain() -> None:
        while True:
            frames = reader.read()
            if not frames:
                return
            got.extend(pickle.loads(f) for f in frames)

    writer = threading.Thread(target=lambda: [write_frame(send, m) for m in messages])
    writer.start()
    deadline = time.monotonic() + 10
    while len(got) < len(messages) and time.monotonic() < deadline:
        drain()
        writer.join(0.01)
    assert got == messages
    os.close(send)
    assert reader.read() is None
    os.close(receive)
    receive, send = os.pipe()
    os.write(send, b"\xff" * 16)  # not a frame of ours
    with pytest.raises(FrameError):
        FrameReader(receive).read()
    os.close(send)
    os.close(receive)
