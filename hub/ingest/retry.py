"""When a stream's reader connects again after a connection ended: the supervisor's retry policy.

Who runs where: pure; `hub.ingest.supervisor.StreamSupervisor` asks it on the event loop after each
connection, with the loop's clock. A tiered backoff (1, 5, 10, 30, 60 s) starts over after a healthy
run. A stream that played and was then ended by its server (VLC ends the session at every loop of its
file) is opened again at once, and for `RESUME_WINDOW_S` after, every `RESUME_RETRY_S` whatever happens
(the server may refuse while it starts over): health holds the camera's state for stall_after_s
meanwhile, so a replay is a counted reconnect, not an outage.
"""

from __future__ import annotations

from hub.ingest.observations import ENDED

BACKOFF_S = (1.0, 5.0, 10.0, 30.0, 60.0)
HEALTHY_RUN_S = 30.0  # a connection that delivered frames this long resets the backoff
RESUME_AFTER_PLAY_S = 2.0  # a stream that played this long and then ended is opened again at once
RESUME_BRIEF_EVERY_S = HEALTHY_RUN_S  # one that played less (it joined a loop near its end) once per this long
RESUME_WINDOW_S = 5.0  # and retried every RESUME_RETRY_S this long after (its server starting over)
RESUME_RETRY_S = 0.5


def backoff_delay(failures: int) -> float:
    """Delay before the next attempt after `failures` consecutive failed runs (0 -> first step)."""
    return BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]


class RetryPolicy:
    """One stream's retries: how long to wait after each connection that ended."""

    def __init__(self) -> None:
        self.failures = 0  # connections in a row that ended without a healthy run
        self._resuming_until = float("-inf")  # quick retries after a stream that played was ended
        self._brief_resumed_at = float("-inf")  # when a brief play last opened the quick retries

    def delay(self, reason: str, played_s: float | None, now: float) -> float:
        """Seconds to wait after a connection that ended for `reason`, having delivered frames for
        `played_s` (None: no frame at all). A play shorter than `RESUME_AFTER_PLAY_S` (a connection that
        joined a server's loop near its end) is reopened at once too, but only once per
        `RESUME_BRIEF_EVERY_S`: a server that ends every session after a frame or two is backed off as a
        failing one, not reopened twice a second."""
        if reason == ENDED and played_s is not None and now >= self._resuming_until:
            brief = played_s < RESUME_AFTER_PLAY_S
            if not brief or now - self._brief_resumed_at >= RESUME_BRIEF_EVERY_S:
                if brief:  # not forgiven either: its backoff goes on growing
                    self._brief_resumed_at = now
                else:
                    self.failures = 0  # it played: failures forgiven
                self._resuming_until = now + RESUME_WINDOW_S
                return 0.0
        if now < self._resuming_until:
            return RESUME_RETRY_S  # not counted: the backoff starts from its first step after the window
        healthy = played_s is not None and played_s >= HEALTHY_RUN_S
        self.failures = 0 if healthy else self.failures + 1
        return backoff_delay(0 if healthy else self.failures - 1)
