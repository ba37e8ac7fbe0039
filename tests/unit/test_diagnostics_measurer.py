"""The measurer: picture diagnostics' measures taken in batches by one thread, and the reader's hand-over to it.

Pictures are the simulator's scenes as 4:2:0 planes. The measurer is real (its own thread); waits are on
events with generous deadlines.
"""

from __future__ import annotations

import threading

import numpy as np
from support.pictures import keyframes

from hub.diagnostics.measurer import Job, Measurer
from hub.diagnostics.sampling import Due, Sampler, measure
from hub.diagnostics.settings import SamplingSettings

DEADLINE_S = 30.0


class Collected:
    """What the measurer delivered, and which thread delivered it."""

    def __init__(self, expected: int):
        self.expected = expected
        self.samples: dict[int, object] = {}
        self.threads: set[str] = set()
        self.lock = threading.Lock()
        self.done = threading.Event()

    def deliver_for(self, key: int):
        def deliver(sample) -> None:
            with self.lock:
                self.samples[key] = sample
                self.threads.add(threading.current_thread().name)
                if len(self.samples) >= self.expected:
                    self.done.set()

        return deliver


def job(scene: str, due: Due, deliver, index: int = 0) -> Job:
    luma, small, _thumb, cb, cr = keyframes(scene)[index]
    return Job(due, small, cb, cr, luma, False, deliver)


def test_pictures_from_many_readers_are_measured_by_one_thread_exactly_as_inline():
    measurer = Measurer(batch_s=0.2)
    scenes = ["street", "night", "office", "rain", "traffic", "clock"]
    dues = [Due(full=n % 2 == 0, features=n % 3 == 0) for n in range(len(scenes))]
    collected = Collected(len(scenes))
    submitters = [
        threading.Thread(target=lambda n=n: measurer.submit(job(scenes[n], dues[n], collected.deliver_for(n))))
        for n in range(len(scenes))
    ]
    try:
        for thread in submitters:
            thread.start()
        for thread in submitters:
            thread.join()
        assert collected.done.wait(DEADLINE_S), f"measured {len(collected.samples)} of {len(scenes)}"
    finally:
        measurer.close()
    assert collected.threads == {"measurer"}
    for n, scene in enumerate(scenes):
        luma, small, _thumb, cb, cr = keyframes(scene)[0]
        inline = measure(dues[n], small, cb, cr, luma, False)
        got = collected.samples[n]
        assert got.sample == inline.sample, scene
        assert (got.features is not None) == dues[n].features
    assert measurer.measured == len(scenes) and measurer.failed == 0


def test_a_full_queue_turns_pictures_back_to_be_measured_where_they_are():
    """Memory stays bounded when the measurer falls behind: beyond its budget, `submit` refuses."""
    one = job("street", Due(False, False), lambda sample: None)
    measurer = Measurer(batch_s=3600, max_bytes=2 * one.nbytes + 1)  # never measures during the test
    try:
        assert measurer.submit(one) and measurer.submit(one)
        assert not measurer.submit(one)
        assert measurer.refused == 1
    finally:
        measurer.close()
    assert not measurer.submit(one), "a closed measurer takes nothing: the reader measures"


def test_a_picture_that_cannot_be_measured_does_not_stop_the_others():
    collected = Collected(2)
    measurer = Measurer(batch_s=0.2)
    luma, small, _thumb, cb, cr = keyframes("street")[0]
    broken = Job(Due(True, True), small, cb, cr, np.zeros((0, 0), np.uint8), False, collected.deliver_for(99))
    try:
        measurer.submit(job("street", Due(False, False), collected.deliver_for(1)))
        measurer.submit(broken)
        measurer.submit(job("night", Due(True, False), collected.deliver_for(2)))
        assert collected.done.wait(DEADLINE_S)
    finally:
        measurer.close()
    assert set(collected.samples) == {1, 2}
    assert measurer.failed == 1 and measurer.measured == 2


def test_the_sampler_decides_what_is_due_as_it_measured_inline():
    sampler = Sampler(SamplingSettings(every_s=2.0, full_every_s=10.0, features_every_s=60.0))
    dues = [sampler.due(t) for t in np.arange(0.0, 62.0, 1.0)]
    taken = [d for d in dues if d is not None]
    assert len(taken) == 31, "every other second: a picture every 2 s"
    assert sum(d.full for d in taken) == 7  # 0, 10, ... 60 s
    assert sum(d.features for d in taken) == 2  # 0 and 60 s
    assert Sampler(SamplingSettings(enabled=False)).due(0.0) is None


async def test_a_measured_picture_waits_for_the_readers_next_batch_and_costs_the_loop_no_wake_up():
    import asyncio

    from hub.ingest.mailbox import Mailbox

    loop = asyncio.get_running_loop()
    batches: list[list] = []
    arrived = asyncio.Event()

    def receive(items: list) -> None:
        batches.append(items)
        arrived.set()

    mailbox = Mailbox(loop, receive)
    measurer = threading.Thread(target=mailbox.put, args=("measured",), kwargs={"wake": False})
    measurer.start()
    measurer.join(DEADLINE_S)
    for _ in range(5):  # a scheduled drain would run within the next iteration of the loop
        await asyncio.sleep(0)
    assert batches == [], "a result that can wait woke the loop on its own"
    reader = threading.Thread(target=mailbox.put, args=("packets",))
    reader.start()
    reader.join(DEADLINE_S)
    await asyncio.wait_for(arrived.wait(), DEADLINE_S)
    assert batches == [["measured", "packets"]]
