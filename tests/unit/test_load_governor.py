"""The load governor's judgement, driven with made-up samples: when it sheds, in which order, and that it never flaps."""

from __future__ import annotations

from hub.load.governor import (
    BUSY_SHARE,
    CEILING_SETTLE_S,
    CEILING_SHARE,
    LOWER_AFTER,
    MEMORY_S,
    RAISE_AFTER,
    READERS_BEHIND_HIGH,
    READERS_BEHIND_LOW,
    RETRY_SHARE,
    SEVERE_LAG_S,
    SHED_LEVELS,
    Governor,
    LiveCeiling,
    LoadSample,
)

CALM, HOT_LOOP, HOT_CPU, MIDDLING = LoadSample(0.01, 0.3), LoadSample(0.4, 0.4), LoadSample(0.01, 0.97), LoadSample(0.1, 0.8)


def test_shedding_goes_pictures_first_then_patrol_then_live_streams():
    assert [s.picture_factor for s in SHED_LEVELS] == sorted(s.picture_factor for s in SHED_LEVELS)
    first_patrol_cut = next(i for i, s in enumerate(SHED_LEVELS) if s.patrol_share < 1)
    first_live_cut = next(i for i, s in enumerate(SHED_LEVELS) if s.live_share < 1)
    assert all(s.picture_factor == SHED_LEVELS[-1].picture_factor for s in SHED_LEVELS[first_patrol_cut:]), (
        "patrol concurrency is cut only once picture sampling is already at its slowest"
    )
    assert first_live_cut > first_patrol_cut and all(
        s.patrol_share == SHED_LEVELS[-1].patrol_share for s in SHED_LEVELS[first_live_cut:]
    ), "live streams are shed last, once patrol is already at its slowest"
    assert SHED_LEVELS[-1].live_share > 0, "some live streams always stay live"


def test_a_loop_half_a_second_late_raises_the_level_at_once():
    governor = Governor()
    assert governor.judge(LoadSample(0.8, 0.5)) and governor.level == 1


def test_a_level_is_raised_after_sustained_load_only():
    governor = Governor()
    for _ in range(RAISE_AFTER - 1):
        assert not governor.judge(HOT_LOOP)
    assert not governor.judge(CALM), "a calm sample in between starts the count again"
    changes = [governor.judge(HOT_CPU) for _ in range(RAISE_AFTER)]
    assert changes[-1] and governor.level == 1 and governor.overloaded
    assert governor.shed.picture_factor == 2.0


def test_it_climbs_to_the_top_and_stays_there_under_load():
    governor = Governor()
    for _ in range(RAISE_AFTER * 10):
        governor.judge(HOT_LOOP)
    assert governor.level == len(SHED_LEVELS) - 1


def test_it_steps_down_one_level_per_calm_spell_and_middling_load_holds_the_level():
    governor = Governor(level=3)
    for _ in range(LOWER_AFTER * 3):
        governor.judge(MIDDLING)
    assert governor.level == 3, "neither hot nor calm: no change, no flapping"
    for _ in range(LOWER_AFTER):
        governor.judge(CALM)
    assert governor.level == 2
    for _ in range(LOWER_AFTER * 2):
        governor.judge(CALM)
    assert governor.level == 0 and not governor.overloaded


def test_the_live_ceiling_is_learnt_from_a_severely_late_loop_and_grows_back():
    ceiling = LiveCeiling()
    assert not ceiling.observe(LoadSample(0.3, 0.5), 300, 0.0), "late, but not severely: no ceiling"
    assert ceiling.value is None
    assert ceiling.observe(LoadSample(SEVERE_LAG_S + 0.1, 0.5), 300, 1.0)
    assert ceiling.value == int(300 * CEILING_SHARE)
    assert not ceiling.observe(LoadSample(2.0, 0.5), 200, 1.0 + CEILING_SETTLE_S / 2), "shedding's own stall is no evidence"
    assert not ceiling.observe(LoadSample(2.0, 0.5), 310, 30.0), "a stall with more streams live never raises it"
    assert ceiling.observe(LoadSample(2.0, 0.5), 200, 40.0) and ceiling.value == int(200 * CEILING_SHARE)
    ceiling.relax(41.0)
    assert ceiling.value > int(200 * CEILING_SHARE), "each calmer level lets a few more live"
    for _ in range(10):
        ceiling.relax(42.0)
    assert ceiling.value == int(200 * RETRY_SHARE), "not as many as starved it, for a while"
    ceiling.relax(40.0 + MEMORY_S + 1)
    assert ceiling.value > int(200 * RETRY_SHARE), "then it tries again"
    tiny = LiveCeiling()
    assert not tiny.observe(LoadSample(2.0, 0.5), 3, 0.0), "a handful of streams cannot be what starves the hub"
    idle = LiveCeiling()
    assert not idle.observe(LoadSample(2.0, BUSY_SHARE / 3), 15, 0.0), "the hub idle: somebody else held the loop"
    assert idle.value is None


