"""The monitor's pieces without a running hub: the judge folds observations into records and events, the
modes say which streams are live, a reload is planned, outages are written once per change.

Pure: real index, real health rules, real diagnostics (no store); made-up observations and times.
"""

from __future__ import annotations

import numpy as np

from hub import health as h
from hub.config import parse_config
from hub.diagnostics.outages import Member, OutageView
from hub.diagnostics.service import Diagnostics
from hub.index import Index, StreamRecord
from hub.ingest.observations import Closed, Opened, Packet, PacketBatch, Picture, ReaderLost
from hub.monitor.judge import READER_LOST_HOLD_S, Judge
from hub.monitor.modes import choose_shed, wants_live
from hub.monitor.outages import publish_outages
from hub.monitor.reload import plan_reload
from hub.monitor.watched import Watched
from hub.patrol.verdict import ProbeOutcome

CAMERA = '[[streams]]\nid = "{id}"\nname = "Cam"\ncategory = "{category}"\nposition = [31.77, 117.3]\nurl = "{url}"\n{extra}'


def config(*streams: tuple[str, str], url: str = "rtsp://10.0.0.1/live", extra: str = ""):
    return parse_config("".join(CAMERA.format(id=i, category=c, url=url, extra=extra) for i, c in streams))


class Supervisor:
    """What the judge reads of a live reader: its drops and its next retry."""

    dropped = 0
    retry_at = None


def watched_live(cfg, stream_id: str = "cam") -> Watched:
    stream = cfg.stream(stream_id)
    return Watched(stream, "live", Supervisor(), h.StreamHealth(cfg.health, stream.fps), StreamRecord.from_stream(stream))


def subscribed(index: Index):
    queue = index.subscribe()
    return lambda: [queue.get_nowait() for _ in range(queue.qsize())]


def thumb(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (36, 64), dtype=np.uint8)


def test_the_judge_turns_a_reader_s_observations_into_the_record_and_one_event_per_change():
    cfg = config(("cam", "public-security"))
    index, diagnostics = Index(), Diagnostics(cfg.diagnostics)
    judge, watched = Judge(cfg, index, diagnostics), watched_live(cfg)
    diagnostics.watch(watched.stream)
    events = subscribed(index)
    judge.deliver(watched, [Opened(1, "h264", 640, 360, 25.0)], 0.0)
    for n in range(50):  # two seconds of packets, a picture with the first
        t = n / 25
        items = [PacketBatch(1, (Packet(t, 2500, n % 50 == 0, t),))]
        if n == 0:
            items.append(Picture(1, t, 640, 360, thumb(0), b"jpeg"))
        judge.deliver(watched, items, t)
    judge.evaluate(watched, 2.0, 1000.0, 0.5)
    assert (watched.record.state, watched.record.snapshot, watched.record.codec) == ("online", b"jpeg", "h264")
    assert [(kind, data["state"]) for kind, data in events()] == [("state", "online")], "one event for the change"
    judge.evaluate(watched, 2.5, 1000.5, 0.5)
    assert events() == [], "no change, no event"
    judge.deliver(watched, [Closed(1, "unreachable", "gone", True)], 3.0)
    assert watched.record.state == "offline" and watched.record.reasons == ("unreachable",)
    assert [data["previous"] for _, data in events()] == ["online"]


def test_the_judge_counts_the_batches_a_reader_hands_over_late():
    cfg = config(("cam", "public-security"))
    judge, watched = Judge(cfg, Index(), Diagnostics(cfg.diagnostics)), watched_live(cfg)
    others = [watched_live(cfg) for _ in range(3)]
    for other in others:  # FFmpeg's read timed out on a silent camera: it flushes what it held, late, once
        judge.deliver(other, [PacketBatch(1, (Packet(9.5, 2500, True, 9.5),))], 10.0)
        judge.deliver(other, [PacketBatch(1, (Packet(4.0, 2500, False, 4.0),))], 14.0)
    assert judge.behind.take(busy=False) == 0.0, "one late batch and silence on an idle hub: the camera's"
    for other in others:  # readers that fell behind: late batch after batch
        judge.deliver(other, [PacketBatch(1, (Packet(4.5, 2500, False, 4.5),))], 14.5)
    judge.deliver(watched, [PacketBatch(1, (Packet(14.4, 2500, True, 14.4),))], 14.5)  # on time
    assert judge.behind.take(busy=False) == 0.75
    assert watched.record.last_frame_at is not None


