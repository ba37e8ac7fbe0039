"""From who holds each camera now to who should: the moves to make this step, gently.

Pure. Every node runs it on its own view (its event loop, each cluster tick) and acts only on the
moves that concern it: it claims the cameras given to it and hands over the ones taken from it. A
camera whose holder is gone (no heartbeat) moves at once: nobody pulls it. A camera held by a live
node that should now go elsewhere (a node joined or came back, capacities changed) moves only a few
at a time, so that a node's return is no stampede of reconnects against the cameras, and only to a
node that has passed its cool-down since joining.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Moves:
    """This step's changes: `orphans` (holder gone or none: claim now) and `rebalance` (holder alive:
    hand over gradually), each camera -> its new node."""

    orphans: dict[str, str]
    rebalance: dict[str, str]
    pending: int = 0  # cameras not where the assignment puts them, this step's and later steps' (0: settled)

    def claims(self, node: str) -> list[str]:
        """The cameras `node` should claim this step (a rebalanced one only once its holder handed it over)."""
        return sorted(c for c, goal in (*self.orphans.items(), *self.rebalance.items()) if goal == node)


def plan(held: Mapping[str, str | None], target: Mapping[str, str | None], alive: set[str], per_step: int) -> Moves:
    """The moves toward `target` for this step: every camera without a live holder, and at most
    `per_step` cameras that a live node holds but should give up (the first in `target`'s order, which
    every node takes from the same config)."""
    orphans: dict[str, str] = {}
    rebalance: dict[str, str] = {}
    pending = 0
    for camera, goal in target.items():  # the config's order: the same on every node
        holder = held.get(camera)
        if goal is None or goal == holder:
            continue
        pending += 1
        if holder is None or holder not in alive:
            orphans[camera] = goal
        elif len(rebalance) < per_step:
            rebalance[camera] = goal
    return Moves(orphans, rebalance, pending)


def releases(held: Mapping[str, str | None], moves: Moves, node: str) -> list[str]:
    """The cameras `node` holds that this step's moves give to another node: it stops pulling them and
    hands their claims over (`hub.cluster.node`) before the new holder pulls them."""
    return sorted(c for c, goal in moves.rebalance.items() if held.get(c) == node and goal != node)
