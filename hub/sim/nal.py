"""Pure byte helpers for H.264 / H.265 elementary streams and their RTP payloads.

No I/O here: Annex B splitting, parameter-set extraction, and packetisation of
NAL units into RTP payloads per RFC 6184 (H.264: single NAL unit and FU-A) and
RFC 7798 (H.265: single NAL unit and FU).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

H264 = "h264"
H265 = "h265"

# Largest RTP payload we emit; keeps packets under a 1500-byte Ethernet MTU
# with IP, UDP and RTP headers on top.
MAX_PAYLOAD = 1400

_H264_PARAMETER_SETS = {7, 8}  # SPS, PPS
_H264_DROPPED = {9}  # access unit delimiter: useless over RTP
_H265_PARAMETER_SETS = {32, 33, 34}  # VPS, SPS, PPS
_H265_DROPPED = {35}  # access unit delimiter


def split_annexb(data: bytes) -> list[bytes]:
    """Split an Annex B byte stream into NAL units (start codes removed)."""
    units: list[bytes] = []
    start = _next_start(data, 0)
    while start is not None:
        begin = start[1]
        following = _next_start(data, begin)
        end = following[0] if following else len(data)
        unit = data[begin:end].rstrip(b"\x00") if following else data[begin:end]
        if unit:
            units.append(unit)
        start = following
    return units


def _next_start(data: bytes, offset: int) -> tuple[int, int] | None:
    """Return (start code position, payload position) of the next start code."""
    pos = data.find(b"\x00\x00\x01", offset)
    if pos < 0:
        return None
    code_start = pos - 1 if pos > 0 and data[pos - 1] == 0 else pos
    return max(code_start, offset), pos + 3


def nal_type(codec: str, unit: bytes) -> int:
    """The NAL unit type of one unit."""
    if codec == H264:
        return unit[0] & 0x1F
    return (unit[0] >> 1) & 0x3F


def is_parameter_set(codec: str, unit: bytes) -> bool:
    kinds = _H264_PARAMETER_SETS if codec == H264 else _H265_PARAMETER_SETS
    return nal_type(codec, unit) in kinds


def is_dropped(codec: str, unit: bytes) -> bool:
    kinds = _H264_DROPPED if codec == H264 else _H265_DROPPED
    return nal_type(codec, unit) in kinds


@dataclass(frozen=True)
class ParameterSets:
    """The parameter sets of a stream, in decoding order (VPS, SPS, PPS)."""

    codec: str
    units: tuple[bytes, ...]

    def fmtp(self) -> str:
        """The SDP `a=fmtp` value describing these parameter sets."""
        if self.codec == H264:
            sps = next(u for u in self.units if nal_type(H264, u) == 7)
            encoded = ",".join(base64.b64encode(u).decode() for u in self.units)
            return f"packetization-mode=1;profile-level-id={sps[1:4].hex()};sprop-parameter-sets={encoded}"
        names = {32: "sprop-vps", 33: "sprop-sps", 34: "sprop-pps"}
        parts = [f"{names[nal_type(H265, u)]}={base64.b64encode(u).decode()}" for u in self.units]
        return ";".join(parts)


def parameter_sets(codec: str, units: list[bytes]) -> ParameterSets:
    """Collect the first VPS/SPS/PPS found in `units`, ordered by type."""
    found: dict[int, bytes] = {}
    for unit in units:
        if is_parameter_set(codec, unit):
            found.setdefault(nal_type(codec, unit), unit)
    return ParameterSets(codec, tuple(found[k] for k in sorted(found)))


def payloads(codec: str, unit: bytes, limit: int = MAX_PAYLOAD) -> list[bytes]:
    """RTP payloads carrying one NAL unit: the unit itself, or fragments."""
    if len(unit) <= limit:
        return [unit]
    if codec == H264:
        return _fragment_h264(unit, limit)
    return _fragment_h265(unit, limit)


def _fragment_h264(unit: bytes, limit: int) -> list[bytes]:
    indicator = bytes([(unit[0] & 0xE0) | 28])  # FU-A, keeps F and NRI bits
    kind = unit[0] & 0x1F
    return _fragments(indicator, kind, unit[1:], limit - 2)


def _fragment_h265(unit: bytes, limit: int) -> list[bytes]:
    kind = (unit[0] >> 1) & 0x3F
    header = bytes([(unit[0] & 0x81) | (49 << 1), unit[1]])  # FU, keeps F, layer, TID
    return _fragments(header, kind, unit[2:], limit - 3)


def _fragments(prefix: bytes, kind: int, body: bytes, chunk: int) -> list[bytes]:
    out = []
    for offset in range(0, len(body), chunk):
        flags = 0
        if offset == 0:
            flags |= 0x80
        if offset + chunk >= len(body):
            flags |= 0x40
        out.append(prefix + bytes([flags | kind]) + body[offset : offset + chunk])
    return out
