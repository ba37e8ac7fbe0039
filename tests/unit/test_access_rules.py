"""The pure rules of access control: rights, sessions, failed-login limits, client addresses, tokens and the audit chain."""

from __future__ import annotations

import ipaddress
import os
import sqlite3
import time
from types import SimpleNamespace

import pytest
from support.hubrun import provision

from hub.auth.addresses import client_address, forwarded_https
from hub.auth.audit import AuditTrail, parse_when
from hub.auth.limits import FailureLimiter
from hub.auth.rights import Rights
from hub.auth.sessions import SessionStore
from hub.auth.tokens import TokenStore, parse_grant
from hub.auth.users import UserError, users_db_for

RETENTION_S = 180 * 86400


def cam(stream_id, category="public-security", site="North", tags=()):
    return SimpleNamespace(id=stream_id, category=category, site=site, tags=tuple(tags))


STREET, GATE = cam("ps-1", site="North", tags=["gate"]), cam("pr-1", "property", "South")
NURSERY, MARKED = cam("cc-1", "childcare", "North"), cam("ps-2", site="North", tags=["sensitive"])


def test_grants_open_streams_by_category_site_tag_or_id_and_admins_see_all():
    assert Rights("admin").may_see(NURSERY) and Rights("admin").may_see(STREET)
    assert not Rights("operator").may_see(STREET), "no grant, nothing to see"
    assert Rights("viewer", frozenset({("category", "public-security")})).may_see(STREET)
    assert Rights("viewer", frozenset({("site", "South")})).may_see(GATE)
    assert not Rights("viewer", frozenset({("site", "South")})).may_see(STREET)
    assert Rights("viewer", frozenset({("tag", "gate")})).may_see(STREET)
    assert Rights("viewer", frozenset({("stream", "pr-1")})).may_see(GATE)
    assert Rights("viewer", frozenset({("category", "*")})).may_see(GATE)


def test_sensitive_streams_need_an_explicit_grant_even_for_operators():
    broad = Rights("operator", frozenset({("category", "*"), ("site", "North")}))
    assert broad.may_see(STREET)
    assert not broad.may_see(NURSERY) and not broad.may_see(MARKED), "neither * nor a site grant opens a sensitive stream"
    assert Rights("operator", frozenset({("category", "childcare")})).may_see(NURSERY)
    assert Rights("operator", frozenset({("stream", "cc-1")})).may_see(NURSERY)
    assert Rights("operator", frozenset({("tag", "sensitive")})).may_see(MARKED)
    assert not Rights("operator", frozenset({("category", "public-security")})).may_see(MARKED)
    custom = Rights("operator", frozenset({("category", "*")}), sensitive_categories=frozenset(), sensitive_tags=frozenset())
    assert custom.may_see(NURSERY), "sensitivity comes from [access]"


def test_roles_limit_actions():
    assert Rights("viewer").can("watch") and not Rights("viewer").can("arrange")
    assert (
        Rights("operator").can("arrange") and Rights("operator").can("acknowledge") and not Rights("operator").can("administer")
    )
    assert Rights("admin").can("administer")
    assert Rights("viewer", frozenset({("site", "a")})).key != Rights("viewer", frozenset({("site", "b")})).key


def test_sessions_expire_when_idle_and_at_their_absolute_lifetime():
    now = [1000.0]
    store = SessionStore(idle_s=1800, max_s=12 * 3600, clock=lambda: now[0])
    first = store.create("alice", "10.0.0.1")
    second = store.create("alice", "10.0.0.1")
    assert first.id != second.id and first.csrf != first.id and len(first.id) >= 40
    now[0] += 1700
    assert store.get(first.id) is first, "used within the idle timeout"
    now[0] += 1801
    assert store.get(first.id) is None, "idle for more than 30 minutes"
    for _ in range(30):  # kept busy, but 12 hours is the most any session lives
        now[0] += 1500
        store.get(second.id)
    assert store.get(second.id) is None
    assert store.get("made-up") is None and store.get(None) is None
    third = store.create("bob", "x")
    assert (
        store.drop_user("bob", "user deleted") == 1
        and store.get(third.id) is None
        and store.why_ended(third.id) == "user deleted"
    )


def test_a_tokens_reason_lasts_a_sessions_absolute_lifetime_from_its_last_giving():
    now = [1000.0]
    store = SessionStore(idle_s=1800, max_s=12 * 3600, clock=lambda: now[0])
    store.open_token("token:t1", "cc-1")
    assert store.token_open("token:t1", "cc-1") and not store.token_open("token:t1", "cc-2")
    assert not store.token_open("token:t2", "cc-1")
    now[0] += 11 * 3600
    store.token_opened_elsewhere("token:t1", "cc-1", now[0] - 3600)  # given again on another node an hour ago
    store.token_opened_elsewhere("token:t1", "cc-1", 0.0)  # an older giving heard late changes nothing
    now[0] += 10 * 3600
    assert store.token_open("token:t1", "cc-1"), "11 hours after it was given again"
    now[0] += 2 * 3600
    assert not store.token_open("token:t1", "cc-1"), "past 12 hours"


