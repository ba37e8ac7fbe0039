"""Numbers from text that people or clients send: ASCII digits only, everywhere.

Pure; called wherever a number arrives as text (query strings, config values, command-line
arguments, protocol headers). `str.isdigit()` is true of "²" and "٣" too, and `int()` refuses the
first and accepts the second: a check with one and a parse with the other turned a request for
`?width=²` into a 500. Here both sides agree.
"""

from __future__ import annotations

MAX_DIGITS = 18


def ascii_int(text: str | None) -> int | None:
    """`text` as a whole number if it is 1 to 18 ASCII digits (no sign, no space), else None."""
    if not text or len(text) > MAX_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)
