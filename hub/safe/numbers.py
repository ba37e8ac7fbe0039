"""Numbers from text that people or clients send: ASCII digits only, everywhere.

Pure; called wherever a number arrives as text (query strings, config values, command-line
arguments, protocol headers). `str.isdigit()` is true of "²" and "٣" too, and `int()` refuses the
first and accepts the second: a check with one and a parse with the other turned a request for
`?width=²` into a 500. Here both sides agree.
"""

from __future__ import annotations

import math

MAX_DIGITS = 18


def ascii_int(text: str | None) -> int | None:
    """`text` as a whole number if it is 1 to 18 ASCII digits (no sign, no space), else None."""
    if not text or len(text) > MAX_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def ascii_float(text: str | None) -> float | None:
    """`text` as a finite number if it is written in ASCII (`-12.5`, `1e3`), else None; `float()` alone also
    takes "٣" and "1_000", and "nan" and "inf"."""
    if not text or len(text) > 64 or not text.isascii() or "_" in text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
