"""Keep credentials out of everything a person can read: API, UI, logs, metrics, errors.

A URL's user information runs from `scheme://` to the *last* `@` before the host, and a password
may itself hold `@` (`rtsp://u:Ab@Secret@host/` has the password `Ab@Secret`), or, typed by a person
rather than percent-encoded, `/`, `?` or `#`. So everything from `://` to the last `@` of the URL (up
to the next white space) is hidden. A URL with an `@` in its path loses its host too: when in doubt,
more is hidden, never less.
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>\S*@)")


def redact_url(url: str) -> str:
    """`rtsp://user:pass@host/path` -> `rtsp://***@host/path`; URLs without credentials are unchanged."""
    return _USERINFO.sub(lambda m: m.group("scheme") + "***@", url)


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Redact URLs in free text (an FFmpeg error, say) and any known secret that is left."""
    text = redact_url(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
