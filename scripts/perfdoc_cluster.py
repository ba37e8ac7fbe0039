"""The cluster's sections of docs/performance.md: failover, the two-node reference run, the 100,000-camera
simulation, the records' cost, and the sizing table. Called by `scripts/performance_doc.py`.
"""

from __future__ import annotations

from perfdoc_common import load, machine, met, table


def cluster() -> str:
    r = load("cluster")
    if r is None:
        return ""
    rows = [
        [i + 1, k["victim"], k["moved"], k["failover_s"], k["share_back_s"], k["share_back"]] for i, k in enumerate(r["kills"])
    ]
    return "\n".join(
        [
            "## Cluster failover\n",
            f"`python bench/cluster.py`: one `redis-server`, one simulator with {r['cameras']} cameras and {r['nodes']} "
            "`hub serve` nodes on loopback; the busiest node is killed with SIGKILL and restarted, again and again. The "
            "simulator's sessions per feed are sampled every 100 ms throughout: a feed with two sessions at once counts as "
            f"double pull. Targets: every camera pulled again within {r['failover_target_s']:.0f} s of a kill, and no double "
            "pull at all. *Share back*: from the restart until every node's plan has nothing left to move "
            "(`hub_cluster_moving_cameras` 0 everywhere: the cool-down, then a few cameras a step); *cameras back*: what "
            "the restarted node holds then. Redis is killed once the last share is back.\n",
            machine(r) + "\n",
            table(["kill", "node", "cameras it held", "all pulled again, s", "share back, s", "cameras back"], rows),
            "",
            f"Failover median {r['failover_median_s']} s, worst {r['failover_worst_s']} s "
            f"({met(r['failover_worst_s'], r['failover_target_s'])}); double pull {r['double_pull_s']} s "
            f"({met(r['double_pull_s'], 0.0)}); the first spread over the nodes took {r['first_spread_s']} s.",
            "",
            *_redis_away(r.get("redis_away")),
        ]
    )


def _redis_away(away: dict | None) -> list[str]:
    if away is None:
        return []
    return [
        f"Redis killed for {away['away_s']:g} s, then started again empty: at most {away['most_unpulled']} cameras "
        f"unpulled meanwhile ({met(away['most_unpulled'], 0)}), {away['double_pull_s']} s of double pull; every node back "
        f"on Redis and every camera claimed again {away['recovered_s']} s after it came back.",
        "",
    ]


def cluster_reference() -> str:
    r = load("cluster_reference")
    if r is None:
        return ""
    b, a, args = r["before"], r["after"], r["args"]
    rows = [
        ["n1, before the kill", b["n1"]["held"], b["n1"]["live"], b["n1"]["patrol"]],
        ["n2, before the kill", b["n2"]["held"], b["n2"]["live"], b["n2"]["patrol"]],
        ["n2, after the takeover", a["held"], a["live"], a["patrol"]],
    ]
    return "\n".join(
        [
            "## Cluster: the reference estate on two nodes, one killed\n",
            f"`python bench/cluster_reference.py`: the {r['cameras']:,}-camera reference estate ({r['faulty']} of them "
            "with a fault of their own) on two `hub serve` nodes in mode auto, one `redis-server` and the simulator on "
            f"loopback (patrol period {args['period']:g} s, probes every {args['probe']:g} s). Once both nodes hold cameras "
            "and every camera has a verdict, n1 is killed with SIGKILL. A state change of a camera n2 already held, with "
            "no fault of its own, is a false state change (target 0); the simulator's sessions are sampled every 100 ms "
            "for double pulls.\n",
            machine(r) + "\n",
            table(["node", "cameras held", "live", "patrolled"], rows),
            "",
            f"n2 held all {r['cameras']:,} cameras {r['held_all_s']} s after the kill, and had its own verdict of every "
            f"one and a patrol round since the kill {r['judged_all_s']} s after it. False state changes of the cameras "
            f"n2 already had: **{r['false_own_after_kill']}** from the kill until {args['observe']:g} s after that round "
            f"({met(r['false_own_after_kill'], 0)}), {r['false_before_kill']} in the {args['observe']:g} s before the kill; "
            f"changes of the cameras it took over, after their first verdict on n2: "
            f"{r['changes_taken_after_first_verdict']}{_taken(r)}; double pull {r['double_pull_s']} s "
            f"({met(r['double_pull_s'], 0.0)}). "
            "False changes by kind: " + _kinds(r) + ".",
            "",
            *_patrol_after(r),
        ]
    )


