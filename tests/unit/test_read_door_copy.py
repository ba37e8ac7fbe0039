"""The read door's copy of the index (hub.web.reads): batches carry what changed, and the door's answers
are byte for byte the hub's; its credentials follow the users' database and the hub's sessions."""

from __future__ import annotations

import time

from hub.auth import passwords
from hub.auth.rights import Rights
from hub.auth.tokens import TokenStore
from hub.auth.users import UserStore, users_db_for
from hub.config.access import AccessSettings
from hub.index import Index, StreamRecord
from hub.web.reads.answers import DoorIndex
from hub.web.reads.copier import RecordCopier
from hub.web.reads.credentials import DoorCredentials
from hub.web.stream_list import StreamLists

ADMIN = Rights("admin")
GUARD = Rights("operator", frozenset({("category", "property")}))


def estate(count: int) -> Index:
    index = Index()
    for i in range(count):
        category = "property" if i % 3 else "childcare"
        index.records[f"c{i:04d}"] = StreamRecord(f"c{i:04d}", f"Cam {i}", category, "north", ("gate",), (31.7, 117.3), 25.0)
    return index


async def _copy(copier: RecordCopier, door: DoorIndex) -> tuple:
    batch = await copier.batch()
    door.apply(*batch)
    return batch


async def test_the_door_lists_what_the_hub_lists_byte_for_byte():
    index, door = estate(450), DoorIndex()
    copier = RecordCopier(index)
    changed, removed, order = await _copy(copier, door)
    assert len(changed) == 450 and removed == [] and order is not None
    hub_lists = StreamLists(index)
    for rights in (ADMIN, GUARD):
        for filters in ((None, None, None), ("property", None, None), (None, "connecting", "cam 1")):
            assert door.listing(rights, *filters) == await hub_lists.body(rights, *filters)
    assert door.record(GUARD, "c0001") == index.records["c0001"].json_bytes()
    assert door.record(GUARD, "c0000") is None, "childcare is not the guard's: the hub's 404"
    assert door.record(ADMIN, "nope") is None


async def test_a_batch_carries_only_what_changed_and_the_door_follows_removals_and_order():
    index, door = estate(10), DoorIndex()
    copier = RecordCopier(index)
    await _copy(copier, door)
    assert await copier.batch() == ([], [], None), "nothing changed: an empty batch"
    index.records["c0003"].state = "offline"
    del index.records["c0005"]
    changed, removed, order = await _copy(copier, door)
    assert [r.id for r in changed] == ["c0003"] and removed == ["c0005"] and order is not None
    before = door.listing(ADMIN, None, None, None)
    assert b'"offline"' in before and b"c0005" not in before
    assert list(door.records) == list(index.records)


def test_door_credentials_follow_the_database_and_the_hub_s_sessions(tmp_path):
    config = tmp_path / "hub.toml"
    with UserStore(users_db_for(config)) as users:
        users.add("vera", "operator", passwords.hash_password("a-long-password-1"))
        users.grant("vera", "category", "property")
    with TokenStore(users_db_for(config)) as tokens:
        _, secret = tokens.create("scraper", "viewer", [("category", "property")], "test")
    credentials = DoorCredentials(users_db_for(config), AccessSettings())
    try:
        caller = credentials.caller(secret, None)
        assert caller is not None and caller.rights.role == "viewer" and caller.token_id is not None
        assert credentials.caller("hub_nope_nope", None) is None
        now = time.time() + 120  # the session began after the user was made
        credentials.follow({"s1": ("vera", now - 60, now - 30)}, idle_s=600, max_s=3600, settings=AccessSettings())
        vera = credentials.caller(None, "s1", now)
        assert vera is not None and vera.rights.grants == frozenset({("category", "property")})
        assert credentials.used["s1"] == now, "the hub hears that the session was used"
        assert credentials.caller(None, "s1", now + 601) is None, "idle too long by the door's clock"
        assert credentials.caller(None, "s2", now) is None, "a session the hub never sent"
        with TokenStore(users_db_for(config)) as tokens:
            tokens.revoke(caller.token_id)
        with UserStore(users_db_for(config)) as users:
            users.set_password("vera", passwords.hash_password("another-password-2"))
            users._db.execute("UPDATE users SET password_changed_at = ? WHERE name = ?", (now, "vera"))
        assert credentials.caller(secret, None) is None, "revoked in the database: refused at once"
        assert credentials.caller(None, "s1", now + 1) is None, "a password changed since the session began"
    finally:
        credentials.close()
