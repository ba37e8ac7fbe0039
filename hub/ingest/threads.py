"""What the operating system knows of a background thread: its priority (below the event loop) and its name.

Who runs where: called at the start of a thread body (a reader `ingest-<id>-<gen>`, the diagnostics'
`measurer`), in whichever process runs it. Named threads show in `top -H`, `ps -L` and
`/proc/<pid>/task/*/comm` (Python does not pass its thread names on), so ops and the benchmarks can tell
where a hub's CPU goes. Hundreds of such threads take turns on the GIL with the
event loop; when the machine is short of CPU the kernel then hands the GIL (and the CPU) to the loop
first, so the API, health and the UI stay responsive and the background threads are the ones that wait.
Linux applies a nice value per thread; raising it needs no privilege.
"""

from __future__ import annotations

import ctypes
import os
import threading

BACKGROUND_NICE = 10


def lower_this_thread(nice: int = BACKGROUND_NICE) -> None:
    """Run the calling thread at nice `nice`; where that is not possible it keeps its priority."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):  # not Linux, or not allowed
        pass


PR_SET_NAME = 15
OS_NAME_BYTES = 15  # Linux keeps 15 bytes of a thread's name


def name_this_thread(name: str | None = None) -> None:
    """Give the calling thread its Python name (or `name`) in the OS too; elsewhere than Linux, nothing."""
    label = (name or threading.current_thread().name).encode("ascii", "replace")[:OS_NAME_BYTES]
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, ctypes.c_char_p(label), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def background_thread() -> None:
    """The start of a background thread's body: named, and below the event loop."""
    name_this_thread()
    lower_this_thread()
