"""The reader: PyAV demuxes one stream in its own named thread, never on the event loop.

Who runs where: `Reader.run` is the body of thread `ingest-<id>-<generation>`.
It opens the stream, then loops over packets: every packet becomes a small
`Packet` observation (batched every `BATCH_S`); at most once per `picture_interval_s` (times the
load governor's `Throttle` factor) a keyframe is decoded into a thumbnail for the checks, and sampled
for picture diagnostics (`hub.diagnostics.sampling`: measured by the process's `Measurer` thread,
which posts a `PictureMeasured` a second later, or in this thread when there is none). It is also
made a JPEG only when somebody may see it: a viewer on the live socket or a snapshot looker (the
`LiveTap`'s flags), a visit (no tap), or when the last JPEG is `JPEG_IDLE_S` old. Other packets are
never decoded. The thread checks `stop` after every packet; a silent stream is given up after
`silence_limit_s` by FFmpeg's own socket timeout. PyAV's read timeout is deliberately not used: its interrupt callback
takes the GIL on every socket poll, which with hundreds of reader threads
costs more CPU than the demuxing itself. Everything goes to the loop through
the `Mailbox`; the last thing a reader sends is always a `Closed`.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import av
import cv2
import numpy as np

from hub.diagnostics.checks import THUMB_SIZE
from hub.diagnostics.measurer import Job
from hub.diagnostics.sampling import Due, PictureSample, Sampler, SamplingSettings, measure
from hub.ingest.jpeg import encode_jpeg
from hub.ingest.keyframes import DECODER_OPTIONS, MAX_PIXELS, shareable
from hub.ingest.live_tap import LiveTap
from hub.ingest.mailbox import Mailbox
from hub.ingest.observations import (
    AUTH_FAILED,
    ENDED,
    NOT_FOUND,
    STALLED,
    UNREACHABLE,
    Closed,
    DecodeFailed,
    Opened,
    Packet,
    PacketBatch,
    Picture,
    PictureMeasured,
)
from hub.ingest.pull_lease import LEASE_OVER, STOPPED
from hub.ingest.recent_gop import RecentGop
from hub.ingest.remux import FragmentWriter
from hub.ingest.shared import ReaderShared
from hub.ingest.threads import background_thread
from hub.safe.redact import redact_text

THUMB_WIDTH, THUMB_HEIGHT = 64, 36
OPEN_TIMEOUT_S = 3.0  # for each of FFmpeg's two open phases (connect+DESCRIBE, probing)
BATCH_S = 0.5  # arrival times are stamped per packet, so batching costs no precision
SNAPSHOT_MAX_WIDTH = 1280
PROTOCOL_WHITELIST = "rtsp,rtsps,rtp,srtp,tcp,udp,tls"
# A camera (or something posing as one) can declare any picture size; decoding 16384x16384 would take
# 400 MB a frame. Pictures beyond 8192 px a side or 8K UHD's pixel count are refused, never decoded.
MAX_SIDE = 8192
JPEG_IDLE_S = 30.0  # a picture nobody looks at is made a JPEG this often (the record's snapshot stays recent)


@dataclass(frozen=True)
class ReaderSettings:
    url: str  # may hold credentials: never logged or shown
    transport: str
    picture_interval_s: float
    silence_limit_s: float
    secrets: tuple[str, ...] = ()
    udp_if_tcp_refused: bool = False  # the config left the transport to the hub: UDP when the camera refuses TCP
    analyze_s: float = 1.5  # how long FFmpeg studies the stream while opening (visits: shorter, to be quick)
    sampling: SamplingSettings = SamplingSettings()  # picture diagnostics' measures of each sampled keyframe


class ArrivalClock:
    """Stamps each packet with when it should have arrived, judged by its timestamp.

    FFmpeg can hand over a packet seconds after it came off the wire: when a read times
    out it flushes what its depacketiser still held. Stamped with the hand-over time,
    such a packet would look like fresh video and hide a stall. The clock tracks the
    smallest (arrival - pts) seen, creeping up slowly so clock drift cannot accumulate;
    a packet later than that by more than `LATE_S` is stamped when it should have come.
    """

    LATE_S = 0.75
    DISCONTINUITY_S = 30.0  # timestamps jumped (camera restarted its clock): start over

    def __init__(self) -> None:
        self.base: float | None = None

    def stamp(self, now: float, pts: float | None) -> float:
        if pts is None:
            return now
        latency = now - pts
        if self.base is None or latency < self.base or latency - self.base > self.DISCONTINUITY_S:
            self.base = latency
            return now
        self.base += (latency - self.base) * 0.001
        return now if latency - self.base <= self.LATE_S else pts + self.base


class Reader:
    def __init__(
        self,
        settings: ReaderSettings,
        generation: int,
        mailbox: Mailbox,
        stop: threading.Event,
        live: LiveTap | None = None,
        shared: ReaderShared | None = None,
    ):
        shared = shared or ReaderShared()
        self.settings = settings
        self.throttle = shared.throttle
        self.lease = shared.lease
        self.generation = generation
        self.mailbox = mailbox
        self.stop = stop
        self.live = live
        self.had_frames = False
        self.transport = settings.transport  # as opened: UDP after the camera refused TCP
        self._writer: FragmentWriter | None = None
        self._recent = RecentGop()  # while nobody watches: what a new viewer's video starts from
        self._jpeg_at = -1e9  # monotonic: the last picture made a JPEG
        self._too_big = ""  # why pictures are not decoded at all (an absurd declared size), else empty
        self._sampler = Sampler(settings.sampling)
        self._measurer = shared.measurer  # None: sampled pictures are measured in this thread
        self._decoders = shared.decoders
        self._decode: Callable[[av.Packet], list] = _not_open  # keyframe -> frames, from `_open_decoder`

    def run(self) -> None:
        """Thread body: open, read until stopped or broken, always end with a Closed observation."""
        background_thread()  # named for the OS, and the event loop goes first when CPU is short
        cv2.setNumThreads(1)  # process-wide: OpenCV's own thread pool would spin against hundreds of reader threads
        if self.lease.over():  # a cluster node past its lease opens nothing
            self.mailbox.put(Closed(self.generation, ENDED, LEASE_OVER, False))
            return
        try:
            container = self._open_stream()
        except Exception as exc:  # noqa: BLE001 - any failure to open is reported, never raised
            self._close(classify(exc, opening=True), exc)
            return
        try:
            reason, message = self._read(container)
        except Exception as exc:  # noqa: BLE001 - a malformed stream must not kill the hub
            reason, message = classify(exc, opening=False), self._redact(exc)
        finally:
            container.close()
        self.mailbox.put(Closed(self.generation, reason, message, self.had_frames))

    def _open_stream(self):
        """Open over the configured transport; when the config left it to the hub and the camera refuses
        TCP, over UDP (as FFmpeg itself does with no transport named)."""
        try:
            return self._open(self.settings.transport)
        except Exception as exc:
            if tcp_refused(exc) and self.settings.transport == "tcp" and self.settings.udp_if_tcp_refused:
                return self._open("udp")
            raise

    def _open(self, transport: str):
        options = {
            "rtsp_transport": transport,
            "timeout": str(int(self.settings.silence_limit_s * 1_000_000)),  # FFmpeg's socket timeout, in µs
            "analyzeduration": str(int(self.settings.analyze_s * 1_000_000)),
            "probesize": "1000000",
            # Whatever a URL says, FFmpeg may only speak these: never file:, http:, concat: or pipe:.
            "protocol_whitelist": PROTOCOL_WHITELIST,
        }
        container = av.open(self.settings.url, options=options, timeout=(OPEN_TIMEOUT_S, None))
        self.transport = transport
        return container

    def _close(self, reason: str, exc: Exception) -> None:
        message = self._redact(exc)
        if tcp_refused(exc) and self.settings.transport == "tcp":
            message = f'the camera refused RTP over TCP ({message}): set transport = "udp" for it, or leave transport out'
        self.mailbox.put(Closed(self.generation, reason, message, self.had_frames))

    def _redact(self, exc: Exception) -> str:
        return redact_text(f"{type(exc).__name__}: {exc}", self.settings.secrets)

    def _open_decoder(self, video) -> None:
        """Say the stream is open, and choose how its keyframes are decoded: by the process's shared
        decoders when its parameter sets allow (`hub.ingest.keyframes`), else by a decoder of its own."""
        ctx = video.codec_context
        fps = float(video.average_rate) if video.average_rate else None
        self._too_big = absurd_size(ctx.width or 0, ctx.height or 0)
        self.mailbox.put(Opened(self.generation, ctx.name, ctx.width or 0, ctx.height or 0, fps, self.transport))
        extradata = ctx.extradata
        if shareable(ctx.name, extradata):
            kind, decoders = (ctx.name, ctx.width or 0, ctx.height or 0), self._decoders
            self._decode = lambda packet: decoders.decode(kind, extradata, packet)
        else:
            ctx.thread_count = 1  # frame threads would hold a keyframe back until more packets come
            ctx.options = dict(DECODER_OPTIONS)
            self._decode = lambda packet: _decode_alone(ctx, packet)

    def _read(self, container) -> tuple[str, str]:
        """The per-packet loop: hot (25 times a second per stream), so it keeps its lookups local."""
        video = container.streams.video[0]
        self._open_decoder(video)
        time_base = float(video.time_base) if video.time_base else 0.0
        stamp, monotonic, live, throttle, lease = ArrivalClock().stamp, time.monotonic, self.live, self.throttle, self.lease
        # 0.9: keyframes every 2.00 s with jitter must not turn a 2 s interval into 4 s
        picture_every = 0.9 * self.settings.picture_interval_s
        batch: list[Packet] = []
        corrupt, flushed_at, last_picture, last_picture_pts = 0, monotonic(), -1e9, None
        try:
            for packet in container.demux(video):
                size = packet.size
                if not size:
                    continue
                now = monotonic()
                pts = packet.pts
                pts = pts * time_base if pts is not None and time_base else None
                keyframe = packet.is_keyframe
                batch.append(Packet(stamp(now, pts), size, keyframe, pts))
                corrupt += packet.is_corrupt
                if keyframe and _picture_due(now - last_picture, pts, last_picture_pts, picture_every * throttle.factor):
                    last_picture, last_picture_pts = now, pts
                    self._picture(packet, now, pts)
                if live is not None:
                    if live.wanted or self._writer is not None:
                        self._remux(video, packet, keyframe)
                    else:
                        self._recent.add(packet, keyframe, size)
                if now - flushed_at >= BATCH_S:
                    if lease.over(now):  # checked per batch, before handing on: a node paused past its lease
                        return ENDED, LEASE_OVER
                    self.had_frames = True
                    self.mailbox.put(PacketBatch(self.generation, tuple(batch), corrupt))
                    batch, corrupt, flushed_at = [], 0, now
                    if self.stop.is_set():  # checked per batch: at most BATCH_S late
                        return ENDED, STOPPED
            return ENDED, "the stream ended"
        except av.error.TimeoutError:
            return STALLED, f"no packet for {self.settings.silence_limit_s:g} s"
        finally:
            self._stop_remux()
            if batch:
                self.had_frames = True
                self.mailbox.put(PacketBatch(self.generation, tuple(batch), corrupt))

    def _remux(self, video, packet, keyframe: bool) -> None:
        """Feed live viewers: start at the last keyframe (kept by `RecentGop`) or the next one, stop when
        nobody watches any more."""
        if self.live is None or not self.live.wanted:
            self._stop_remux()
            return
        packets = [packet]
        if self._writer is None:
            backlog = self._recent.take()
            if keyframe:
                backlog = []  # this keyframe is newer than what was kept
            elif not backlog:
                return
            packets = backlog + packets
            self._writer = FragmentWriter(video)
        try:
            for each in packets:
                for chunk in self._writer.write(each):
                    self.live.publish(chunk)
        except (av.error.FFmpegError, ValueError):
            self._stop_remux()  # odd timestamps, say: start over at the next keyframe

    def _stop_remux(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _picture(self, packet, now: float, pts: float | None) -> None:
        """Decode one keyframe on its own; the decoder is flushed so it never waits for more."""
        if self._too_big:
            self.mailbox.put(DecodeFailed(self.generation, now, self._too_big))
            return
        try:
            frames = self._decode(packet)
        except av.error.FFmpegError as exc:
            self.mailbox.put(DecodeFailed(self.generation, now, self._redact(exc)))
            return
        if not frames:
            self.mailbox.put(DecodeFailed(self.generation, now, "keyframe decoded to no picture"))
            return
        frame = frames[-1]
        live = self.live
        with_jpeg = live is None or live.wanted or live.pictures_wanted or now - self._jpeg_at >= JPEG_IDLE_S
        try:
            thumb, small, jpeg, planes = _thumb_and_jpeg(frame, with_jpeg)
            due = self._sampler.due(now)
            sample = None if due is None else self._measure(due, small, planes, thumb, now)
        except (ValueError, av.error.FFmpegError, cv2.error) as exc:
            self.mailbox.put(DecodeFailed(self.generation, now, self._redact(exc)))
            return
        if jpeg:
            self._jpeg_at = now
        self.mailbox.put(Picture(self.generation, now, frame.width, frame.height, thumb, jpeg, pts, sample, small))

    def _measure(self, due: Due, small: np.ndarray, planes: Planes, thumb: np.ndarray, now: float) -> PictureSample | None:
        """Picture diagnostics' measures: handed to the process's measurer (they follow as a `PictureMeasured`,
        and None is returned), or taken here when there is none or it is full."""
        luma, cb, cr, full_range = planes
        if self._measurer is not None:
            mailbox, generation = self.mailbox, self.generation

            def deliver(sample: PictureSample) -> None:  # no hurry: it leaves with the next packet batch
                mailbox.put(PictureMeasured(generation, now, thumb, sample), wake=False)

            if self._measurer.submit(Job(due, small, cb, cr, luma, full_range, deliver)):
                return None
        return measure(due, small, cb, cr, luma, full_range)


def _not_open(packet) -> list:
    raise ValueError("no decoder before the stream is open")


def _picture_due(wall_since: float, pts: float | None, last_pts: float | None, every: float) -> bool:
    """Whether a keyframe is due for a picture: `every` seconds after the last, on the stream's own clock
    where it has one (else, or when that clock stands still or goes back, on the hub's). A reader catching
    up after a stall reads seconds of video in a moment; spaced by the hub's clock, its pictures would skip
    keyframes in a rhythm that can match a looping scene's, the same picture every time: "frozen"."""
    if pts is not None and last_pts is not None and pts - last_pts >= every:
        return True
    return wall_since >= every


def _decode_alone(ctx, packet) -> list:
    """A keyframe on a stream's own decoder, flushed after it so that it never waits for more."""
    try:
        return list(ctx.decode(packet) or ctx.decode(None))
    finally:
        ctx.flush_buffers()


def absurd_size(width: int, height: int) -> str:
    """Why a declared picture size is refused, or "" if it is fine."""
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        return f"picture size {width}x{height} is beyond what the hub decodes ({MAX_SIDE} px a side, 8K UHD in all)"
    return ""


Planes = tuple[np.ndarray, np.ndarray, np.ndarray, bool]  # luma, cb, cr (8-bit 4:2:0) and whether full range


def _thumb_and_jpeg(frame, with_jpeg: bool) -> tuple[np.ndarray, np.ndarray, bytes, Planes]:
    """Luma thumbnails (64x36, 160x90), a JPEG (if asked) and the planes of one decoded frame. The common
    8-bit 4:2:0 case reads the planes as they are; anything else is converted to it once."""
    width, height = frame.width, frame.height
    full_range = frame.format.name == "yuvj420p" or getattr(frame, "color_range", 0) == 2  # JPEG (full) range
    if frame.format.name not in ("yuv420p", "yuvj420p") or width % 2 or height % 2:
        frame = frame.reformat(width=width + width % 2, height=height + height % 2, format="yuv420p")
    planar = frame.to_ndarray()  # Y, then U and V, each a quarter of Y's size
    luma = planar[: frame.height]
    quarter = frame.height // 4
    cb = planar[frame.height : frame.height + quarter].reshape(frame.height // 2, frame.width // 2)
    cr = planar[frame.height + quarter :].reshape(frame.height // 2, frame.width // 2)
    small = cv2.resize(luma, THUMB_SIZE, interpolation=cv2.INTER_AREA)  # for the picture checks
    thumb = cv2.resize(small, (THUMB_WIDTH, THUMB_HEIGHT), interpolation=cv2.INTER_AREA)  # for frozen and black
    planes = (luma, cb, cr, full_range)
    if not with_jpeg:
        return thumb, small, b"", planes
    image = cv2.cvtColor(planar, cv2.COLOR_YUV2BGR_I420)
    if width > SNAPSHOT_MAX_WIDTH:
        image = cv2.resize(image, (SNAPSHOT_MAX_WIDTH, round(height * SNAPSHOT_MAX_WIDTH / width)), interpolation=cv2.INTER_AREA)
    return thumb, small, encode_jpeg(image), planes


def tcp_refused(exc: Exception) -> bool:
    """The camera answered SETUP but will not send RTP over the RTSP connection (FFmpeg's "Protocol not
    supported", from an RTSP 461 Unsupported Transport): reachable, the transport refused."""
    return getattr(exc, "errno", None) == errno.EPROTONOSUPPORT


def classify(exc: Exception, opening: bool) -> str:
    """Map an FFmpeg/OS error to a reason code."""
    if isinstance(exc, av.error.HTTPUnauthorizedError):
        return AUTH_FAILED
    if isinstance(exc, av.error.HTTPNotFoundError):
        return NOT_FOUND
    if isinstance(exc, (av.error.ExitError, av.error.TimeoutError)):
        return STALLED if not opening else UNREACHABLE
    if isinstance(exc, EOFError):
        return ENDED
    return UNREACHABLE