def _kinds(r: dict) -> str:
    if "false_own_kinds" not in r:  # results from before the count by kind
        return (
            ", ".join(
                sorted({f"{c['previous']} -> {c['state']} {','.join(c['reasons'])}".strip() for c in r["false_own_examples"]})
            )
            or "none"
        )
    return ", ".join(f"{kind}: {count}" for kind, count in sorted(r["false_own_kinds"].items())) or "none"


def _taken(r: dict) -> str:
    kinds = {f"{c['previous']} -> {c['state']} {','.join(c['reasons'])}".strip() for c in r.get("taken_examples", [])}
    return f" ({', '.join(sorted(kinds))})" if kinds else ""


def _patrol_after(r: dict) -> list[str]:
    p, period = r.get("patrol_after"), r["args"]["period"]
    if not p:
        return []
    return [
        f"n2's patrol after the kill: visits of up to {p['mean_visit_max_s']} s on average, at least "
        f"{p['concurrency_min']} at once; period kept up to {p['period_kept_max_s']:g} s (configured {period:g} s), "
        f"{p['period_kept_last_s']:g} s at the end.",
        "",
    ]


def cluster_scale() -> str:
    r = load("cluster_scale")
    if r is None:
        return ""
    rows = [
        ["every camera held by a live node, from a cold start", f"{r['first_spread_s']} s"],
        ["Redis at steady state, commands from the nodes", f"{r['redis_commands_per_s']:,} a second"],
        ["Redis at steady state, with the calls its scripts make", f"{r['redis_calls_per_s']:,} a second"],
        ["Redis's CPU at steady state", f"{r['redis_cpu_share'] * 100:.2f} % of a core"],
        [
            "Redis network at steady state",
            f"in {r['redis_net_in_bytes_per_s']:,} B/s, out {r['redis_net_out_bytes_per_s']:,} B/s",
        ],  # fmt: skip
        ["cameras per node", f"{r['per_node_least']:,} to {r['per_node_most']:,} (CV {r['per_node_cv']:.1%})"],
        ["one node works out the whole assignment", f"{r['assign_s']} s"],
        ["... and again after a node left", f"{r['assign_again_s']} s"],
        [
            "a node killed: its cameras held by the others again",
            f"{r['node_death_taken_over_s']} s ({r['node_death_moved']:,} cameras)",
        ],  # fmt: skip
    ]
    return "\n".join(
        [
            "## Cluster at a city's scale (simulation)\n",
            f"`python bench/cluster_scale.py`: {r['cameras']:,} cameras over {r['nodes']} simulated nodes on one loopback "
            "`redis-server`, no video. Each node is a process running the real cluster node (heartbeat, assignment, "
            "moves, fenced claims) with a monitor that pulls nothing; record sharing is left out (its cost is the "
            "next section). Fifty nodes on two "
            f"cores would starve each other's heartbeats, so the nodes run their clockwork {r['dilation']:g} times "
            "slower and the figures are scaled back (rates times, durations divided by that factor); the assignment "
            "times are measured in one process at full speed.\n",
            machine(r) + "\n",
            table(["measure", "value"], rows),
            "",
        ]
    )