def test_failed_logins_are_limited_per_minute_and_per_hour():
    now = [0.0]
    limiter = FailureLimiter(clock=lambda: now[0])
    for _ in range(5):
        assert limiter.wait_s("user:alice") == 0
        limiter.fail("user:alice")
    assert 59 <= limiter.wait_s("user:alice") <= 60
    assert limiter.wait_s("user:bob") == 0, "other keys are untouched"
    now[0] += 61
    assert limiter.wait_s("user:alice") == 0
    for _ in range(15):
        now[0] += 13  # 5 a minute at most: never over the minute limit
        limiter.fail("user:alice")
    assert limiter.wait_s("user:alice") > 3000, "20 failures within the hour"


def test_x_forwarded_for_counts_only_from_trusted_proxies():
    proxies = (ipaddress.ip_network("10.0.0.5/32"), ipaddress.ip_network("10.1.0.0/16"))
    assert client_address("203.0.113.9", "1.2.3.4", proxies) == "203.0.113.9", "an untrusted peer cannot claim an address"
    assert client_address("10.0.0.5", "198.51.100.7", proxies) == "198.51.100.7"
    assert client_address("10.0.0.5", "6.6.6.6, 198.51.100.7, 10.1.2.3", proxies) == "198.51.100.7", (
        "read from the right: the client cannot prepend its way past the proxies"
    )
    assert client_address("10.0.0.5", "not-an-ip", proxies) == "10.0.0.5"
    assert client_address("10.0.0.5", None, proxies) == "10.0.0.5"
    assert forwarded_https("10.0.0.5", "https", proxies) and not forwarded_https("203.0.113.9", "https", proxies)


def test_tokens_are_stored_hashed_and_revocable(tmp_path):
    path = tmp_path / "t.sqlite"
    with TokenStore(path) as tokens:
        token, text = tokens.create("prometheus", "viewer", [parse_grant("category=*")], "admin")
        assert text.startswith("hub_") and tokens.find(text).role == "viewer"
        assert tokens.find(text[:-1] + ("A" if text[-1] != "A" else "B")) is None, "a wrong secret finds nothing"
        assert tokens.find("hub_nonsense") is None and tokens.find("Bearer x") is None
        assert tokens.revoke(token.id) and tokens.find(text) is None and not tokens.revoke(token.id)
    assert text.split("_", 2)[2].encode() not in path.read_bytes(), "the secret is never stored"
    with pytest.raises(UserError):
        parse_grant("colour=blue")


def test_the_audit_chain_reveals_edits_and_deletions(tmp_path):
    path = tmp_path / "a.sqlite"
    with AuditTrail(path) as audit:
        for n in range(6):
            audit.append("alice", "snapshot", f"ps-{n}", "10.0.0.1", n=n)
        whole, finding, head = audit.verify(RETENTION_S)
        assert whole and head[0] == 6, finding
    raw = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE audit SET who = 'mallory' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM audit WHERE seq = 3")
    raw.execute("DROP TRIGGER audit_no_update")  # somebody with the file in hand
    raw.execute("UPDATE audit SET who = 'mallory' WHERE seq = 2")
    raw.commit()
    with AuditTrail(path) as audit:
        whole, finding, _ = audit.verify(RETENTION_S)
        assert not whole and "entry 2 was changed" in finding
    raw.execute("DROP TRIGGER audit_no_update")  # the hub put its triggers back when it opened the trail
    raw.execute("UPDATE audit SET who = 'alice' WHERE seq = 2")
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit WHERE seq = 4")
    raw.commit()
    with AuditTrail(path) as audit:
        whole, finding, _ = audit.verify(RETENTION_S)
        assert not whole and "entry 4 is missing" in finding


def test_retention_cuts_the_oldest_and_the_chain_stays_whole(tmp_path):
    with AuditTrail(tmp_path / "a.sqlite") as audit:
        for _n in range(4):
            audit.append("bob", "login")
        assert audit.prune(older_than_s=-1) == 4, "everything is older than 'one second in the future'"
        audit.append("bob", "logout")
        whole, finding, head = audit.verify(retention_s=-1)  # the retention the cut was made with
        assert whole and head[0] == 6, finding
        assert [e.action for e in audit.entries()] == ["logout", "audit_pruned"], "the cut is in the chain"
        assert not audit.verify(RETENTION_S)[0], "a cut of entries younger than the retention is no retention cut"


