"""Refused sign-ins, summarised for the audit trail: one entry per address per minute, with the count.

Runs on the event loop; no I/O of its own (`write` appends the entry). A sign-in refused before any
password is checked (the address or user is over its failure limit, or the hub is too busy checking
others) costs the hub almost nothing, and an attacker can send thousands a second. Writing one audit
entry for each would let them flood the trail (2,000 refusals were 2,000 rows and half a megabyte in
3.4 s); counting them and writing one `login_refused` entry per address per window keeps every refusal
accounted for in a bounded number of rows. Failed passwords are not summarised: the failure limit
already bounds them to a few a minute per address, and each one is worth its own row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_S = 60.0
MAX_ADDRESSES = 10_000  # open tallies; beyond this the oldest is written early
MAX_NAMES = 5  # user names kept per tally (the count covers all of them)


@dataclass
class Tally:
    first_at: float
    last_at: float
    count: int = 0
    users: list[str] = field(default_factory=list)
    whys: dict[str, int] = field(default_factory=dict)


class RefusalSummary:
    """`write(address, **detail)` appends one summary entry; `clock` is wall time (the entries' times)."""

    def __init__(self, write: Callable[..., object], window_s: float = WINDOW_S, clock: Callable[[], float] = time.time):
        self._write = write
        self._window_s = window_s
        self._clock = clock
        self._open: dict[str, Tally] = {}  # address -> this window's tally, oldest window first

    def refused(self, address: str, user: str, why: str) -> None:
        now = self._clock()
        self.flush(now)
        tally = self._open.get(address)
        if tally is None:
            tally = self._open[address] = Tally(now, now)
        tally.count += 1
        tally.last_at = now
        if user not in tally.users and len(tally.users) < MAX_NAMES:
            tally.users.append(user)
        tally.whys[why] = tally.whys.get(why, 0) + 1
        while len(self._open) > MAX_ADDRESSES:
            oldest = next(iter(self._open))
            self._emit(oldest, self._open.pop(oldest))

    def flush(self, now: float | None = None) -> None:
        """Write every tally whose window has closed (all of them when `now` is None: at shutdown)."""
        for address in list(self._open):
            tally = self._open[address]
            if now is not None and now - tally.first_at < self._window_s:
                break  # the rest opened later
            self._emit(address, self._open.pop(address))

    def _emit(self, address: str, tally: Tally) -> None:
        self._write(
            address,
            count=tally.count,
            first=round(tally.first_at, 3),
            last=round(tally.last_at, 3),
            users=tally.users,
            why=tally.whys,
        )
