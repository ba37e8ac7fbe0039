"""Whether the hub's readers keep up with their cameras: the share of packet batches that reach the loop late.

Who runs where: the judge notes every batch of packets on the event loop (`note`); the load meter takes
the share once a second (`take`). A reader stamps each packet with when it should have arrived
(`hub.ingest.reader.ArrivalClock`), so a batch whose newest packet should have arrived more than
`BEHIND_S` before the loop folds it in comes from a reader that fell behind its camera: starved of a
CPU, or of the interpreter lock it shares with hundreds of other readers. Neither shows in the loop's
own lateness (the loop runs above the readers) nor reliably in the machine's CPU pressure (the lock is
not a CPU), and a reader that falls far enough behind makes a healthy camera look stalled. One late
batch alone is not falling behind: FFmpeg flushes the packets it held when a read times out on a
silent camera, late, and then nothing comes; so the judge counts a reader from its second late batch
in a row.
"""

from __future__ import annotations

from dataclasses import dataclass

BEHIND_S = 1.5  # a reader hands over at least every half second: a second more than that is falling behind
FEW = 3  # late batches in a second that are one reader's hiccup, not readers falling behind


@dataclass
class ReadersBehind:
    batches: int = 0
    behind: int = 0

    def note(self, behind: bool) -> None:
        """One batch; `behind`: its reader fell behind its camera (the judge's call: a reader's second late
        batch in a row, its newest packet folded in more than `BEHIND_S` after it should have arrived)."""
        self.batches += 1
        self.behind += behind

    def take(self) -> float:
        """The share of batches that came late since the last call, and start again. 0 when fewer than
        `FEW` came late: one reader's hiccup is a large share of a small site's batches, not readers
        falling behind."""
        share = self.behind / self.batches if self.batches and self.behind >= FEW else 0.0
        self.batches = self.behind = 0
        return share