def test_a_reader_behind_its_camera_does_not_make_it_stalled_but_a_camera_that_stops_sending_is():
    cfg = config(("lagging", "public-security"), ("stopped", "public-security"), ("flushed", "public-security"))
    judge = Judge(cfg, Index(), Diagnostics(cfg.diagnostics))
    lagging, stopped, flushed = (watched_live(cfg, name) for name in ("lagging", "stopped", "flushed"))
    for watched in (lagging, stopped, flushed):
        judge.deliver(watched, [Opened(1, "h264", 640, 360, 25.0)], 0.0)
        for n in range(50):
            judge.deliver(watched, [PacketBatch(1, (Packet(n / 25, 2500, n % 25 == 0, n / 25),))], n / 25)
        judge.evaluate(watched, 2.0, 1002.0, 0.0)
        assert watched.record.state == "online"
    for at in (4.0, 4.5):  # handed over 2 s late, and again
        judge.deliver(lagging, [PacketBatch(1, (Packet(at - 2.0, 2500, False, at - 2.0),))], at)
    # A camera that stops: FFmpeg's read times out on the silent socket and it flushes the packets it still
    # held (late), then waits once more before it gives up
    silence = 2.0 + 4.0  # FFmpeg's socket timeout (`silence_limit_s`, at most stall_after_s)
    judge.deliver(flushed, [PacketBatch(1, (Packet(2.0, 2500, False, 2.0),))], silence)
    after = 2.0 + cfg.health.stall_after_s + 1.0
    for watched in (lagging, stopped, flushed):
        judge.evaluate(watched, after, 1000.0 + after, 0.0)
    assert stopped.record.reasons == ("stalled",), "its last packets came on time: the camera stopped"
    assert flushed.record.reasons == ("stalled",), "one flushed batch is not a reader behind: shown on time"
    assert lagging.record.state == "online", "its reader fell behind: the hub's doing, not shown"
    later = lagging.behind_until + 0.1
    judge.evaluate(lagging, later, 1000.0 + later, 0.0)
    assert lagging.record.reasons == ("stalled",), "still silent once the hub has had time to catch up: shown"


def test_a_fault_the_late_hub_may_have_caused_is_held_until_confirmed():
    cfg = config(("cam", "public-security"))
    index = Index()
    judge, watched = Judge(cfg, index, Diagnostics(cfg.diagnostics)), watched_live(cfg)
    watched.record.state = "online"
    judge.deliver(watched, [Opened(1, "h264", 640, 360, 25.0), PacketBatch(1, (Packet(0.0, 2500, True, 0.0),))], 0.0)
    judge.late_until = 100.0  # the loop was late: a stall now may be the hub's own doing
    judge.evaluate(watched, 20.0, 1020.0, 0.0)
    assert watched.record.state == "online", "held while the hub may be the cause"
    judge.late_until = 0.0
    judge.evaluate(watched, 21.0, 1021.0, 0.0)
    assert (watched.record.state, watched.record.reasons) == ("offline", ("stalled",))


def test_a_killed_workers_streams_stay_as_they_were_until_its_new_reader_opens_then_count_from_there():
    cfg = config(("slow", "public-security"), ("dead", "public-security"), ("never", "public-security"))
    judge = Judge(cfg, Index(), Diagnostics(cfg.diagnostics))
    slow, dead, never = (watched_live(cfg, name) for name in ("slow", "dead", "never"))
    stall = cfg.health.stall_after_s
    for watched in (slow, dead, never):
        judge.deliver(watched, [Opened(1, "h264", 640, 360, 25.0)], 0.0)
        for n in range(50):
            judge.deliver(watched, [PacketBatch(1, (Packet(n / 25, 2500, n % 25 == 0, n / 25),))], n / 25)
        judge.evaluate(watched, 2.0, 1002.0, 0.0)
        judge.deliver(watched, [ReaderLost(0)], 2.0)  # their worker was killed at 2 s
    restarted = 2.0 + stall + 3.0  # the new worker took longer than the stall rule's time to start
    for watched in (slow, dead, never):
        judge.evaluate(watched, restarted, 1000.0 + restarted, 0.0)
        assert watched.record.state == "online", "the hub's own worker died: no camera fault"
    judge.deliver(slow, [Opened(1, "h264", 640, 360, 25.0)], restarted)  # opened again, video soon after
    judge.deliver(slow, [PacketBatch(1, (Packet(restarted + 1, 2500, True, restarted + 1),))], restarted + 1)
    judge.deliver(dead, [Opened(1, "h264", 640, 360, 25.0)], restarted)  # opened again, and silent
    judge.evaluate(slow, restarted + 2, 1000.0 + restarted + 2, 0.0)
    assert slow.record.state == "online" and slow.health.reconnects == 1, "a counted reconnect"
    judge.evaluate(dead, restarted + stall + 0.5, 1000.0 + restarted + stall + 0.5, 0.0)
    assert dead.record.reasons == ("stalled",), "silent for the stall rule's time since its new reader opened"
    judge.evaluate(never, 2.0 + READER_LOST_HOLD_S + 0.1, 1100.0, 0.0)
    assert never.record.reasons == ("stalled",), "no new reader ever opened: shown once the hold is over"


