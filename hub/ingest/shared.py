"""What every reader of one process shares: made once by the process's owner (the monitor in the hub
process, or an ingest worker) and handed to each stream supervisor, reader and patrol visit.

- `throttle`: the load governor's picture-sampling factor (written on the event loop, read by readers);
- `measurer`: the picture-diagnostics measurer thread (None: readers measure in their own thread);
- `decoders`: keyframe decoders lent to readers one keyframe at a time (`hub.ingest.keyframes`);
- `lease`: until when readers may pull, on a cluster node (`hub.ingest.pull_lease`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.diagnostics.measurer import Measurer
from hub.ingest.keyframes import KeyframeDecoders
from hub.ingest.pull_lease import PullLease
from hub.ingest.throttle import Throttle


@dataclass
class ReaderShared:
    throttle: Throttle = field(default_factory=Throttle)
    measurer: Measurer | None = None
    decoders: KeyframeDecoders = field(default_factory=KeyframeDecoders)
    lease: PullLease = field(default_factory=PullLease)
