"""RTSP Basic and Digest authentication (RFC 2617 without qop, as IP cameras commonly do). Pure functions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

REALM = "hub-sim"
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


def challenge_headers(nonce: str) -> list[str]:
    """WWW-Authenticate values offered on a 401: Digest first, Basic as a fallback."""
    return [f'Digest realm="{REALM}", nonce="{nonce}", algorithm="MD5"', f'Basic realm="{REALM}"']


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


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
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM.finditer(rest)}
    if params.get("username") != username or params.get("nonce") != nonce or params.get("realm") != REALM:
        return False
    if "uri" not in params:
        return False
    ha1 = _md5(f"{username}:{REALM}:{password}")
    ha2 = _md5(f"{method}:{params['uri']}")
    expected = _md5(f"{ha1}:{nonce}:{ha2}")
    return hmac.compare_digest(params.get("response", ""), expected)
