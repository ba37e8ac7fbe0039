"""Health: observations in, state and reasons out. No I/O, no clock of its own, no threads.

`StreamHealth` holds what has been observed of one stream; `observe` folds an
observation into it and `evaluate` turns it into a `Verdict` at a given time.
Everything takes `now` as an argument, so tests drive it with made-up
observations and made-up times.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from hub.config import HealthSettings
from hub.diagnostics.settings import PICTURE_CHECKS
from hub.ingest.observations import (
    AUTH_FAILED,
    ENDED,
    STALLED,
    UNREACHABLE,
    Closed,
    DecodeFailed,
    Observation,
    Opened,
    PacketBatch,
    Picture,
)

CONNECTING, ONLINE, DEGRADED, OFFLINE, UNAUTHORIZED = "connecting", "online", "degraded", "offline", "unauthorized"
STATES = (CONNECTING, ONLINE, DEGRADED, OFFLINE, UNAUTHORIZED)
UP_STATES = (ONLINE, DEGRADED)
CHECKS = ("frozen", "black", "low_fps", *PICTURE_CHECKS)  # each a `check` label of hub_stream_check_failing
REASONS = (
    "stalled",
    "unreachable",
    "ended",
    "not_found",
    "auth_failed",
    "frozen",
    "black",
    "low_fps",
    "resolution_changed",
    "decode_errors",
    *PICTURE_CHECKS,
)

FLOW_WINDOW_S = 5.0  # fps and bitrate are averaged over this sliding window
BURST_S = 1.0  # FFmpeg hands over what it buffered while probing at once: rates skip it
MIN_RATE_SPAN_S = 2.0  # shorter spans give jumpy rates
CHANGED_LEVEL = 6  # luma steps a thumbnail cell must move to count as changed
CHANGED_CELLS = 2  # cells that must change: encoder noise on a still scene moves none
DETAIL_LEVEL, DETAIL_PIXELS = 20, 2  # in the 160x90 thumbnails: a ticking digit moves pixels this far, re-encoding does not
BLACK_MEAN, BLACK_STD = 28.0, 4.0  # near-black and flat
DECODE_ERROR_HOLD_S = 30.0
RESOLUTION_CHANGE_HOLD_S = 60.0


@dataclass(frozen=True)
class Verdict:
    state: str
    reasons: tuple[str, ...] = ()


@dataclass
class Flow:
    """Packets of the current connection, windowed for rates, plus running totals."""

    window: deque = field(default_factory=deque)  # (arrival, size) within FLOW_WINDOW_S
    window_bytes: int = 0  # sum of sizes in `window`, kept so rates cost O(1) per evaluation
    keyframes: deque = field(default_factory=lambda: deque(maxlen=4))  # stream times (pts), else arrival
    frames_total: int = 0
    bytes_total: int = 0
    first_at: float | None = None  # first packet of this connection
    last_at: float | None = None


@dataclass
class StreamHealth:
    settings: HealthSettings
    nominal_fps: float | None = None  # from the config; else what the stream announces
    opened: Opened | None = None
    opened_at: float | None = None
    close_reason: str | None = None
    connected: bool = False
    had_frame: bool = False
    flow: Flow = field(default_factory=Flow)
    reference: Picture | None = None  # first picture of the current run of similar pictures
    latest: Picture | None = None
    size: tuple[int, int] | None = None
    resolution_changed_at: float | None = None
    decode_errors: deque = field(default_factory=lambda: deque(maxlen=64))
    reconnects: int = 0
    replaying: bool = False  # it played, the server ended it, and no video came since (a server looping a file)


def observe(health: StreamHealth, observation: Observation, now: float) -> None:
    """Fold one observation into the stream's health record."""
    if isinstance(observation, PacketBatch):
        _packets(health, observation, now)
    elif isinstance(observation, Picture):
        _picture(health, observation)
    elif isinstance(observation, Opened):
        _opened(health, observation, now)
    elif isinstance(observation, Closed):
        health.connected = False
        health.close_reason = _close_reason(observation, health.close_reason)
        health.replaying = health.replaying or (observation.reason == ENDED and observation.had_frames)
    elif isinstance(observation, DecodeFailed):
        health.decode_errors.append(observation.at)


def _opened(health: StreamHealth, opened: Opened, now: float) -> None:
    if health.opened is not None:
        health.reconnects += 1
    size = (opened.width, opened.height)
    if health.size is not None and opened.width and size != health.size:
        health.resolution_changed_at = now
    if opened.width:
        health.size = size
    health.opened, health.opened_at, health.connected = opened, now, True
    health.flow = Flow(frames_total=health.flow.frames_total, bytes_total=health.flow.bytes_total)
    health.reference, health.latest = _carried(health.reference), _carried(health.latest)


