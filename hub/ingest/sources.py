"""Where the hub pulls a stream from (the configured URL, or the simulator's address for sim:// streams),
and the settings of each kind of reader: live health, a patrol visit, a big tile's main stream."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote, unquote, urlsplit

from hub.config import Config, SimSettings, Stream
from hub.config.diagnostics import for_stream
from hub.diagnostics.settings import SamplingSettings
from hub.ingest.reader import ReaderSettings

WILDCARD_HOSTS = ("", "0.0.0.0", "::")
SILENCE_LIMIT_CAP_S = 4.0
# How long FFmpeg studies a stream while opening. 0.5 s is enough to know codec, size and frame rate, and
# is used wherever somebody waits for the result: a visit (0.6 s shorter than with 1.5 s), a camera
# somebody opened, a big tile's main stream. Other live readers take 1.5 s, for a surer frame rate.
QUICK_ANALYZE_S = 0.5
MAIN_FEED_PICTURE_S = 1e9  # a main feed's keyframes are never decoded: health reads the substream


def source_url(stream: Stream, sim: SimSettings, sub: bool = False) -> str:
    """`sim://user:pass@scene?...` -> `rtsp://user:pass@<[sim] listen>/<id>` (`.../<id>/sub` for the
    substream); other URLs unchanged. `sub` falls back to the main stream when there is no substream."""
    if sub and stream.sub_url:
        return stream.sub_url
    if stream.sim is None:
        return stream.url
    host = "127.0.0.1" if sim.listen.host in WILDCARD_HOSTS else sim.listen.host
    if ":" in host:
        host = f"[{host}]"
    credentials = ""
    if stream.sim.username:
        credentials = f"{quote(stream.sim.username, safe='')}:{quote(stream.sim.password, safe='')}@"
    path = f"{stream.id}/sub" if sub and stream.sim.sub_width else stream.id
    return f"rtsp://{credentials}{host}:{sim.listen.port}/{path}"


def reader_settings(stream: Stream, config: Config, sub: bool = True, quick: bool = False) -> ReaderSettings:
    """What a reader needs; health and patrol read the substream when there is one (NVRs' adaptive streaming).
    `quick`: somebody waits for this reader's first picture (`QUICK_ANALYZE_S`)."""
    health, sim = config.health, config.sim
    url = source_url(stream, sim, sub)
    sampling = config.diagnostics.sampling(health.picture_interval_s)
    if not for_stream(config.diagnostics, stream.health, stream.ptz).checks:
        sampling = SamplingSettings(enabled=False)
    password = unquote(urlsplit(url).password or "")
    return ReaderSettings(
        url=url,
        transport=stream.transport,
        udp_if_tcp_refused=stream.transport == "tcp" and not stream.transport_chosen,
        picture_interval_s=health.picture_interval_s,
        # Short enough that a silent reader notices `stop` soon; health still waits for stall_after_s.
        silence_limit_s=min(health.stall_after_s, SILENCE_LIMIT_CAP_S),
        secrets=(password,) if password else (),
        sampling=sampling,
        **({"analyze_s": QUICK_ANALYZE_S} if quick else {}),
    )


def main_feed_settings(stream: Stream, config: Config) -> ReaderSettings:
    """A big wall tile's main stream: video for the tile only, no pictures, no checks, opened quickly."""
    settings = reader_settings(stream, config, sub=False, quick=True)
    return replace(settings, picture_interval_s=MAIN_FEED_PICTURE_S, sampling=SamplingSettings(enabled=False))
