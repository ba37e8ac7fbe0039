"""Whether the hub's readers keep up with their cameras: the share of packet batches that reach the loop late.

Who runs where: the judge notes every batch of packets on the event loop (`note`); the load meter takes
the share once a second (`take`). A reader stamps each packet with when it should have arrived
(`hub.ingest.reader.ArrivalClock`), so a batch whose newest packet should have arrived more than
`BEHIND_S` before the loop folds it in comes from a reader that fell behind its camera: starved of a
CPU, or of the interpreter lock it shares with hundreds of other readers. Neither shows in the loop's
own lateness (the loop runs above the readers) nor reliably in the machine's CPU pressure (the lock is
not a CPU), and a reader that falls far enough behind makes a healthy camera look stalled. One late
batch alone is not always falling behind: FFmpeg flushes the packets it held when a read times out on a
silent camera, late, and then nothing comes. So a reader's lone late batch counts only while the hub is
busy enough for its readers to starve (`take`).
"""

from __future__ import annotations

from dataclasses import dataclass

BEHIND_S = 1.5  # a reader hands over at least every half second: a second more than that is falling behind
FEW = 3  # late batches in a second that are one reader's hiccup, not readers falling behind
BUSY_CORES = 0.5  # the hub's CPU per process (cores) from which readers can starve on its interpreter locks
BUSY_PRESSURE = 0.5  # or the machine's CPU pressure (Linux PSI avg10) from which they can starve for a CPU


@dataclass
class ReadersBehind:
    batches: int = 0
    again: int = 0  # late batches that followed a late batch of the same reader
    once: int = 0  # late batches that followed one on time: falling behind, or FFmpeg's flush on a silent camera

    def note(self, late: bool, again: bool) -> None:
        """One batch: `late` when its newest packet was folded in more than `BEHIND_S` after it should have
        arrived, `again` when its reader's previous batch was late too (the judge keeps each reader's run)."""
        self.batches += 1
        if late:
            self.again += again
            self.once += not again

    def take(self, busy: bool) -> float:
        """The share of batches that came late since the last call, and start again.

        A lone late batch counts only while the hub is `busy` (`BUSY_CORES` per process or more, or the
        machine's CPU pressure `BUSY_PRESSURE` or more: another program taking a core, say): then a
        reader starved of its process's interpreter lock, or of a CPU, can hand over nothing for seconds, and its
        first late batch is all there is to see. On a hub that is not busy a lone late batch is FFmpeg
        flushing what it held when a read timed out on a camera that stopped sending, and counting it
        held every camera's faults on a small site. 0 when fewer than `FEW` came late: one reader's
        hiccup is a large share of a small site's batches, not readers falling behind."""
        behind = self.again + (self.once if busy else 0)
        share = behind / self.batches if self.batches and behind >= FEW else 0.0
        self.batches = self.again = self.once = 0
        return share
