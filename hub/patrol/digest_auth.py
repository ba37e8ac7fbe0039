"""HTTP/RTSP Digest authentication arithmetic (RFC 2617, MD5), shared by the simulator (which checks
answers) and the probe (which gives them). Pure functions."""

from __future__ import annotations

import hashlib
import re

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


def parameters(text: str) -> dict[str, str]:
    """`realm="x", nonce="y", qop=auth` -> {"realm": "x", "nonce": "y", "qop": "auth"} (names lower-cased)."""
    return {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM.finditer(text)}


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def response(
    credentials: tuple[str, str], realm: str, method: str, uri: str, nonce: str, qop: tuple[str, str] | None = None
) -> str:
    """The `response` value for (username, password); `qop` = (nc, cnonce) for qop="auth", None without qop."""
    username, password = credentials
    ha1, ha2 = md5_hex(f"{username}:{realm}:{password}"), md5_hex(f"{method}:{uri}")
    if qop is None:
        return md5_hex(f"{ha1}:{nonce}:{ha2}")
    nc, cnonce = qop
    return md5_hex(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
