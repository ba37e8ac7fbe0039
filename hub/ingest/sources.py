"""Where the hub pulls a stream from: the configured URL, or the simulator's address for sim:// streams."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

from hub.config import HealthSettings, SimSettings, Stream
from hub.ingest.reader import ReaderSettings

WILDCARD_HOSTS = ("", "0.0.0.0", "::")
SILENCE_LIMIT_CAP_S = 4.0


def source_url(stream: Stream, sim: SimSettings) -> str:
    """`sim://user:pass@scene?...` -> `rtsp://user:pass@<[sim] listen>/<id>`; other URLs unchanged."""
    if stream.sim is None:
        return stream.url
    host = "127.0.0.1" if sim.listen.host in WILDCARD_HOSTS else sim.listen.host
    if ":" in host:
        host = f"[{host}]"
    credentials = ""
    if stream.sim.username:
        credentials = f"{quote(stream.sim.username, safe='')}:{quote(stream.sim.password, safe='')}@"
    return f"rtsp://{credentials}{host}:{sim.listen.port}/{stream.id}"


def reader_settings(stream: Stream, sim: SimSettings, health: HealthSettings) -> ReaderSettings:
    url = source_url(stream, sim)
    password = unquote(urlsplit(url).password or "")
    return ReaderSettings(
        url=url,
        transport=stream.transport,
        picture_interval_s=health.picture_interval_s,
        # Short enough that a silent reader notices `stop` soon; health still waits for stall_after_s.
        silence_limit_s=min(health.stall_after_s, SILENCE_LIMIT_CAP_S),
        secrets=(password,) if password else (),
    )