def _carried(picture: Picture | None) -> Picture | None:
    """A picture of an earlier connection, kept for the next: a camera frozen (or black) before a reconnect,
    a visit or a change of mode is frozen still, since the same moment, until a new picture differs. Its
    camera timestamp is dropped: a new connection counts on another clock, and the wall clock decides."""
    return None if picture is None else replace(picture, pts_s=None)


def _close_reason(closed: Closed, before: str | None) -> str:
    """A camera that hung and gives no answer when opened again is still stalled (to FFmpeg an open that
    times out looks unreachable); one that refuses the connection is unreachable."""
    if closed.reason == UNREACHABLE and before == STALLED and "refused" not in closed.message.lower():
        return STALLED
    return closed.reason


def seeded(
    settings: HealthSettings, nominal_fps: float | None, previous: StreamHealth | None, down_for: str | None = None
) -> StreamHealth:
    """A new connection's health (a visit, a stream gone live) that remembers the pictures of the one before;
    `down_for`: why the camera was known to be down (a stream gone live from patrol), until it sends video."""
    health = StreamHealth(settings, nominal_fps)
    if previous is not None:
        # Only a frozen picture carries over: a camera that was moving when the last connection ended, or
        # still for less than the frozen rule's time, starts afresh, since its first picture on the new one
        # may well be the last one's again (a looping clip starts over at the same place, a quiet corridor):
        # one picture seen again says nothing of the minutes in between, and carried, it would call the
        # camera frozen at its first picture (seen at every change of mode in the reference estate's run).
        ref, latest = previous.reference, previous.latest
        if ref is not None and latest is not None and latest is not ref and _still_span(ref, latest) >= frozen_for(settings):
            health.reference, health.latest = _carried(ref), _carried(latest)
        health.size = previous.size
    health.close_reason = down_for
    return health


def _packets(health: StreamHealth, batch: PacketBatch, now: float) -> None:
    flow = health.flow
    for packet in batch.packets:
        flow.window.append((packet.arrival, packet.size))
        flow.window_bytes += packet.size
        flow.frames_total += 1
        flow.bytes_total += packet.size
        if packet.keyframe:
            flow.keyframes.append(packet.pts_s if packet.pts_s is not None else packet.arrival)
        if flow.first_at is None:
            flow.first_at = packet.arrival
        flow.last_at = packet.arrival
    _trim(flow, now)
    if batch.packets:
        health.had_frame = True
        health.close_reason = None
        health.replaying = False
    health.decode_errors.extend([now] * min(batch.corrupt, 8))


def _trim(flow: Flow, now: float) -> None:
    while flow.window and flow.window[0][0] < now - FLOW_WINDOW_S:
        flow.window_bytes -= flow.window.popleft()[1]


def _picture(health: StreamHealth, picture: Picture) -> None:
    size = (picture.width, picture.height)
    if health.size is not None and size != health.size:
        health.resolution_changed_at = picture.at
        health.reference = None
    health.size = size
    if health.reference is None or pictures_differ(health.reference, picture):
        health.reference = picture
    health.latest = picture


def pictures_differ(a: Picture, b: Picture) -> bool:
    """True when two pictures show a real change, not just encoder noise: a few cells of the 64x36
    thumbnails moved, or a few pixels of the 160x90 ones changed a lot (the digits of a ticking clock in a
    still room, where re-encoding the same picture moves no pixel that far)."""
    if a.thumb.shape != b.thumb.shape:
        return True
    moved = np.abs(a.thumb.astype(np.int16) - b.thumb.astype(np.int16)) > CHANGED_LEVEL
    if int(np.count_nonzero(moved)) >= CHANGED_CELLS:
        return True
    if a.detail is None or b.detail is None or a.detail.shape != b.detail.shape:
        return False
    return int(np.count_nonzero(cv2.absdiff(a.detail, b.detail) > DETAIL_LEVEL)) >= DETAIL_PIXELS


def is_black(thumb: np.ndarray) -> bool:
    return float(thumb.mean()) < BLACK_MEAN and float(thumb.std()) < BLACK_STD


def _rate_span(health: StreamHealth, now: float) -> float | None:
    """Seconds of the window that rates are measured over (None until there is at least one)."""
    flow = health.flow
    if not health.connected or flow.first_at is None:
        return None
    span = min(FLOW_WINDOW_S, now - flow.first_at - BURST_S)
    return span if span >= MIN_RATE_SPAN_S else None


def _window_totals(health: StreamHealth, now: float, span: float) -> tuple[int, int]:
    """(packets, bytes) that arrived within `span` seconds before `now`."""
    flow = health.flow
    _trim(flow, now)
    if span >= FLOW_WINDOW_S:
        return len(flow.window), flow.window_bytes
    recent = [size for at, size in flow.window if at >= now - span]  # only in a connection's first seconds
    return len(recent), sum(recent)


def rate_window_full(health: StreamHealth, now: float) -> bool:
    """Whether the rates (and so the low_fps rule) cover their whole window yet."""
    return _rate_span(health, now) == FLOW_WINDOW_S


