"""Sign-in limits that hold when attempts arrive together, a bounded cost for a burst of bogus sign-ins, and
refusals counted into the audit trail instead of flooding it (issue: security hardening)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from hub.auth import passwords
from hub.auth.password_work import PasswordBusy, PasswordWork
from hub.auth.refusals import RefusalSummary


async def test_password_checks_run_on_their_own_thread_and_refuse_beyond_their_queue():
    work = PasswordWork(workers=1, queue=1)
    stored = passwords.hash_password("a long enough password")
    try:
        first = asyncio.ensure_future(work.verify(stored, "a long enough password"))
        second = asyncio.ensure_future(work.verify(stored, "wrong"))
        await asyncio.sleep(0)
        with pytest.raises(PasswordBusy) as busy:
            await work.verify(stored, "a third at once")
        assert busy.value.retry_after_s >= 1
        assert await first is True and await second is False
        assert any(t.name.startswith("password") for t in threading.enumerate()), "not the loop's default pool"
    finally:
        work.close()


def test_refusals_are_written_once_a_window_per_address():
    now = [0.0]
    written = []
    summary = RefusalSummary(lambda address, **detail: written.append((address, detail)), window_s=60, clock=lambda: now[0])
    for n in range(2000):
        summary.refused("192.0.2.1", f"user{n % 7}", "too many failed sign-ins")
    summary.refused("192.0.2.2", "bob", "busy")
    assert written == [], "nothing while the minute is open"
    now[0] = 61
    summary.refused("192.0.2.1", "user0", "too many failed sign-ins")
    assert [(a, d["count"]) for a, d in written] == [("192.0.2.1", 2000), ("192.0.2.2", 1)]
    assert len(written[0][1]["users"]) == 5, "a few names, the count covers all"
    summary.flush()
    assert written[-1][1]["count"] == 1
