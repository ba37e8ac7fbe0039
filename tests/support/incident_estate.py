"""The small estate the incident tests run on: five cameras around one spot, placed in metres from it.

`gate-north` stands 40 m south looking north at the spot, `lobby` 20 m east, `nursery` (childcare: a
sensitive camera) 30 m west, `shed` 120 m north looking away, and `far-gate` 2 km away on another site.
"""

from __future__ import annotations

from support.estates import STREET

SPOT = (31.7700, 117.3000)
METRE = 1 / 111_195  # degrees of latitude in a metre


def camera(stream_id: str, north_m: float, east_m: float, site: str, extra: str = "", category: str = "public-security") -> str:
    lat, lon = SPOT[0] + north_m * METRE, SPOT[1] + east_m * METRE / 0.85  # cos(31.77 degrees) is about 0.85
    return (
        f'[[streams]]\nid = "{stream_id}"\nname = "{stream_id}"\ncategory = "{category}"\nsite = "{site}"\n'
        f'position = [{lat:.7f}, {lon:.7f}]\nurl = "{STREET}"\n{extra}'
    )


ESTATE = (
    camera("gate-north", -40, 0, "North", "heading = 0\nfov = 60\n")  # 40 m south of the spot, looking at it
    + camera("lobby", 0, 20, "North")
    + camera("nursery", 0, -30, "North", category="childcare")
    + camera("shed", 120, 0, "North", "heading = 0\nfov = 60\n")  # north of the spot, looking away
    + camera("far-gate", 2000, 0, "South")
)
