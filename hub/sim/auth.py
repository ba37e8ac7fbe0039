"""RTSP Basic and Digest authentication (RFC 2617 without qop, as IP cameras commonly do). Pure functions."""

from __future__ import annotations

import base64
import binascii
import hmac

from hub.patrol import digest_auth

REALM = "hub-sim"


def challenge_headers(nonce: str) -> list[str]:
    """WWW-Authenticate values offered on a 401: Digest first, Basic as a fallback."""
    return [f'Digest realm="{REALM}", nonce="{nonce}", algorithm="MD5"', f'Basic realm="{REALM}"']


def is_authorized(header: str | None, method: str, username: str, password: str, nonce: str) -> bool:
    """Check an Authorization header against the expected credentials."""
    if not header:
        return False
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            given = base64.b64decode(rest.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(given, f"{username}:{password}")
    if scheme.lower() != "digest":
        return False
    params = digest_auth.parameters(rest)
    if params.get("username") != username or params.get("nonce") != nonce or params.get("realm") != REALM:
        return False
    if "uri" not in params:
        return False
    expected = digest_auth.response((username, password), REALM, method, params["uri"], nonce)
    return hmac.compare_digest(params.get("response", ""), expected)
