"""The measurer: picture diagnostics' measures of sampled pictures, taken in batches in one thread per process.

Who runs where: reader threads (`ingest-<id>-<gen>`) call `submit` with a sampled picture's planes and
go back to their stream at once; the thread `measurer` (started on the first job, one per process: the
hub's own `Monitor` and each ingest worker own one) wakes every `batch_s`, measures everything queued
one picture after another and hands each `PictureSample` to its job's `deliver`, which puts it in the
reader's thread-safe mailbox. Patrol visits, which sample a picture or two, still measure inline.

Why a thread of its own: measured in the running hub, a reader thread that measures one picture every
few seconds, between packets, spends 2-3 times the CPU that the same measures take back to back in one
thread (every measure, down to a mean over 160x90 pixels, runs cold: the interpreter's and OpenCV's
code and data have left the caches since the last picture).

Memory stays bounded: a job holds its picture's decoded planes (about 1.5 bytes a pixel) until it is
measured, and beyond `max_bytes` queued `submit` refuses, so the reader measures that picture itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hub.diagnostics.sampling import Due, PictureSample, measure
from hub.ingest.threads import background_thread

log = logging.getLogger("hub.diagnostics")

BATCH_S = 1.0  # a picture's verdict comes at most this much later; longer batches save little more
MAX_QUEUED_BYTES = 64 << 20  # ~190 pictures at 640x360, ~20 at 1080p: then readers measure inline
JOIN_S = 5.0


@dataclass(frozen=True)
class Job:
    """One sampled picture to measure, and where its measures go."""

    due: Due
    small: np.ndarray  # luma at 160x90
    cb: np.ndarray
    cr: np.ndarray
    luma: np.ndarray  # the full frame
    full_range: bool
    deliver: Callable[[PictureSample], None]  # called in the measurer's thread

    @property
    def nbytes(self) -> int:
        return self.small.nbytes + self.cb.nbytes + self.cr.nbytes + self.luma.nbytes


class Measurer:
    def __init__(self, batch_s: float = BATCH_S, max_bytes: int = MAX_QUEUED_BYTES):
        self.batch_s = batch_s
        self.max_bytes = max_bytes
        self.measured = 0
        self.refused = 0  # jobs turned away (queue full, or closed): their readers measured them
        self.failed = 0  # jobs whose measuring raised: their pictures have no measures
        self._jobs: list[Job] = []
        self._queued_bytes = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def submit(self, job: Job) -> bool:
        """Any thread: queue a picture to be measured. False: not taken (the caller measures it itself)."""
        size = job.nbytes
        with self._lock:
            if self._stop.is_set() or self._queued_bytes + size > self.max_bytes:
                self.refused += 1
                return False
            self._jobs.append(job)
            self._queued_bytes += size
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="measurer", daemon=True)
                self._thread.start()
        return True

    def close(self) -> None:
        """Stop the thread (bounded wait); what is still queued is not measured (the hub is stopping)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_S)

    def _run(self) -> None:
        background_thread()
        while not self._stop.wait(self.batch_s):
            self._measure_queued()

    def _measure_queued(self) -> None:
        with self._lock:
            jobs, self._jobs = self._jobs, []
        for job in jobs:
            try:
                sample = measure(job.due, job.small, job.cb, job.cr, job.luma, job.full_range)
            except Exception:  # one odd picture must not stop the measuring of all others
                self.failed += 1
                if self.failed == 1:
                    log.exception("measuring a sampled picture failed (further failures are only counted)")
                sample = None
            with self._lock:
                self._queued_bytes -= job.nbytes
            if sample is not None:
                self.measured += 1
                job.deliver(sample)
            if self._stop.is_set():
                return
