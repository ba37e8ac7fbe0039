"""From an ONVIF device's profiles to `[[streams]]` entries. Pure functions.

A device has one or more video sources (a camera has one, an NVR or encoder one per channel); each
source has profiles, usually a main stream and a smaller substream. One source becomes one stream: its
largest profile is `url`, its smallest other profile (if any) `sub_url`. URLs carry the user name and
`${VAR}` for the password, so the secret stays in the environment and never in the config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from hub.onvif.device import DeviceReport, Profile

MAX_ID = 64


@dataclass(frozen=True)
class Placement:
    """What the operator says about the device's cameras (the device cannot know)."""

    category: str
    site: str = ""
    position: tuple[float, float] | None = None
    id_prefix: str = ""  # default: from the host
    name: str = ""  # default: the source's name, or make and model
    tags: tuple[str, ...] = ()


def slug(text: str) -> str:
    """Lower-case a-z, 0-9 and single '-' (what a stream id may hold)."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-")


def with_credentials(uri: str, user: str, password_var: str) -> str:
    """The device's RTSP URI with `user:${VAR}@` (credentials it may already carry are replaced)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = host + (f":{parts.port}" if parts.port else "")
    if user:
        netloc = f"{quote(user, safe='')}{':${' + password_var + '}' if password_var else ''}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def by_source(profiles: tuple[Profile, ...]) -> dict[str, list[Profile]]:
    """Profiles with a stream URI, grouped by video source, largest picture first."""
    grouped: dict[str, list[Profile]] = {}
    for profile in profiles:
        if profile.stream_uri.lower().startswith(("rtsp://", "rtsps://")):
            grouped.setdefault(profile.source, []).append(profile)
    return {source: sorted(group, key=lambda p: -p.width * p.height) for source, group in grouped.items()}


def stream_tables(report: DeviceReport, placement: Placement, user: str, password_var: str) -> list[dict]:
    """One `[[streams]]` table per video source of the device."""
    sources = by_source(report.profiles)
    model = " ".join(p for p in (report.manufacturer, report.model) if p).strip()
    prefix = slug(placement.id_prefix or f"onvif-{report.host}")
    names = [group[0].source_name for group in sources.values()]
    distinct_names = len(set(names)) == len(names) and all(names)
    tables = []
    for index, (source, group) in enumerate(sources.items(), start=1):
        main = group[0]
        sub = next((p for p in reversed(group[1:]) if p.stream_uri != main.stream_uri), None)
        several = len(sources) > 1
        stream_id = f"{prefix}-{slug(source) or index}" if several else prefix
        if placement.name:
            name = f"{placement.name} {index}" if several else placement.name
        elif several and distinct_names:
            name = main.source_name
        else:
            name = f"{model or report.host} {index}" if several else (main.source_name or model or report.host)
        table: dict = {"id": stream_id[:MAX_ID].strip("-"), "name": name, "category": placement.category}
        if placement.site:
            table["site"] = placement.site
        if placement.position is not None:
            table["position"] = list(placement.position)
        table["url"] = with_credentials(main.stream_uri, user, password_var)
        if sub is not None:
            table["sub_url"] = with_credentials(sub.stream_uri, user, password_var)
        if model:
            table["model"] = model
        if placement.tags:
            table["tags"] = list(placement.tags)
        tables.append(table)
    return tables