def test_a_failed_probe_of_a_patrolled_camera_asks_for_a_visit_and_is_shown():
    cfg = config(("cam", "property"))
    index = Index()
    judge = Judge(cfg, index, Diagnostics(cfg.diagnostics))
    stream = cfg.stream("cam")
    watched = Watched(stream, "patrol", None, h.StreamHealth(cfg.health, None), StreamRecord.from_stream(stream))
    assert judge.probed(watched, ProbeOutcome("unreachable", 5.0), 5.0, 1005.0) is True
    assert (watched.record.state, watched.record.reasons) == ("offline", ("unreachable",))
    assert watched.record.probed_at == 1005.0


def test_a_patrolled_camera_going_live_keeps_its_verdict_while_connecting_even_past_its_period():
    from hub.patrol.verdict import VisitOutcome

    cfg = config(("cam", "property"))
    judge, watched = Judge(cfg, Index(), Diagnostics(cfg.diagnostics)), watched_live(cfg)
    watched.health = h.StreamHealth(cfg.health, None)  # a live connection that has no frame yet
    watched.visit = VisitOutcome(h.Verdict("online"), 0.0)
    watched.record.state = "online"
    period = cfg.monitor.patrol_period_s
    judge.evaluate(watched, period + 3.0, 1000.0, 0.5)  # its visit is now older than a period
    assert (watched.record.state, watched.record.reasons) == ("online", ()), "renewed right now, not 'overdue'"
    watched.supervisor = None  # still on patrol: the same age is overdue
    judge.evaluate(watched, period + 3.5, 1000.5, 0.5)
    assert (watched.record.state, watched.record.reasons) == ("connecting", ("overdue",))


def test_modes_keep_sensitive_and_watched_streams_live_and_shed_the_last_by_id():
    cfg = config(("ps-1", "public-security"), ("ps-2", "public-security"), ("ps-3", "public-security"), ("cc-1", "childcare"))
    streams = {sid: watched_live(cfg, sid) for sid in ("ps-1", "ps-2", "ps-3", "cc-1")}
    assert choose_shed(streams.values(), set(), 1.0, None) == set()
    assert choose_shed(streams.values(), set(), 0.3, None) == {"ps-2", "ps-3"}, "two of three shed, the last by id"
    assert choose_shed(streams.values(), {"ps-3"}, 0.3, None) == {"ps-2"}, "somebody looks at ps-3"
    assert choose_shed(streams.values(), set(), 1.0, 2) == {"ps-2", "ps-3"}, "the childcare room counts against the ceiling"
    patrolled = streams["ps-1"]
    patrolled.mode = "patrol"
    assert wants_live(patrolled, looked_at=True) and not wants_live(patrolled, looked_at=False)


def test_a_reload_keeps_what_reads_the_same_and_restarts_what_does_not():
    old = config(("a", "property"), ("b", "property"), ("c", "property"))
    running = {sid: watched_live(old, sid) for sid in ("a", "b", "c")}
    for watched in running.values():
        watched.mode = old.mode_of(watched.stream)  # property cameras patrol by default
    new = parse_config(
        CAMERA.format(id="a", category="property", url="rtsp://10.0.0.1/live", extra='site = "renamed"\n')
        + CAMERA.format(id="b", category="property", url="rtsp://10.0.0.2/other", extra="")
        + CAMERA.format(id="d", category="property", url="rtsp://10.0.0.1/live", extra="")
    )
    plan = plan_reload(old, new, running)
    assert (plan.unchanged, plan.restarted, plan.started, plan.stopped) == (("a",), ("b",), ("d",), ("c",))


def test_outages_are_written_and_announced_once_per_change_of_the_down_streams():
    index = Index()
    events = subscribed(index)
    down = tuple(Member(f"cam-{n}", "North", (), True, 100.0 + n, "unreachable", "property") for n in range(5))
    view = OutageView(down, 5, 120.0)
    publish_outages(index, view)
    publish_outages(index, OutageView(down, 5, 120.0))  # the same down streams again
    assert list(index.outages) == ["site:North:unreachable"] and events() == [("outages", {})]
    publish_outages(index, OutageView((), 5, 120.0))
    assert index.outages == {} and events() == [("outages", {})]