def test_readers_falling_behind_lower_the_live_ceiling_and_keeping_up_raises_it_again():
    """The overload benchmark's hub: its loop on time, the machine's pressure middling, 400 readers too slow."""
    ceiling, behind = LiveCeiling(), LoadSample(0.02, 0.6, 0.25, READERS_BEHIND_HIGH * 4)
    assert not any(ceiling.observe(behind, 400, float(t)) for t in range(RAISE_AFTER - 1)), "one bad second is not enough"
    assert not ceiling.observe(LoadSample(0.02, 0.6, 0.25, READERS_BEHIND_HIGH / 2), 400, 3.0), "a few late batches: no"
    assert not any(ceiling.observe(behind, 400, float(t)) for t in range(4, 4 + RAISE_AFTER - 1))
    assert ceiling.observe(behind, 400, 10.0) and ceiling.value == int(400 * CEILING_SHARE)
    assert not ceiling.observe(behind, ceiling.value, 11.0), "the cut's own shedding settles first"
    lowered = ceiling.value
    for t in range(LOWER_AFTER):
        ceiling.observe(LoadSample(0.01, 0.4), lowered, 30.0 + t)
    assert ceiling.value > lowered, "readers on time for a while: a few more may go live"
    idle = LiveCeiling()
    assert not any(idle.observe(LoadSample(0.02, BUSY_SHARE / 3, 0.0, 1.0), 50, float(t)) for t in range(10)), (
        "every batch late while the hub is idle: a paused machine, not the streams' cost"
    )


def test_a_starvation_while_another_program_took_a_core_is_forgotten_once_it_is_gone():
    """The estate's CPU hog: a core taken for a minute starves the readers; once it is gone the ceiling grows
    back past the retry share within minutes, not after MEMORY_S. The same starvation with the machine's
    other load steady (the overload benchmark: the hub's own streams) keeps the memory."""
    hogged, calm = LoadSample(0.02, 0.5, 0.6, READERS_BEHIND_HIGH * 4, 0.7), LoadSample(0.01, 0.4, 0.1, 0.0, 0.2)
    ceiling = LiveCeiling()
    for t in range(RAISE_AFTER):
        ceiling.observe(hogged, 300, float(t))
    assert ceiling.value == int(300 * CEILING_SHARE) and ceiling.crowded_by == 0.7
    t = 100.0
    for _ in range(8 * LOWER_AFTER):  # two minutes with the hog gone
        ceiling.observe(calm, ceiling.value, t)
        t += 1.0
    assert t < MEMORY_S and ceiling.value > int(300 * RETRY_SHARE), "back past the retry share, the hog's cut forgotten"
    steady = LiveCeiling()
    busy = LoadSample(0.02, 0.6, 0.25, READERS_BEHIND_HIGH * 4, 0.3)
    for t in range(RAISE_AFTER):
        steady.observe(busy, 300, float(t))
    t = 100.0
    for _ in range(8 * LOWER_AFTER):
        steady.observe(LoadSample(0.01, 0.4, 0.1, 0.0, 0.3), steady.value, t)
        t += 1.0
    assert steady.value == int(300 * RETRY_SHARE), "the hub's own starvation: not as many as starved it, for a while"


def test_readers_behind_counts_the_batches_that_reach_the_loop_late():
    from hub.load.readers_behind import ReadersBehind

    readers = ReadersBehind()
    assert readers.take(busy=True) == 0.0, "no batch: nothing behind"
    for late, again in ((False, False), (False, False), (False, False), (True, True), (True, True), (True, True)):
        readers.note(late, again)
    assert readers.take(busy=False) == 0.5
    assert readers.take(busy=False) == 0.0, "each share is of the batches since the last"
    for late, again in ((False, False), (False, False), (True, True), (True, True)):  # a small site: half of them
        readers.note(late, again)
    assert readers.take(busy=False) == 0.0, "fewer than 3 late batches in a second: one reader's hiccup, not readers behind"
    shares: list[float] = []
    for _ in range(2):
        for late, again in ((False, False), (True, False), (True, False), (True, False)):  # lone late batches
            readers.note(late, again)
        shares.append(readers.take(busy=not shares))
    assert shares == [0.75, 0.0], "a busy hub's readers can starve: lone late batches count; an idle hub's are flushes"


def test_cpu_pressure_is_read_from_linux_psi_and_is_zero_without_it(tmp_path):
    from hub.load.meter import cpu_pressure

    psi = tmp_path / "cpu"
    psi.write_text("some avg10=42.50 avg60=10.00 avg300=1.00 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
    assert cpu_pressure(psi) == 0.425
    assert cpu_pressure(tmp_path / "missing") == 0.0
    psi.write_text("garbage")
    assert cpu_pressure(psi) == 0.0


def test_the_machine_s_busy_time_is_read_from_proc_stat_without_idle_and_io_wait(tmp_path):
    from hub.load.meter import TICKS_PER_SECOND, machine_cpu_seconds

    stat = tmp_path / "stat"
    stat.write_text("cpu  100 5 50 1000 40 3 2 0 0 0\ncpu0 50 2 25 500 20 1 1 0 0 0\n")
    assert machine_cpu_seconds(stat) == (100 + 5 + 50 + 3 + 2) / TICKS_PER_SECOND
    assert machine_cpu_seconds(tmp_path / "missing") == 0.0
    assert machine_cpu_seconds() > 0.0, "this machine's own"


def test_readers_falling_behind_stop_the_live_budget_growing_and_more_of_them_cut_it():
    from hub.load.budget import START, LiveBudget

    crowded = LiveBudget()
    crowded.observe(LoadSample(0.0, 0.2, 0.2, READERS_BEHIND_LOW * 2), START, False, None, 0.0)
    assert crowded.value == START, "the hub is calm, but a few readers are behind: no growth"
    starved = LiveBudget()
    starved.observe(LoadSample(0.0, 0.2, 0.2, READERS_BEHIND_HIGH * 2), START, False, None, 0.0)
    assert starved.value < START, "readers fall behind their cameras: give streams back"
    busy_machine = LiveBudget()
    busy_machine.observe(LoadSample(0.0, 0.2, 0.45), START, False, None, 0.0)
    assert busy_machine.value > START, "other programs wait for a CPU, the readers keep up: room for more"