def measured_fps(health: StreamHealth, now: float) -> float | None:
    span = _rate_span(health, now)
    if span is None:
        return None
    return _window_totals(health, now, span)[0] / span


def measured_bitrate(health: StreamHealth, now: float) -> float | None:
    span = _rate_span(health, now)
    if span is None:
        return None
    return _window_totals(health, now, span)[1] * 8 / span


def keyframe_interval(health: StreamHealth) -> float | None:
    times = list(health.flow.keyframes)
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    return (times[-1] - times[0]) / (len(times) - 1)


def expected_fps(health: StreamHealth) -> float | None:
    if health.nominal_fps:
        return health.nominal_fps
    return health.opened.fps if health.opened and health.opened.fps else None


def frozen_for(settings: HealthSettings) -> float:
    """How long still pictures must span to call a camera frozen: the picture froze before its first frozen
    sample, and a tenth of a sampling interval absorbs keyframe jitter."""
    return settings.frozen_after_s - 0.1 * settings.picture_interval_s


def failing_checks(health: StreamHealth, now: float) -> list[str]:
    """The picture and flow checks that fail now: black or frozen (never both), then low_fps."""
    settings, failing = health.settings, []
    ref, latest = health.reference, health.latest
    black = latest is not None and is_black(latest.thumb)
    # A black picture never changes either; "black" is the more specific diagnosis, so it replaces "frozen".
    if black:
        failing.append("black")
    # The still pictures themselves must span the time: a slowed sampler that took the same keyframe of a
    # looping scene twice has no evidence of the time between its pictures.
    elif ref is not None and latest is not None and latest is not ref and _still_span(ref, latest) >= frozen_for(settings):
        failing.append("frozen")
    nominal = expected_fps(health)
    full_window = _rate_span(health, now) == FLOW_WINDOW_S
    # A pause is the stall rule's business: low_fps needs frames still arriving, only too few.
    flowing = health.flow.last_at is not None and nominal and now - health.flow.last_at <= max(1.0, 2.0 / nominal)
    fps = measured_fps(health, now)
    if flowing and nominal and full_window and fps is not None and fps < settings.min_fps_ratio * nominal:
        failing.append("low_fps")
    return failing


READER_LAG_TOLERANCE_S = 1.0


def _still_span(ref: Picture, latest: Picture) -> float:
    """How long the camera showed the same picture, as far as the pictures themselves prove."""
    return latest.at - ref.at - _reader_lag(ref, latest)


def _reader_lag(ref: Picture, latest: Picture) -> float:
    """How far the reader fell behind the camera between two pictures: the hub's clock ran on more than
    the camera's. An overloaded hub reads less of the stream than the wall clock says, and a short
    looping scene then repeats itself; that is the hub's lag, not a frozen camera, so the frozen rule
    does not count it. Without timestamps, or when they stand still or go back (a camera that froze its
    clock too), there is no lag to take off: the wall clock decides alone."""
    if ref.pts_s is None or latest.pts_s is None or latest.pts_s <= ref.pts_s:
        return 0.0
    lag = (latest.at - ref.at) - (latest.pts_s - ref.pts_s)
    return lag if lag > READER_LAG_TOLERANCE_S else 0.0  # arrival jitter is not lag


def picture_unchanged_since(health: StreamHealth) -> float | None:
    """When the current run of identical pictures began (monotonic), None without a picture this connection."""
    return health.reference.at if health.reference is not None else None


def evaluate(health: StreamHealth, now: float) -> Verdict:
    """The stream's state and reasons at time `now`."""
    _trim(health.flow, now)
    if health.close_reason == AUTH_FAILED:
        return Verdict(UNAUTHORIZED, (AUTH_FAILED,))
    last = health.flow.last_at if health.flow.last_at is not None else health.opened_at
    silent = last is not None and now - last > health.settings.stall_after_s
    # A reader may give up on a silent connection before stall_after_s (to stay responsive to stop);
    # the stream is called stalled only once the stall rule agrees. A stream that played and ended (a
    # server looping its file ends the session at every loop) is reconnected at once: it is called
    # down (ended, or why the reopening failed) only if no video follows within the same stall_after_s,
    # else it was a counted reconnect.
    in_grace = (health.close_reason == STALLED or health.replaying) and health.had_frame and not silent
    if health.close_reason is not None and not in_grace:
        return Verdict(OFFLINE, (health.close_reason,))
    if (health.connected or in_grace) and silent:
        return Verdict(OFFLINE, (STALLED,))
    if not health.had_frame:
        return Verdict(CONNECTING)
    reasons = failing_checks(health, now)
    if health.resolution_changed_at is not None and now - health.resolution_changed_at < RESOLUTION_CHANGE_HOLD_S:
        reasons.append("resolution_changed")
    if health.decode_errors and now - health.decode_errors[-1] < DECODE_ERROR_HOLD_S:
        reasons.append("decode_errors")
    return Verdict(DEGRADED, tuple(reasons)) if reasons else Verdict(ONLINE)
