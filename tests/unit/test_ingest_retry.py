"""The reader's retry policy: a server looping a file is reopened within health's stall grace whatever
part of its loop a connection saw; a failing camera is backed off; a server that ends every session
after a frame is not reopened twice a second."""

from __future__ import annotations

from hub.ingest.observations import ENDED, UNREACHABLE
from hub.ingest.retry import BACKOFF_S, RESUME_RETRY_S, RetryPolicy

STALL_AFTER_S = 5.0  # health's default grace: a reopening must come well within it


def test_a_connection_that_joined_a_loop_near_its_end_is_reopened_at_once_and_its_quick_end_too():
    # VLC's broadcast: the hub joined 1 s before the loop's end, and the next session ended before the
    # new loop began (no frame). Both retries come within the grace (the old rule waited 1 s, then 5 s).
    retries = RetryPolicy()
    assert retries.delay(ENDED, 1.0, now=100.0) == 0.0
    assert retries.delay(ENDED, None, now=100.2) == RESUME_RETRY_S
    assert retries.delay(ENDED, 5.5, now=106.0) == 0.0  # the next whole loop
    assert retries.delay(ENDED, 0.3, now=106.4) == RESUME_RETRY_S
    assert retries.failures == 0


def test_a_server_that_ends_every_session_after_a_frame_is_backed_off():
    retries = RetryPolicy()
    now, delays = 0.0, []
    while now < 600:  # ten minutes of sessions that each play 0.1 s (0.2 s with the connection)
        delay = retries.delay(ENDED, 0.1, now)
        delays.append(delay)
        now += delay + 0.2
    # one quick resumption at most every RESUME_BRIEF_EVERY_S with its window of retries, else the
    # ordinary backoff, growing to its longest step
    assert delays[0] == 0.0
    assert BACKOFF_S[-1] in delays
    assert len(delays) < 120, f"reopened {len(delays)} times in ten minutes"


def test_failures_back_off_step_by_step_and_a_healthy_run_starts_over():
    retries = RetryPolicy()
    assert [retries.delay(UNREACHABLE, None, float(t)) for t in range(6)] == [*BACKOFF_S, BACKOFF_S[-1]]
    assert retries.delay(ENDED, None, 10.0) == BACKOFF_S[-1]  # ended at once, never played: a failure
    assert retries.delay(UNREACHABLE, 45.0, 100.0) == BACKOFF_S[0]  # it played 45 s before it failed


def test_a_whole_loop_is_reopened_at_once_every_time():
    retries = RetryPolicy()
    for loop in range(20):
        assert retries.delay(ENDED, 5.8, now=loop * 6.0) == 0.0
    assert STALL_AFTER_S > RESUME_RETRY_S
