"""The incident store on a real SQLite file, and the history generator that fills it for demos and benchmarks."""

from __future__ import annotations

import time

from hub.incidents.history import OPEN_DAYS, generate
from hub.incidents.model import OPEN_STATES, Incident, Step
from hub.incidents.store import IncidentStore, Query, StoredFile

NOW = 1_790_000_000.0


def incident(id_: str, at: float, kind: str = "fire", severity: int = 2, reporter: str = "grid-1", **kw) -> Incident:
    made = Incident(id_, kind, severity, 31.77, 117.30, "smoke", reporter, at, **kw)
    made.history.append(Step(at, reporter, "reported", {"kind": kind}))
    return made


def test_an_incident_is_kept_whole_and_a_client_id_is_kept_once(tmp_path):
    with IncidentStore(tmp_path / "x.incidents.sqlite") as store:
        photo = StoredFile.of("photo-1.jpg", "photo", "image/jpeg", NOW, b"\xff\xd8jpeg")
        first = incident("inc-1", NOW, client_id="phone-7", photos=("photo-1.jpg",), site="North")
        assert store.add(first, [{"id": "gate", "distance_m": 12.0, "covers": True}], [photo]) is first
        assert store.add(incident("inc-2", NOW + 1, client_id="phone-7"), [], []) is None, "the same report twice"
        assert store.add(incident("inc-3", NOW + 1, reporter="grid-2", client_id="phone-7"), [], []) is not None
        kept = store.get("inc-1")
        assert (kept.site, kept.photos, [s.action for s in kept.history]) == ("North", ("photo-1.jpg",), ["reported"])
        assert store.by_client_id("grid-1", "phone-7").id == "inc-1"
        assert store.cameras_at_report("inc-1") == [{"id": "gate", "distance_m": 12.0, "covers": True}]
        assert store.file("inc-1", "photo-1.jpg").body == b"\xff\xd8jpeg"
        assert [f.name for f in store.files("inc-1")] == ["photo-1.jpg"]
        kept.state, kept.acknowledged_at = "acknowledged", NOW + 90
        store.update(kept, [Step(NOW + 90, "op", "state", {"state": "acknowledged"})])
        again = store.get("inc-1")
        assert again.state == "acknowledged" and [s.action for s in again.history] == ["reported", "state"]
        assert store.ack_times() == [90.0]
        assert store.count_open() == {("fire", 2): 2}, "inc-1 and inc-3; the repeated report was never kept"


def test_filters_find_what_operators_ask_for(tmp_path):
    with IncidentStore(tmp_path / "x.incidents.sqlite") as store:
        rows = [
            incident("old-fire", NOW - 9000, "fire", 4, state="closed"),
            incident("new-dispute", NOW - 10, "dispute", 1),
            incident("serious-traffic", NOW - 500, "traffic", 3, state="acknowledged"),
            incident("merged", NOW - 400, "traffic", 3, merged_into="serious-traffic"),
            incident("mine", NOW - 300, "dispute", 2, reporter="grid-9", state="resolved"),
        ]
        store.add_many([(r, []) for r in rows])
        ids = lambda query: [i.id for i in store.search(query)]  # noqa: E731
        assert ids(Query()) == ["new-dispute", "mine", "merged", "serious-traffic", "old-fire"], "newest first"
        assert ids(Query(open_only=True)) == ["serious-traffic", "new-dispute"], "the queue: serious first, no merged"
        assert ids(Query(kinds=("traffic",), min_severity=3)) == ["merged", "serious-traffic"]
        assert ids(Query(states=("closed",))) == ["old-fire"]
        assert ids(Query(states=("resolved",))) == ["mine"]
        assert ids(Query(reporter="grid-9")) == ["mine"]
        assert ids(Query(since=NOW - 450, until=NOW - 100)) == ["mine", "merged"]
        assert ids(Query(limit=2)) == ["new-dispute", "mine"]
        assert ids(Query(bbox=(31.0, 117.0, 32.0, 118.0), kinds=("fire",))) == ["old-fire"]


def test_history_looks_like_a_communitys_years(tmp_path):
    now = time.time()
    made = list(generate(3000, [(31.77, 117.30), (31.78, 117.31)], now - 2 * 365 * 86400, now, seed=5))
    assert len({i.id for i in made}) == 3000
    assert all(now - 2 * 365 * 86400 <= i.reported_at <= now for i in made)
    opened = [i for i in made if i.state in OPEN_STATES]
    assert opened and all(now - i.reported_at < OPEN_DAYS * 86400 for i in opened), "only the last days stay open"
    closed = [i for i in made if i.state == "closed"]
    assert len(closed) > 0.95 * len(made)
    assert all(i.acknowledged_at is not None and i.acknowledged_at >= i.reported_at for i in closed)
    kinds = {k: sum(1 for i in made if i.kind == k) for k in ("dispute", "fire")}
    assert kinds["dispute"] > 5 * kinds["fire"], "disputes are common, fires rare"
    with IncidentStore(tmp_path / "h.incidents.sqlite") as store:
        store.add_many([(i, []) for i in made])
        assert sum(store.count_open().values()) == len(opened)
        assert len(store.search(Query(limit=1000))) == 1000


def test_what_is_not_shared_yet_is_known_and_another_nodes_copy_merges_in(tmp_path):
    """A cluster node's store: its own changes wait to be shared (until marked), another node's copy comes
    in whole (fields, history, files) without being shared back, and a phone's report that reached two
    nodes stays two incidents rather than stopping the merge."""
    with IncidentStore(tmp_path / "x.incidents.sqlite") as store:
        mine = incident("inc-1", NOW, client_id="phone-7")
        store.add(mine, [], [])
        assert store.unshared(10) == [("inc-1", NOW)]
        store.mark_shared("inc-1", NOW - 1)  # an older change's time: this one is still to be shared
        assert store.unshared(10) == [("inc-1", NOW)]
        store.mark_shared("inc-1", NOW)
        assert store.unshared(10) == []
        theirs = incident("inc-9", NOW + 5, reporter="grid-1", client_id="phone-7")  # the same phone, via another node
        theirs.history.append(Step(NOW + 9, "op-b", "state", {"state": "acknowledged"}))
        theirs.state, theirs.acknowledged_at = "acknowledged", NOW + 9
        picture = StoredFile.of("snapshot-gate.jpg", "snapshot", "image/jpeg", NOW + 6, b"\xff\xd8gate")
        store.merge(theirs, [{"id": "gate", "distance_m": 5.0, "covers": False}], [picture], shared=True)
        kept = store.get("inc-9")
        assert (kept.state, kept.acknowledged_at, kept.client_id) == ("acknowledged", NOW + 9, "")
        assert [s.action for s in kept.history] == ["reported", "state"]
        assert store.file("inc-9", "snapshot-gate.jpg").body == b"\xff\xd8gate"
        assert store.by_client_id("grid-1", "phone-7").id == "inc-1" and store.unshared(10) == []
        store.unshare_all()
        assert sorted(i for i, _ in store.unshared(10)) == ["inc-1", "inc-9"], "Redis lost its data: share all again"
