"""What both contender scripts share: one reader thread per URL, a "ready N" line, then "frames N" every second."""

import sys
import threading
import time
from collections.abc import Callable

OPEN_DEADLINE_S = 90


def run(read: Callable[[str, Callable[[], None], Callable[[], None]], None]) -> None:
    """`read(url, count_frame, opened)` opens one stream, calls `opened()`, then loops counting frames."""
    urls = sys.argv[1:]
    counts = [0] * len(urls)
    opened = threading.Semaphore(0)

    def worker(slot: int, url: str) -> None:
        def count_frame() -> None:
            counts[slot] += 1

        try:
            read(url, count_frame, opened.release)
        except Exception as exc:  # noqa: BLE001 - a contender that fails to open is reported, not fatal
            print(f"error {url}: {exc}", flush=True)
            opened.release()

    for slot, url in enumerate(urls):
        threading.Thread(target=worker, args=(slot, url), daemon=True).start()
    deadline = time.monotonic() + OPEN_DEADLINE_S
    done = sum(opened.acquire(timeout=max(0.1, deadline - time.monotonic())) for _ in urls)
    print(f"ready {done}", flush=True)
    while True:
        time.sleep(1)
        print(f"frames {sum(counts)}", flush=True)