def test_times_for_filters_are_epoch_or_iso():
    assert parse_when("1700000000") == 1700000000.0
    assert parse_when("2026-11-26T00:00:00Z") == parse_when("2026-11-26")
    for bad in ("yesterday", "nan", "inf"):
        with pytest.raises(ValueError):
            parse_when(bad)


def test_an_attempt_is_booked_before_its_check_and_given_back_when_right():
    now = [0.0]
    limiter = FailureLimiter(clock=lambda: now[0])
    bookings = [limiter.reserve("user:alice", "address:a")[1] for _ in range(5)]
    assert all(bookings), "five attempts may be under way at once"
    wait, refused = limiter.reserve("user:alice", "address:b")
    assert refused is None and wait > 0, "a sixth is refused while five are unchecked: the burst cannot overtake the limit"
    assert limiter.reserve("user:bob", "address:a")[1] is None, "the address is at its limit too"
    limiter.release(bookings[0])  # the first one's password was right
    assert limiter.reserve("user:alice", "address:c")[1] is not None, "a right password gives its booking back"


def test_an_open_connection_ends_when_its_session_expires_or_its_token_is_revoked(tmp_path):
    from hub.auth.service import AccessService
    from hub.config.access import AccessSettings
    from hub.web.connections import GONE, OpenConnections

    config = tmp_path / "streams.toml"
    token_text = provision(config, "vera", "viewer", (("site", "North"),))
    service = AccessService(config, AccessSettings())
    start = time.time() + 1  # after the user's password was set
    now = [start]
    service.sessions = SessionStore(idle_s=60, max_s=3600, clock=lambda: now[0])
    try:
        session = service.sessions.create("vera", "10.0.0.1")
        connections = OpenConnections(service)
        narrowed = []
        by_session = connections.open(service.from_session(session.id), "live", narrowed.append)
        by_token = connections.open(service.from_token(token_text), "events", narrowed.append)
        now[0] += 59
        connections.recheck()
        assert not by_session.ended.is_set() and service.sessions.peek(session.id).seen_at == start, (
            "checking a connection is not a person's use: the idle clock keeps running"
        )
        now[0] += 2
        connections.recheck()
        assert (by_session.code, by_session.why) == (GONE, "session expired")
        with TokenStore(users_db_for(config)) as tokens:
            tokens.revoke(token_text.split("_")[1])
        connections.recheck()
        assert (by_token.code, by_token.why) == (GONE, "token revoked") and narrowed == []
    finally:
        service.close()


def test_a_save_keeps_the_cameras_hidden_from_whoever_saves():
    from hub.web.layouts import merge_hidden

    mine = {"a", "b", "c"}
    old = {"size": 4, "tiles": ["a", "X", None, "Y"], "tour_s": None}  # X and Y hidden from the caller
    assert merge_hidden({"size": 4, "tiles": ["c", None, "b", None], "tour_s": None}, old, mine)["tiles"] == ["c", "X", "b", "Y"]
    assert merge_hidden({"size": 4, "tiles": ["a", "b", None, None], "tour_s": None}, old, mine)["tiles"] == [
        "a",
        "b",
        "X",
        "Y",
    ], "a tile the caller filled moves its hidden camera to the first empty one"
    grown = merge_hidden({"size": 1, "tiles": ["a"], "tour_s": 10}, old, mine)
    assert grown == {"size": 4, "tiles": ["a", "X", "Y", None], "tour_s": 10}, "no room: the next size up"
    assert merge_hidden({"size": 1, "tiles": ["b"], "tour_s": None}, None, mine)["tiles"] == ["b"]


def test_every_file_the_hub_keeps_is_its_owner_s_only_whatever_the_umask(tmp_path):
    from hub.diagnostics.store import DiagnosticsStore
    from hub.safe.files import private_dir
    from hub.web.layouts import LayoutStore

    old = os.umask(0)  # the worst case: everything created readable and writable by all
    try:
        stores = [AuditTrail(tmp_path / "a.sqlite"), TokenStore(tmp_path / "u.sqlite"), DiagnosticsStore(tmp_path / "d.sqlite")]
        stores[0].append("alice", "login")
        stores[1].create("prometheus", "viewer", [], "admin")
        LayoutStore(tmp_path / "state" / "layouts.json").save({"wall": {"size": 1, "tiles": [None]}})
        private_dir(tmp_path / "demo-state")
        kept = sorted(p for p in tmp_path.rglob("*") if p.is_file())
        assert {p.name for p in kept} >= {"a.sqlite-wal", "a.sqlite-shm", "u.sqlite-wal", "d.sqlite", "layouts.json"}
        assert {p.name: oct(p.stat().st_mode & 0o777) for p in kept} == {p.name: "0o600" for p in kept}
        assert (
            oct((tmp_path / "state").stat().st_mode & 0o777) == oct((tmp_path / "demo-state").stat().st_mode & 0o777) == "0o700"
        )
        for store in stores:
            store.close()
    finally:
        os.umask(old)