def test_the_live_budget_grows_while_the_hub_is_calm_and_shrinks_at_once_when_it_is_not():
    from hub.load.budget import MIN, START, LiveBudget
    from hub.load.governor import LoadSample

    budget = LiveBudget()
    assert budget.value == START
    assert not budget.observe(LoadSample(0.0, 0.05), 40, False, None, 0.0), "a budget nobody fills does not grow"
    for second in range(1, 120):  # every slot used, each stream costing 0.2 % of the machine
        live = budget.value
        budget.observe(LoadSample(0.0, 0.002 * live), live, False, None, float(second))
    assert 280 <= budget.value <= 330, "it settles about where the measured cost fills 60 % of the machine"
    budget.observe(LoadSample(0.3, 0.9), 300, True, None, 130.0)
    assert budget.value == 255, "late or busy: at once to 85 % of what is live"
    budget.observe(LoadSample(0.3, 0.9), 255, True, None, 132.0)
    assert budget.value == 255, "the next cut waits until the last one's own work has shown"
    budget.observe(LoadSample(0.0, 0.1), 255, False, None, 133.0)
    assert budget.value == 255, "and it does not grow again before things settle"
    budget.observe(LoadSample(0.0, 0.1), 255, False, 100, 160.0)
    assert budget.value == 100, "never above the ceiling a severe stall taught"
    budget.observe(LoadSample(2.0, 1.0), 5, True, None, 161.0)
    assert budget.value >= MIN
    busy_patrol = LiveBudget()  # the hub's other work (a big patrol) costs 40 %, each live stream 0.1 %
    for second in range(300):
        live = busy_patrol.value if second % 30 < 25 else max(8, busy_patrol.value - 20)  # cameras come and go
        lag = 0.2 if second % 10 == 0 else 0.0  # a list built, a render: a tenth of a second late now and then
        busy_patrol.observe(LoadSample(lag, 0.4 + 0.001 * live), live, False, None, float(second))
    assert 170 <= busy_patrol.value <= 220, "it fills 60 %; stray late seconds do not wear it down"
    growing = LiveBudget()
    steps = [growing.value]
    for second in range(10):  # calm and full: it grows, a step at most every GROW_EVERY_S
        growing.observe(LoadSample(0.0, 0.001 * growing.value), growing.value, False, None, float(second))
        steps.append(growing.value)
    changed = [second for second in range(1, len(steps)) if steps[second] != steps[second - 1]]
    assert len(changed) == 2 and changed[1] - changed[0] >= 5, f"a step at most every 5 s, the new streams' CPU first: {steps}"
    small_site = LiveBudget()
    small_site.observe(LoadSample(2.0, 0.03), 15, True, None, 0.0)
    assert small_site.value == START, "late while the hub is idle: something else held the loop, the budget stays"


def test_auto_cameras_are_chosen_by_need_then_priority_and_keep_their_place():
    from hub.monitor.modes import BUDGET, FIRST, OVER_BUDGET, RECENT_FAULT, WATCHED, Need, choose_auto

    cfg = config(("a", "property"), ("b", "property"), ("c", "public-security"), ("k", "childcare"), ("w", "property"))
    streams = {sid: watched_live(cfg, sid) for sid in ("a", "b", "c", "k", "w")}
    for w in streams.values():
        w.supervisor = None  # nothing live yet
    need = {
        "a": Need(False, False, False, 1),
        "b": Need(False, False, True, 1),  # had a fault
        "c": Need(False, False, False, 0),  # public-security comes before property
        "k": Need(False, True, False, 2),  # childcare first
        "w": Need(True, False, False, 1),  # somebody looks
    }
    chosen = choose_auto([(streams[s], need[s]) for s in streams], 3)
    assert chosen == {"w": (True, WATCHED), "k": (True, FIRST), "b": (True, RECENT_FAULT),
                      "c": (False, OVER_BUDGET), "a": (False, OVER_BUDGET)}  # fmt: skip
    chosen = choose_auto([(streams[s], need[s]) for s in streams], 5)
    assert chosen["c"] == (True, BUDGET) and chosen["a"] == (True, BUDGET)
    streams["a"].supervisor = Supervisor()  # "a" is live already, "c" is not: among equals nobody is moved out
    plain = [(streams[s], Need(False, False, False, 0)) for s in ("a", "c")]
    assert choose_auto(plain, 1) == {"a": (True, BUDGET), "c": (False, OVER_BUDGET)}
    equals = [(streams[s], Need(False, False, False, 0)) for s in ("k", "c", "b")]  # patrolled, equal need
    assert choose_auto(equals, 2) == {"b": (True, BUDGET), "c": (True, BUDGET), "k": (False, OVER_BUDGET)}, "then by id"
