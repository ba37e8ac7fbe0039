"""Password hashing with Argon2id (argon2-cffi's defaults: 64 MiB, 3 passes, 4 lanes).

Who runs where: hashing and verifying cost a tenth of a second of CPU on purpose. The command line
calls these functions directly; the running hub verifies through `hub.auth.password_work`, on threads
of its own, so the event loop never waits on them.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
GENERATED_BYTES = 15  # a generated password: 20 URL-safe characters, about 120 bits
# Verified against when a login names no such user, so an unknown name costs the same time as a wrong password.
# The password it hashes was random and thrown away.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$pML9sSWbR5pSVJGwtbkcXQ$OtGR3mbHbKffVygu+dMtJaubdcv76lhqD1Tx6vA4QRA"


class WeakPassword(ValueError):
    """A password the hub refuses to set; the message says why, for a person."""


def check_strength(password: str, user: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if password.lower() == user.lower():
        raise WeakPassword("a password must not be the user name")


def generate() -> str:
    return secrets.token_urlsafe(GENERATED_BYTES)


def hash_password(password: str) -> str:
    return PasswordHasher().hash(password)


def verify(stored_hash: str, password: str) -> bool:
    """True when `password` matches; a damaged hash never matches (and never raises)."""
    try:
        return PasswordHasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
