"""Accounts: Argon2id hashes, the SQLite user store and `hub user ...` (issue: access control and audit)."""

from __future__ import annotations

import sqlite3

import pytest

from hub.auth import passwords
from hub.auth.users import UserError, UserStore, users_db_for
from hub.cli import main


def test_passwords_are_stored_as_argon2id_hashes_that_verify():
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert passwords.verify(stored, "correct horse battery")
    assert not passwords.verify(stored, "correct horse battery!")
    assert not passwords.verify("not a hash", "anything"), "a damaged hash never matches and never raises"
    with pytest.raises(passwords.WeakPassword):
        passwords.check_strength("short", "alice")
    with pytest.raises(passwords.WeakPassword):
        passwords.check_strength("Alice.Smith", "alice.smith")
    assert len({passwords.generate() for _ in range(50)}) == 50


def test_the_store_keeps_users_and_rights_and_refuses_bad_requests(tmp_path):
    path = users_db_for(tmp_path / "streams.toml")
    assert path.name == "streams.users.sqlite"
    with UserStore(path) as store:
        store.add("admin", "admin", passwords.hash_password("first admin pass"))
        store.add("alice", "operator", passwords.hash_password("alice's password"))
        store.grant("alice", "site", "Fangxing-3")
        store.grant("alice", "category", "childcare")
        store.grant("alice", "site", "Fangxing-3")  # twice is once
        for bad in [
            lambda: store.add("alice", "viewer", "h"),
            lambda: store.add("Bad Name", "viewer", "h"),
            lambda: store.add("bob", "superuser", "h"),
            lambda: store.grant("alice", "planet", "x"),
            lambda: store.grant("nobody", "site", "x"),
            lambda: store.delete("admin"),
            lambda: store.set_role("admin", "viewer"),
        ]:
            with pytest.raises(UserError):
                bad()
    with UserStore(path) as store:  # kept across opens
        alice = store.get("alice")
        assert alice.role == "operator" and alice.grants == (("category", "childcare"), ("site", "Fangxing-3"))
        assert store.revoke("alice", "category", "childcare") and not store.revoke("alice", "category", "childcare")
        store.delete("alice")
        assert store.get("alice") is None and [u.name for u in store.users()] == ["admin"]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM grants").fetchone()[0] == 0, "a deleted user's rights go with it"
    assert path.stat().st_mode & 0o077 == 0, "only the hub's own account may read the database"


def test_hub_user_commands(tmp_path, capsys, monkeypatch):
    config = str(tmp_path / "streams.toml")
    assert main(["user", "--config", config, "add", "root", "--role", "admin"]) == 0
    out = capsys.readouterr().out
    generated = out.split("shown once, not stored): ")[1].strip()
    monkeypatch.setenv("OPERATOR_PASSWORD", "a fine long password")
    assert main(["user", "--config", config, "add", "op", "--role", "operator", "--password-env", "OPERATOR_PASSWORD"]) == 0
    assert "a fine long password" not in capsys.readouterr().out, "a given password is never echoed"
    assert main(["user", "grant", "op", "tag=gate", "--config", config]) == 0  # --config after the action works too
    capsys.readouterr()
    assert main(["user", "--config", config, "list"]) == 0
    listing = capsys.readouterr().out
    assert "root\tadmin\t-" in listing and "op\toperator\ttag=gate" in listing, "rights shown as they are written"
    assert generated not in listing and "argon2" not in listing, "no password or hash is ever shown"
    monkeypatch.setenv("WEAK", "short")
    assert main(["user", "--config", config, "passwd", "op", "--password-env", "WEAK"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert main(["user", "--config", config, "del", "root"]) == 1
    assert "last admin" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # one way to write a right, for users as for tokens: KIND=VALUE
        main(["--config", config, "user", "grant", "op", "site", "North"])
    assert refused.value.code == 2 and "write KIND=VALUE" in capsys.readouterr().err
    assert main(["user", "add", "guard", "--grant", "site=North", "--grant", "category=property", "--config", config]) == 0
    assert "may watch site=North, category=property" in capsys.readouterr().out, "users take rights as tokens do"
    with UserStore(users_db_for(tmp_path / "streams.toml")) as store:
        assert store.get("guard").grants == (("category", "property"), ("site", "North"))
        assert passwords.verify(store.get("root").password_hash, generated)
        assert passwords.verify(store.get("op").password_hash, "a fine long password")
