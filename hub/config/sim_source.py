"""What a `sim://` source and a simulator `fault` may say: scenes, sizes, codecs, faults and their strengths.

Pure; the config parser (`hub.config.load`) validates with it, and the simulator (`hub.sim`) renders what
it describes. The vocabulary lives here, with the config that uses it, so the config never imports the
simulator: `hub.sim.scenes` draws exactly `SCENES` (a test checks), and `hub.sim.picture_faults`
renders exactly `PICTURE_FAULT_STRENGTHS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from hub.config.checks import Checker
from hub.safe.numbers import ascii_int

FAULTS = ("stall", "drop", "freeze", "black", "lowfps", "auth", "notfound")
SCENES = ("street", "gate", "room", "road", "bars", "night", "rain", "office", "traffic", "clock")
CODECS = ("h264", "h265")
# picture fault -> (default strength, lowest, highest); `hub.sim.picture_faults` says what each strength means
PICTURE_FAULT_STRENGTHS = {
    "blur": (3.0, 0.5, 20.0),
    "dark": (10.0, 1.5, 50.0),
    "overexposed": (5.0, 1.2, 20.0),
    "lowcontrast": (0.25, 0.02, 0.9),
    "cover": (1.0, 0.1, 1.0),
    "moved": (15.0, 2.0, 50.0),
    "colorcast": (60.0, 10.0, 200.0),
    "ircut": (1.0, 0.0, 1e9),
    "noise": (12.0, 1.0, 60.0),
    "stripes": (25.0, 2.0, 120.0),
    "mosaic": (16.0, 4.0, 64.0),
}
PICTURE_FAULTS = tuple(PICTURE_FAULT_STRENGTHS)

_FAULT = re.compile(r"^(?P<kind>[a-z]+)(?::(?P<strength>\d+(?:\.\d+)?))?(?:@(?P<after>\d+(?:\.\d+)?)s)?$", re.ASCII)
_SIZE = re.compile(r"^(\d{2,4})x(\d{2,4})$", re.ASCII)


@dataclass(frozen=True)
class Fault:
    kind: str
    after_s: float = 0.0
    strength: float | None = None  # picture faults only (hub.sim.picture_faults): blur:3 is sigma 3

    @property
    def name(self) -> str:
        """The fault without its delay: `freeze`, `blur:3`."""
        return self.kind if self.strength is None else f"{self.kind}:{self.strength:g}"

    def __str__(self) -> str:
        return f"{self.name}@{self.after_s:g}s" if self.after_s else self.name


@dataclass(frozen=True)
class SimSource:
    """A `sim://[user:pass@]scene?size=WxH&fps=N&codec=h264` source."""

    scene: str
    width: int = 640
    height: int = 360
    fps: int = 25
    codec: str = "h264"
    sub_width: int = 0  # `&sub=WxH`: the simulator also serves rtsp://<sim>/<id>/sub at this size
    sub_height: int = 0
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)


def strength_problem(kind: str, strength: float) -> str:
    """Why a strength is refused for picture fault `kind`, or ""."""
    _, low, high = PICTURE_FAULT_STRENGTHS[kind]
    return "" if low <= strength <= high else f"{kind} strength must be from {low:g} to {high:g}"


def sim_source(url: str, check: Checker) -> SimSource | None:
    parts = urlsplit(url)
    scene = parts.hostname or ""
    ok = True
    if scene not in SCENES:
        check.add("url", f"unknown sim scene {scene!r}: expected one of {', '.join(SCENES)}")
        ok = False
    values: dict = {"width": 640, "height": 360, "fps": 25, "codec": "h264"}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        ok = _sim_query(key, value, values, check) and ok
    if not ok:
        return None
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    return SimSource(scene, username=user, password=password, **values)


def _sim_query(key: str, value: str, values: dict, check: Checker) -> bool:
    if key == "size" and (m := _SIZE.match(value)) and all(16 <= int(v) <= 3840 and int(v) % 2 == 0 for v in m.groups()):
        values["width"], values["height"] = int(m.group(1)), int(m.group(2))
    elif key == "sub" and (m := _SIZE.match(value)) and all(16 <= int(v) <= 3840 and int(v) % 2 == 0 for v in m.groups()):
        values["sub_width"], values["sub_height"] = int(m.group(1)), int(m.group(2))
    elif key == "fps" and ascii_int(value) is not None and 1 <= int(value) <= 60:
        values["fps"] = int(value)
    elif key == "codec" and value in CODECS:
        values["codec"] = value
    elif key in ("size", "sub", "fps", "codec"):
        even = "WIDTHxHEIGHT with even numbers from 16 to 3840"
        expected = {"size": even, "sub": even, "fps": "an integer from 1 to 60", "codec": "h264 or h265"}
        check.add("url", f"sim query {key}={value!r} is not valid: expected {expected[key]}")
        return False
    else:
        check.add("url", f"unknown sim query key {key!r}: expected size, sub, fps, codec")
        return False
    return True


def parse_fault(text: str) -> Fault | None:
    """'freeze@30s' -> Fault('freeze', 30.0); 'blur:3@10s' -> Fault('blur', 10.0, 3.0) (a picture fault at
    strength 3, its default when none is given); None if not valid."""
    match = _FAULT.match(text.strip())
    if not match:
        return None
    kind, strength, after = match.group("kind"), match.group("strength"), float(match.group("after") or 0)
    if kind in FAULTS and strength is None:
        return Fault(kind, after)
    if kind not in PICTURE_FAULTS:
        return None
    value = float(strength) if strength is not None else PICTURE_FAULT_STRENGTHS[kind][0]
    return None if strength_problem(kind, value) else Fault(kind, after, value)
