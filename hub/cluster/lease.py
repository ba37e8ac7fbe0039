"""A node's heartbeat as the node itself sees it, by its own monotonic clock: may it still pull?

Pure; the cluster loop (event loop) feeds it the outcome of each renewal. The rule the cluster's
safety rests on: a node's heartbeat key in Redis expires `ttl_s` after Redis *received* the renewal,
and nobody may claim a camera while its holder's heartbeat lives. The node counts its own lease from
the moment it *sent* the renewal (earlier), less a margin for the two clocks' rates, so it always
stops pulling before another node could have claimed its cameras.

Two ways to miss renewals, told apart:
- the node did not run (paused by SIGSTOP, a stalled loop, a suspended VM): a gap in its own ticks.
  Its lease is over: it stops its readers at once, before it talks to Redis again;
- Redis did not answer (down, restarting): the node kept trying and every attempt failed. Nobody can
  claim anything while Redis is away, so the node keeps pulling what it holds and freezes the
  assignment (`frozen`), as the cluster's contract asks: nothing is dropped. When Redis answers
  again, a heartbeat found missing means the node must take a new epoch and claim again. Unless
  another node says it renewed its own heartbeat after this node's renewals began to fail
  (`cut_off`): then Redis is up and this node alone cannot reach it, the others will take its cameras
  when its heartbeat expires, and it stops at its deadline as if it had not run.
"""

from __future__ import annotations

from dataclasses import dataclass

RENEW_EVERY_S = 2.0  # the heartbeat is renewed about this often ...
TTL_S = 6.0  # ... and expires this long after Redis last heard it
STOP_MARGIN_S = 1.0  # the node's own deadline comes this much before the key's expiry (clock rates, jitter)
GAP_S = 2.5 * RENEW_EVERY_S  # ticks this far apart: the node was not running


@dataclass
class Lease:
    """One node's lease. `renewed(sent_at)` after each successful renewal (sent_at: the monotonic time
    the request left), `failed(at)` after each one Redis did not answer, `tick(now)` every loop."""

    ttl_s: float = TTL_S
    margin_s: float = STOP_MARGIN_S
    sent_at: float | None = None  # the last successful renewal, when it was sent
    last_tick: float | None = None
    failing_since: float | None = None  # Redis has not answered since
    lapsed: bool = False  # the node missed its lease by not running: stop, then rejoin
    cut_off: bool = False  # Redis answers other nodes, not this one: no pulling past the deadline

    def renewed(self, sent_at: float) -> None:
        self.sent_at, self.failing_since, self.cut_off = sent_at, None, False

    def peers_renewed(self, ago_s: list[float], now: float) -> bool:
        """Other nodes' last successful renewals, seconds before `now`: one after this node's renewals
        began to fail means Redis answers them and not this node (`cut_off`). Says whether it is."""
        if self.failing_since is not None and any(ago < now - self.failing_since for ago in ago_s):
            self.cut_off = True
        return self.cut_off

    def failed(self, at: float) -> None:
        if self.failing_since is None:
            self.failing_since = at

    def tick(self, now: float) -> None:
        """Note that the loop ran at `now`; a gap since the last tick past the deadline lapses the lease."""
        if self.last_tick is not None and now - self.last_tick > GAP_S and not self.within(now):
            self.lapsed = True
        self.last_tick = now

    def deadline(self) -> float | None:
        return None if self.sent_at is None else self.sent_at + self.ttl_s - self.margin_s

    def within(self, now: float) -> bool:
        deadline = self.deadline()
        return deadline is not None and now < deadline

    @property
    def frozen(self) -> bool:
        """Redis is away: keep what is held, move nothing."""
        return self.failing_since is not None

    def may_pull(self, now: float) -> bool:
        """Whether the node may keep its readers: within its lease, or past it only because Redis is
        away while the node kept running (nobody else can claim meanwhile)."""
        if self.lapsed or self.sent_at is None:
            return False
        return self.within(now) or (self.frozen and not self.cut_off)

    def rejoined(self) -> None:
        """A new epoch was taken after a lapse or a Redis restart: a clean slate."""
        self.sent_at = self.failing_since = None
        self.lapsed = self.cut_off = False
