"""Sign-in limits that hold when attempts arrive together, a bounded cost for a burst of bogus sign-ins, and
refusals counted into the audit trail instead of flooding it (issue: security hardening)."""

from __future__ import annotations

import asyncio
import collections

import aiohttp
import pytest
from support.hubrun import TEST_PASSWORD, origin, provision, running_hub

from hub.web.access import ACCESS

ESTATE = '[hub]\ntrusted_proxies = ["127.0.0.1"]\n'  # the tests speak for many addresses, as a proxy in front would


@pytest.fixture
async def hub(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(ESTATE)
    async with running_hub(path) as running:
        provision(path, "vera", "viewer", (("site", "North"),))
        yield running


async def _attempts(hub, pairs: list[tuple[str, str, str]]) -> list[tuple[int, dict, dict]]:
    """Sign-ins (user, password, client address) sent all at once; (status, body, headers) each."""
    async with aiohttp.ClientSession(headers={"Origin": origin(hub)}) as client:

        async def one(user: str, password: str, address: str):
            async with client.post(
                hub.url("/api/login"), json={"user": user, "password": password}, headers={"X-Forwarded-For": address}
            ) as reply:
                return reply.status, await reply.json(), dict(reply.headers)

        return await asyncio.gather(*(one(*pair) for pair in pairs))


async def test_thirty_guesses_at_once_for_one_user_verify_at_most_the_limit(hub):
    replies = await _attempts(hub, [("vera", f"guess {n}", f"198.51.100.{n + 1}") for n in range(30)])
    statuses = collections.Counter(status for status, _, _ in replies)
    assert statuses[401] <= 5 and statuses[429] >= 25, statuses
    replies = await _attempts(hub, [(f"name{n}", "guess", "203.0.113.7") for n in range(30)])
    statuses = collections.Counter(status for status, _, _ in replies)
    assert statuses[401] <= 5 and statuses[429] >= 25, f"one address, many names (most unknown): {statuses}"


async def test_a_burst_of_bogus_sign_ins_is_refused_beyond_a_small_queue_and_a_real_one_gets_through_after(hub):
    replies = await _attempts(hub, [(f"bot{n}", "guess", f"10.{n // 250}.{n % 250}.1") for n in range(200)])
    busy = [(body, headers) for status, body, headers in replies if status == 429]
    checked = sum(1 for status, _, _ in replies if status == 401)
    assert checked < 60 and len(busy) > 140, f"{checked} checked, {len(busy)} refused as busy"
    assert all("too many sign-ins at once" in body["error"] and int(headers["Retry-After"]) >= 1 for body, headers in busy)
    assert hub.app[ACCESS].password_work.pending == 0
    ((status, body, _),) = await _attempts(hub, [("vera", TEST_PASSWORD, "192.0.2.1")])
    assert status == 200 and body["user"] == "vera", "the hub is free again at once"


async def test_refused_sign_ins_are_one_audit_entry_per_address_with_the_count(hub):
    await _attempts(hub, [("vera", "wrong", "192.0.2.66")] * 5)  # now blocked
    replies = await _attempts(hub, [("vera", "wrong", "192.0.2.66")] * 300)
    assert {status for status, _, _ in replies} == {429}
    hub.app[ACCESS].refusals.flush()  # as at the end of the minute, or at shutdown
    async with hub.session.get(hub.url("/api/audit?action=login_refused")) as reply:
        entries = (await reply.json())["entries"]
    assert len(entries) == 1 and entries[0]["address"] == "192.0.2.66"
    assert entries[0]["detail"]["count"] == 300 and entries[0]["detail"]["users"] == ["vera"]
    async with hub.session.get(hub.url("/api/audit?action=login_failed")) as reply:
        assert len((await reply.json())["entries"]) == 5, "each checked wrong password keeps its own entry"
