"""How long this process's readers may pull: a cluster node's lease, by the machine's own clock.

Who runs where: one `PullLease` per process, in its `hub.ingest.shared.ReaderShared`. The cluster node
(`hub.cluster.node`, event loop of the hub process) sets `until` after every heartbeat renewal, through
the monitor, which also sends it to each ingest worker (`hub.workers.protocol.SetLease`). Reader threads
read it at every packet batch and before they open a camera, supervisors before every connection: past
`until` nothing is pulled, even in a process that was paused (SIGSTOP) and has not yet heard from its
cluster loop. `until` is a `time.monotonic()` value: on Linux that clock (CLOCK_MONOTONIC) is one for
every process of the machine, so a deadline taken in the hub process holds in its workers. `None` (a
single node): no limit. A plain float attribute: written and read atomically.
"""

from __future__ import annotations

import time

STOPPED = "stopped"  # a Closed message that starts so: the hub ended the reader itself (a stop, or this lease)
LEASE_OVER = f"{STOPPED}: this node's cluster lease is over"


class PullLease:
    def __init__(self) -> None:
        self.until: float | None = None

    def over(self, now: float | None = None) -> bool:
        until = self.until
        return until is not None and (time.monotonic() if now is None else now) >= until
