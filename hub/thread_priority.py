"""Lowering the CPU priority of one worker thread, so that the event loop goes first.

Who runs where: called at the start of a thread body (a reader `ingest-<id>-<gen>`, the diagnostics'
`measurer`), in whichever process runs it. Hundreds of such threads take turns on the GIL with the
event loop; when the machine is short of CPU the kernel then hands the GIL (and the CPU) to the loop
first, so the API, health and the UI stay responsive and the background threads are the ones that wait.
Linux applies a nice value per thread; raising it needs no privilege.
"""

from __future__ import annotations

import os
import threading

BACKGROUND_NICE = 10


def lower_this_thread(nice: int = BACKGROUND_NICE) -> None:
    """Run the calling thread at nice `nice`; where that is not possible it keeps its priority."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):  # not Linux, or not allowed
        pass
