"""Accounts a hub needs before anybody can sign in: the first admin, and the demo's login and vehicle token.

Who runs where: `hub serve` and `hub demo`, once, before the web app starts (Argon2 hashing is
slow on purpose; nothing else runs yet). Passwords are printed to the terminal once, never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hub.auth import passwords
from hub.auth.audit import AuditTrail, audit_db_for
from hub.auth.tokens import TokenStore
from hub.auth.users import UserStore, users_db_for

FIRST_ADMIN = "admin"
DEMO_USER = "demo"
DEMO_VEHICLES = "demo-vehicles"


def first_admin(config_path: Path, may_found: Callable[[], bool] | None = None) -> str | None:
    """With no users yet, create `admin` with a random password and return it (else None). A cluster
    node passes `may_found`: whether the cluster has no accounts yet and this node is the one to make them."""
    with UserStore(users_db_for(config_path)) as users:
        if users.count() or (may_found is not None and not may_found()):
            return None
        password = passwords.generate()
        users.add(FIRST_ADMIN, "admin", passwords.hash_password(password))
    with AuditTrail(audit_db_for(config_path)) as audit:
        audit.append("hub", "user_add", "", "local", user=FIRST_ADMIN, role="admin", why="first start")
    return password


def demo_login(config_path: Path) -> str:
    """The demo's admin `demo` gets a fresh random password at every `hub demo`; returns it."""
    password = passwords.generate()
    with UserStore(users_db_for(config_path)) as users:
        if users.get(DEMO_USER) is None:
            users.add(DEMO_USER, "admin", passwords.hash_password(password))
        else:
            users.set_password(DEMO_USER, passwords.hash_password(password))
    return password


def demo_vehicle_token(config_path: Path) -> str:
    """A token for the demo's simulated vehicles to report positions; the previous demo's is revoked."""
    with TokenStore(users_db_for(config_path)) as tokens:
        for token in tokens.tokens():
            if token.name == DEMO_VEHICLES and token.revoked_at is None:
                tokens.revoke(token.id)
        _, text = tokens.create(DEMO_VEHICLES, "operator", [("category", "vehicle")], "hub demo")
    return text
