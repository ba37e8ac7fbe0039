"""Which node should pull each camera: weighted rendezvous (highest random weight) hashing, capped.

Pure and deterministic: every node computes the same answer from the same membership, with no
coordination. Each (camera, node) pair gets a pseudo-random draw u in (0, 1) from their names; the
node's score is -weight / ln(u), and the camera goes to its highest-scoring node that still has room.
With no cap binding, a node joining or leaving moves only the cameras that pick it (about 1/n of
them), and each node's share follows its weight. Vectorised with numpy: 100,000 cameras over 50 nodes
take well under a second. Runs on the event loop of every node in a cluster (or in a thread for
estates that large).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class NodeShare:
    """What a live node offers: `weight` (its measured capacity, relative) and `capacity` (cameras it may hold)."""

    weight: float
    capacity: int


def name_hash(name: str) -> int:
    """A stable 64-bit hash of a name (the same on every node and every run, unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: well-spread 64-bit outputs from correlated inputs."""
    with np.errstate(over="ignore"):
        z = values + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def camera_hashes(cameras: Sequence[str]) -> np.ndarray:
    return np.array([name_hash(c) for c in cameras], dtype=np.uint64)


def scores(
    cameras: Sequence[str], nodes: Mapping[str, NodeShare], hashes: np.ndarray | None = None
) -> tuple[list[str], np.ndarray]:
    """(node names, a cameras x nodes matrix of rendezvous scores: higher is preferred; `hashes`: the
    cameras' `name_hash`, if already at hand)."""
    names = sorted(nodes)
    cams = (camera_hashes(cameras) if hashes is None else hashes)[:, None]
    keys = np.array([name_hash(n) for n in names], dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        draws = _mix(cams ^ _mix(keys))
    u = ((draws >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)  # in (0, 1)
    weights = np.array([max(nodes[n].weight, 1e-9) for n in names])[None, :]
    return names, -weights / np.log(u)


def assign(cameras: Sequence[str], nodes: Mapping[str, NodeShare]) -> dict[str, str | None]:
    """Each camera's node: its highest-scoring live node with room. Cameras are placed in the order of
    how strongly they prefer their first choice, so that a cap displaces the cameras that care least.
    When the estate does not fit in every node's capacity together, no cap can hold: nothing is dropped,
    and each node takes its weighted share, capacities set aside (a node's capacity is what it can watch
    at its patrol period; past it, its patrol visits each camera less often, which beats not watching a
    camera at all). Capacities measured under load wobble, and more cameras lower them: were the caps
    kept then, cameras would move back and forth between nodes for nothing. None only with no node."""
    if not nodes or not cameras:
        return dict.fromkeys(cameras)
    names, matrix = scores(cameras, nodes)
    room = np.array([max(nodes[n].capacity, 0) for n in names])
    best = matrix.argmax(axis=1)
    if not fits(room, len(cameras)) or np.all(np.bincount(best, minlength=len(names)) <= room):
        return dict(zip(cameras, np.array(names, dtype=object)[best].tolist(), strict=True))
    order = np.argsort(-matrix, axis=1)  # each camera's nodes, best first
    out: dict[str, str | None] = {}
    for index in np.argsort(-matrix.max(axis=1), kind="stable"):
        choice = next(int(node) for node in order[index] if room[node] > 0)  # the estate fits: some node has room
        room[choice] -= 1
        out[cameras[int(index)]] = names[choice]
    return {camera: out[camera] for camera in cameras}


def fits(room: np.ndarray, cameras: int) -> bool:
    """Whether every node's capacity together holds the estate (else the caps are set aside)."""
    return int(room.sum()) >= cameras


def meaningful_change(before: Mapping[str, NodeShare], after: Mapping[str, NodeShare], share: float = 0.1) -> bool:
    """Whether the membership or a node's capacity changed enough to assign again: a node came or went,
    or a weight or capacity moved by more than `share` (capacity measures wobble; cameras should not)."""
    if set(before) != set(after):
        return True
    for name, old in before.items():
        new = after[name]
        for a, b in ((old.weight, new.weight), (old.capacity, new.capacity)):
            if abs(a - b) > share * max(abs(a), abs(b), 1e-9):
                return True
    return False


class Assigner:
    """`assign`, worked out again from the last answer when only membership changed: a node that joins
    takes the cameras whose score for it beats their best (one column of scores: every camera against
    one node), a node that leaves gives its cameras to their best among the rest (its cameras against
    the others). 100,000 cameras over 50 nodes: milliseconds, not the whole matrix. Anything else
    (other cameras, a weight or capacity changed, a cap that binds) is the full `assign`. The answer is
    the same either way. One per cluster node, called from a worker thread (never two at once)."""

    def __init__(self) -> None:
        self._cameras: Sequence[str] = ()
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._shares: dict[str, NodeShare] = {}
        self._best: np.ndarray = np.zeros(0, dtype=object)  # each camera's node
        self._score = np.zeros(0)  # and its score there

    def __call__(self, cameras: Sequence[str], nodes: Mapping[str, NodeShare]) -> dict[str, str | None]:
        nodes = dict(nodes)
        if cameras is not self._cameras or not self._shares:
            self._cameras, self._hashes, self._shares = cameras, camera_hashes(cameras), {}
        kept = {n: s for n, s in nodes.items() if n in self._shares}
        incremental = bool(self._shares) and bool(kept) and all(self._shares[n] == s for n, s in kept.items())
        if incremental:
            for gone in set(self._shares) - set(nodes):
                self._leave(gone, kept)
            for new in sorted(set(nodes) - set(self._shares)):
                self._join(new, nodes[new])
        else:
            self._full(cameras, nodes)
        self._shares = nodes
        room = np.array([max(nodes[n].capacity, 0) for n in sorted(nodes)])
        counts = {n: 0 for n in nodes}
        for node, count in zip(*np.unique(self._best, return_counts=True), strict=True):
            counts[node] = int(count)
        if fits(room, len(cameras)) and any(counts[n] > r for n, r in zip(sorted(nodes), room, strict=True)):
            self._shares = {}  # a cap binds: the full, capped assignment (and no increment from it)
            return assign(cameras, nodes)
        return dict(zip(cameras, self._best.tolist(), strict=True))

    def _full(self, cameras: Sequence[str], nodes: Mapping[str, NodeShare]) -> None:
        names, matrix = scores(cameras, nodes, self._hashes)
        best = matrix.argmax(axis=1)
        self._best = np.array(names, dtype=object)[best]
        self._score = matrix[np.arange(len(cameras)), best]

    def _join(self, name: str, share: NodeShare) -> None:
        _, column = scores(self._cameras, {name: share}, self._hashes)
        wins = column[:, 0] > self._score
        self._best[wins], self._score[wins] = name, column[wins, 0]

    def _leave(self, name: str, rest: Mapping[str, NodeShare]) -> None:
        lost = np.flatnonzero(self._best == name)
        if len(lost):
            names, matrix = scores([self._cameras[int(i)] for i in lost], rest, self._hashes[lost])
            best = matrix.argmax(axis=1)
            self._best[lost] = np.array(names, dtype=object)[best]
            self._score[lost] = matrix[np.arange(len(lost)), best]