def cluster_records() -> str:
    r = load("cluster_records")
    if r is None:
        return ""
    rows = []
    for x in r["sizes"]:
        both = x["writers_and_readers"]
        rows.append([f"{x['cameras']:,}", x["nodes"], f"{x['records_per_s_needed']:,.0f}", f"{x['reads_per_s_needed']:,.0f}",
                     f"{both['read_per_s']:,.0f} by {x['readers']} nodes" + ("" if x["read_kept_up"] else " (fell behind)"),
                     f"{both['redis_cpu_share'] * 100:.1f} %", f"{x['redis_cpu_share_full_rate'] * 100:.1f} %",
                     f"{x['redis_net_out_mbit_full_rate']:,.0f}", f"{x['node_cpu_share_full_rate'] * 100:.1f} %"])  # fmt: skip
    return "\n".join(
        [
            "## Cluster records (simulation)\n",
            "`python bench/cluster_records.py`: what sharing the cameras' records costs, with the real store code "
            "(the fenced Lua write, the Stream read as each node's estate sync reads it) on one loopback "
            "`redis-server`, no video. Each simulated node holds its share of the claims and writes its cameras' "
            f"records at the rate `hub serve` does: a live camera's every {r['refresh_s']:g} s, a patrolled camera's "
            f"once a period ({r['patrol_period_s']:g} s), with the reference run's share of live cameras "
            f"({r['live_share']:.1%}); every node reads every record. Redis's CPU at the full rate is worked out from "
            "its CPU per record written (writers alone) and per record read (writers and up to 8 of the nodes "
            "reading), since this machine's one Python process cannot read for all the nodes of the largest "
            "cluster. A "
            f"node takes in another node's record (`EstateSync._apply`: parse, index, events) in "
            f"{r['node_cpu_per_record_us']:g} µs.\n",
            machine(r) + "\n",
            table(
                [
                    "cameras",
                    "nodes",
                    "records written/s",
                    "reads needed/s",
                    "reads done/s here",
                    "Redis CPU here",
                    "Redis CPU at the full rate",
                    "Redis out, Mbit/s",
                    "a node's CPU to read",
                ],
                rows,
            ),  # fmt: skip
            "",
        ]
    )


def cluster_sizing() -> str:
    est, scale, fail, rec = load("estate"), load("cluster_scale"), load("cluster"), load("cluster_records")
    if est is None or scale is None or est.get("estate") is None:
        return ""
    e = est["estate"]
    per_machine, cores = e["cameras"], est["machine"]["cores"]
    per_node_commands = scale["redis_commands_per_s"] / scale["nodes"]
    records = {x["cameras"]: x for x in rec["sizes"]} if rec else {}
    rows = []
    for cameras in (1555, 10_000, 100_000):
        nodes = -(-cameras // per_machine) + 1  # N+1: the estate fits on all nodes but one
        shared = records.get(cameras)
        redis = "one instance; Sentinel (3 sentinels, a replica) for its own failover"
        if nodes > 10:
            redis = "one instance on a machine of its own; Sentinel (3 sentinels, a replica)"
        if shared and shared["redis_net_out_mbit_full_rate"] > 500:
            redis += "; a 10 Gbit/s network for Redis (the records' reads)"
        cost = "-" if shared is None else (
            f"{shared['records_per_s_needed']:,.0f} written/s; Redis {shared['redis_cpu_share_full_rate'] * 100:.1f} % "
            f"of a core, {shared['redis_net_out_mbit_full_rate']:,.0f} Mbit/s out"
        )  # fmt: skip
        rows.append(
            [f"{cameras:,}", f"{nodes} ({nodes - 1} carry it, 1 spare)", f"about {per_node_commands * nodes:,.0f}", cost, redis]
        )
    failover = (
        ""
        if fail is None
        else f" A killed node's cameras were pulled again within {fail['failover_worst_s']} s (worst of {len(fail['kills'])})."
    )
    return "\n".join(
        [
            "## Cluster sizing\n",
            f"Nodes like this machine ({cores} cores), each carrying what one machine carried in the estate run above "
            f"({per_machine:,} cameras in mode auto, {e['cores_mean']} cores on average), plus one spare so that a dead "
            f"node's cameras fit on the rest. The cluster's own Redis traffic (heartbeats, claims) is about "
            f"{per_node_commands:.1f} commands a second per node at steady state, from the {scale['cameras']:,}-camera "
            "simulation; the shared records come on top (a record at each state change and at most every 5 s while its "
            "measurements move, read by every node), from the records' simulation above: they grow with cameras times "
            f"nodes, and at the largest size Redis's network out is what to provision.{failover}\n",
            table(["cameras", "nodes", "cluster commands/s at steady state", "records (every node reading)", "Redis"], rows),
            "",
        ]
    )
