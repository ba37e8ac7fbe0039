"""A cluster node's pull deadline, as its readers see it (hub.ingest.pull_lease): none on a single node,
over at and after the deadline, by the caller's clock or the machine's monotonic one."""

from __future__ import annotations

import time

from hub.ingest.pull_lease import LEASE_OVER, STOPPED, PullLease


def test_a_single_nodes_readers_have_no_deadline():
    assert not PullLease().over(1e12)


def test_readers_may_pull_until_the_deadline_and_not_at_or_after_it():
    lease = PullLease()
    lease.until = 100.0
    assert not lease.over(99.9)
    assert lease.over(100.0) and lease.over(250.0)
    lease.until = time.monotonic() - 0.001  # by the machine's clock when no time is given
    assert lease.over()
    lease.until = time.monotonic() + 60
    assert not lease.over()


def test_a_reader_ended_by_its_lease_reads_as_the_hubs_own_stop():
    assert LEASE_OVER.startswith(STOPPED) and LEASE_OVER != STOPPED
