"""Write docs/performance.md from the benchmarks' results (bench/results/*.json): no figure is typed by hand.

Run: .venv/bin/python scripts/performance_doc.py          (writes docs/performance.md)
     .venv/bin/python scripts/performance_doc.py --check  (exit 1 if the page differs from what the results give)

The prose below says how each benchmark measures and what its targets are; every number in the page
comes from a results file (a unit test runs `--check`, so the page cannot drift from the results).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sections' modules beside this script
from perfdoc_cluster import cluster, cluster_records, cluster_reference, cluster_scale, cluster_sizing  # noqa: E402
from perfdoc_common import REPO, load, machine, met, table  # noqa: E402

PAGE = REPO / "docs" / "performance.md"
DETECT_TARGETS = {"stall": 6.0, "freeze": 10.0, "black": 10.0}
RECOVER_TARGET_S = 3.0


def ingest() -> str:
    result = load("ingest_cost")
    if result is None:
        return ""
    rows = result["rows"]
    out = [
        "## Ingest cost\n",
        "`python bench/ingest_cost.py --streams 16 64 256`: 640x360, 25 fps, about 500 kbit/s H.264, a keyframe every 2 s. "
        "*hub* is `hub serve` with every check on; *pyav* a bare PyAV demux loop, one thread per stream, doing nothing; "
        "*pyav_keyframes* that loop decoding one keyframe every 2 s as the hub does (no deblocking, then dropped): "
        "the floor for any tool that looks at the picture without decoding every frame; "
        "*opencv* a `cv2.VideoCapture` read loop per stream. Target: the hub at most 1.5x the bare loop's CPU per stream.\n",
        machine(result) + "\n",
        table(
            ["streams", "contender", "CPU % of one core", "CPU % per stream", "RSS MiB", "RSS MiB per stream", "fps per stream"],
            [
                [
                    r["streams"],
                    r["contender"],
                    r["cpu_percent"],
                    r["cpu_percent_per_stream"],
                    r["rss_mib"],
                    r["rss_mib_per_stream"],
                    r["fps_per_stream"],
                ]
                for r in rows
            ],
        ),
        "",
    ]
    ratios = []
    for streams in sorted({r["streams"] for r in rows}):
        by = {r["contender"]: r for r in rows if r["streams"] == streams}
        if "hub" in by and "pyav" in by:
            ratio = by["hub"]["cpu_percent_per_stream"] / by["pyav"]["cpu_percent_per_stream"]
            opencv = by["opencv"]["cpu_percent_per_stream"] / by["hub"]["cpu_percent_per_stream"] if "opencv" in by else None
            floor = by.get("pyav_keyframes")
            floor_ratios = (
                ["-", "-"]
                if floor is None
                else [
                    f"{floor['cpu_percent_per_stream'] / by['pyav']['cpu_percent_per_stream']:.2f}",
                    f"{by['hub']['cpu_percent_per_stream'] / floor['cpu_percent_per_stream']:.2f}",
                ]
            )
            versus_opencv = "-" if opencv is None else f"{opencv:.1f}"
            ratios.append([streams, f"{ratio:.2f} ({met(ratio, 1.5)})", *floor_ratios, versus_opencv])
    headers = ["streams", "hub / bare PyAV (target <= 1.5)", "keyframe floor / bare PyAV", "hub / keyframe floor", "OpenCV / hub"]
    out += [table(headers, ratios), ""]
    out += _marginal(rows)
    for name, what in (
        ("ingest_cost_64_after_patrol", "after the estate work"),
        ("ingest_cost_64_lazy_jpeg", "with lazy JPEG encoding"),
        ("ingest_cost_64_shared_decoders", "with keyframe decoders shared by a process's readers"),
        ("ingest_cost_64_picture_4s", "with `picture_interval_s = 4` (half the keyframes decoded)"),
        ("ingest_cost_today", "with the code of the latest run"),
    ):
        later = load(name)
        if later is not None:
            by = {r["contender"]: r for r in later["rows"] if r["streams"] == 64}
            if "hub" not in by or "pyav" not in by:
                continue
            ratio = by["hub"]["cpu_percent_per_stream"] / by["pyav"]["cpu_percent_per_stream"]
            out.append(
                f"- 64 streams {what} (`bench/results/{name}.json`): hub {by['hub']['cpu_percent_per_stream']} % of a core "
                f"per stream, bare PyAV {by['pyav']['cpu_percent_per_stream']} %: ratio {ratio:.2f} ({met(ratio, 1.5)})."
            )
            marginal = _marginal(later["rows"])
            if marginal:
                out.append(f"  {marginal[0]}")
    return "\n".join(out) + "\n"


def _marginal(rows: list[dict]) -> list[str]:
    """What one more live stream costs, from the two smallest sizes: the hub's fixed part (web server, UI,
    libraries) is not a per-stream cost."""
    sizes = sorted({r["streams"] for r in rows})
    if len(sizes) < 2:
        return []
    small, large = sizes[0], sizes[1]
    by = {(r["streams"], r["contender"]): r for r in rows}
    if not all((n, c) in by for n in (small, large) for c in ("hub", "pyav")):
        return []

    def extra(contender: str, key: str) -> float:
        return (by[(large, contender)][key] - by[(small, contender)][key]) / (large - small)

    mem = extra("hub", "rss_mib") / extra("pyav", "rss_mib")
    cpu = extra("hub", "cpu_percent") / extra("pyav", "cpu_percent")
    return [
        f"One more live stream, from {small} to {large} streams: hub {extra('hub', 'rss_mib'):.2f} MiB and "
        f"{extra('hub', 'cpu_percent'):.3f} % of a core, bare PyAV {extra('pyav', 'rss_mib'):.2f} MiB and "
        f"{extra('pyav', 'cpu_percent'):.3f} %: memory {mem:.2f}x ({met(mem, 1.5)}), CPU {cpu:.2f}x ({met(cpu, 1.5)}).",
        "",
    ]


def detect() -> str:
    result = load("detect_times")
    if result is None:
        return ""
    faults: dict[str, list] = {}
    for trial in result["trials"]:
        faults.setdefault(trial["fault"], []).append(trial)
    rows = []
    for fault, trials in faults.items():
        detect_s = [t["detect_s"] for t in trials if t["detect_s"] is not None]
        recover = [t["recover_after_backoff_s"] for t in trials if t.get("recover_after_backoff_s") is not None]
        target = DETECT_TARGETS.get(fault)
        rows.append(
            [
                fault,
                f"{statistics.median(detect_s):.1f}",
                f"{max(detect_s):.1f}",
                "-" if target is None else f"{target:g} ({met(max(detect_s), target)})",
                f"{statistics.median(recover):.1f}" if recover else "-",
                f"{max(recover):.1f}" if recover else "-",
            ]
        )
    return "\n".join(
        [
            "## Time to detect\n",
            "`python bench/detect_times.py --trials 10`: the default settings, each fault injected on separate cameras "
            "through the simulator's control API, timed from the call to the hub's own event. Back online: from clearing "
            f"the fault to `online`, after the reconnect backoff (target {RECOVER_TARGET_S:g} s).\n",
            machine(result) + "\n",
            table(
                ["fault", "detect median s", "detect worst s", "target s", "back online median s", "back online worst s"], rows
            ),
            "",
        ]
    )


def api() -> str:
    r = load("api_scale")
    if r is None:
        return ""
    rows = [
        [
            f"`GET /api/streams` p50 / p99, 50 clients polling once a second ({r['list_bytes'] // 1024} KiB)",
            f"{r['list_p50_ms']:.1f} / {r['list_p99_ms']:.1f} ms",
            f"p99 <= 50 ms: {met(r['list_p99_ms'], 50)}",
        ],
        [
            "`GET /api/streams/{id}` p50 / p99, 50 clients at 10 requests/s each",
            f"{r['record_p50_ms']:.1f} / {r['record_p99_ms']:.1f} ms",
            f"p99 <= 5 ms: {met(r['record_p99_ms'], 5)}",
        ],
        [
            "the same, saturated by wrk (50 connections)",
            f"list {r['saturated_list_rps']:.0f} req/s (p99 {r['saturated_list_p99_ms']:.0f} ms), record "
            f"{r['saturated_record_rps']:.0f} req/s (p99 {r['saturated_record_p99_ms']:.0f} ms)",
            "-",
        ],
        [
            f"`/metrics` scrape, median and worst ({r['scrape_bytes'] // 1024} KiB)",
            f"{r['scrape_ms']:.1f} / {r['scrape_max_ms']:.0f} ms",
            f"<= 250 ms: {met(r['scrape_ms'], 250)}",
        ],
        [
            f"SSE fan-out to {r['sse_subscribers']} subscribers, p50 / p99",
            f"{r['sse_p50_ms']:.1f} / {r['sse_p99_ms']:.1f} ms",
            "-",
        ],
    ]
    return "\n".join(
        [
            "## API at estate scale\n",
            f"`python bench/api_scale.py`: 1,555 streams (1,000 / 538 / 14 / 3 by category), {r['pulling']} pulling video, "
            "the rest reconnecting to a closed port; every request with a bearer token through the access gate.\n",
            machine(r) + "\n",
            table(["measure", "value", "target"], rows),
            "",
        ]
    )


def capacity() -> str:
    r = load("live_capacity")
    if r is None:
        return ""
    rows = [
        [
            x["processes"],
            x["cameras"],
            f"{x['fps_median']} ({x['fps_p1']})",
            f"{x['cpu_percent']:.0f} % of a core",
            f"{x['rss_mib']:.0f}",
            "yes" if x["passed"] else "no",
        ]
        for x in r["rows"]
    ]
    caps = {int(k): v for k, v in r["capacity"].items()}
    line = ", ".join(f"{n} process{'es' if n > 1 else ''}: **{c}**" for n, c in sorted(caps.items()))
    ratio = caps[max(caps)] / caps[min(caps)] if len(caps) > 1 else None
    return "\n".join(
        [
            "## Live cameras per process\n",
            "`python bench/live_capacity.py`: how many live cameras (640x360, 25 fps) keep full frame rate with "
            "`ingest_processes = 1` and `= 2`. A rung passes when 98 % of the cameras deliver at least 90 % of 25 fps over "
            "the window and the hub logs no state change.\n",
            machine(r) + "\n",
            table(
                ["ingest processes", "cameras", "fps median (1st percentile)", "CPU of the hub's processes", "RSS MiB", "passed"],
                rows,
            ),
            "",
            f"Capacity: {line}"
            + (f"; {ratio:.1f}x with two processes (target >= 1.6x: {met(ratio, 1.6, most=False)})." if ratio else "."),
            "",
        ]
    )


def _estate_rows(e: dict) -> list[list]:
    return [
        ["simulator listening (clip cache " + ("empty" if e["cold_cache"] else "warm") + ")", f"{e['sim_ready_s']} s", "-"],
        ["first patrol round (every patrolled camera visited once)", f"{e['first_round_s']} s", "-"],
        [
            "live cameras (mode auto): when the wall opened / fewest / most / at the end",
            f"{e['live_at_steady_start']} / {e['live_min']} / {e['live_max']} / {e['live_at_end']}",
            "as many as fit",
        ],
        ["what one more live stream costs, measured", f"{100 * e['live_cost_share']:.2f} % of the machine", "-"],
        ["live and wall cameras, lowest fps", f"{e['live_fps_min']} and {e['wall_fps_min']}", "full frame rate"],
        [
            "`GET /api/streams` p50 / p99" + (" (outside the CPU hog's minute)" if "list_p99_hog_ms" in e else ""),
            f"{e['list_p50_ms']} / {e['list_p99_ms']} ms",
            f"p99 <= 50 ms: {met(e['list_p99_ms'], 50)}",
        ],
        [
            "`GET /api/streams/{id}` p50 / p99" + (" (outside the CPU hog's minute)" if "record_p99_hog_ms" in e else ""),
            f"{e['record_p50_ms']} / {e['record_p99_ms']} ms",
            f"p99 <= 5 ms: {met(e['record_p99_ms'], 5)}",
        ],
        *_hog_latency_rows(e),
        [
            "`/metrics` p50 / p99 (two scrapers)",
            f"{e['scrape_p50_ms']} / {e['scrape_p99_ms']} ms",
            f"p99 <= 100 ms: {met(e['scrape_p99_ms'], 100)}",
        ],
        ["CPU of the hub's processes, mean / worst 5 s", f"{e['cores_mean']} / {e['cores_max_5s']} cores", "<= 1.5 cores"],
        ["memory of the hub's processes, most", f"{e['rss_mib_max']} MiB", "<= 2 GiB"],
        [
            "false transitions (cameras with no fault changing state): start / wall / CPU hog / rest",
            _phases(e),
            f"0: {met(e['false_transitions'], 0)}",
        ],
    ]


def _hog_latency_rows(e: dict) -> list[list]:
    if "list_p99_hog_ms" not in e:
        return []
    return [
        [
            "same, while the CPU hog takes one of the two cores: list / record p50 / p99",
            f"{e['list_p50_hog_ms']} / {e['list_p99_hog_ms']} ms; {e['record_p50_hog_ms']} / {e['record_p99_hog_ms']} ms",
            "-",
        ]
    ]


def _phases(e: dict) -> str:
    return " / ".join(str(e["false_by_phase"].get(p, 0)) for p in ("start", "wall", "hog", "rest"))


def estate() -> str:
    r = load("estate")
    if r is None or "estate" not in r:
        return ""
    e = r["estate"]
    detections: dict[str, dict[str, float]] = {}
    for d in e["detections"]:
        detections.setdefault(d["fault"], {})[d["mode"]] = d["detected_s"]
    detect_rows = [
        [fault, f"{modes.get('live', '-')} s", f"{modes.get('patrol', '-')} s"] for fault, modes in sorted(detections.items())
    ]
    out = [
        "## The whole estate\n",
        f"`python bench/estate.py`, the load of `hub demo --estate`: {e['cameras']:,} cameras in mode auto "
        f"(`patrol_period_s = {e['period_s']:g}`, `probe_interval_s = {e['probe_interval_s']:g}`, "
        f'`patrol_concurrency = {e["patrol_concurrency"]}`, `ingest_processes = "{e["processes"]}"`), '
        + ("health reading 640x360 substreams" if e["substreams"] else "no substreams: health reads the 1280x720 main streams")
        + f". After the first patrol round, for {e['steady_s']} s: a 16-tile wall of patrolled cameras opened at once, "
        + "the API polled as pages poll it"
        + (" (from a process of its own, `bench/api_poller.py`)" if "api_answers" in e else "")
        + f", two scrapers on `/metrics`, a CPU hog taking one core for {e['hog_s']:g} s "
        "halfway, and the seven fault kinds injected on one live and one patrolled camera each.\n",
        machine(r) + "\n",
        table(["measure", "value", "target"], _estate_rows(e)),
        "",
    ]
    plain = r.get("estate_no_substreams")
    if plain is not None:
        out += [
            f"Without substreams (`--no-substreams`, health reads the main streams): live cameras "
            f"{plain['live_at_steady_start']} / {plain['live_min']} / {plain['live_max']} / {plain['live_at_end']} "
            f"(wall / fewest / most / end), one more live stream {100 * plain['live_cost_share']:.2f} % of the machine, "
            f"false transitions {plain['false_transitions']}, record p99 {plain['record_p99_ms']} ms, "
            f"list p99 {plain['list_p99_ms']} ms.\n"
        ]
    for key, what in (
        ("estate_psi_budget", "while the live budget followed the machine's CPU pressure instead of its readers"),
        ("estate_before_pressure", "before the live budget heeded any starvation (the loop and its own CPU only)"),
    ):
        before = r.get(key)
        if before is not None:
            where = f" on {before['machine']['cpu']}" if "machine" in before else ""
            out += [
                f"For comparison, the run {what} (`{key}`{where}): live cameras {before['live_at_steady_start']} / "
                f"{before['live_min']} / {before['live_max']} / {before['live_at_end']}, false transitions "
                f"{before['false_transitions']} (start / wall / hog / rest: {_phases(before)}), "
                f"record p99 {before['record_p99_ms']} ms, list p99 {before['list_p99_ms']} ms.\n"
            ]
    for key, when in (
        ("estate_api_before", "before the loop's work was cut into slices"),
        ("estate_api_before_door", "before the read door answered the list and record reads"),
        ("estate_api_before_keep_alive", "while the read door closed every connection after its answer"),
    ):
        api_before = r.get(key)
        if api_before is not None:
            out += [
                f"The API {when} ({api_before['what']}): list p50 / p99 "
                f"{api_before['list_p50_ms']} / {api_before['list_p99_ms']} ms, record {api_before['record_p50_ms']} / "
                f"{api_before['record_p99_ms']} ms (during the CPU hog: list {api_before['list_p99_hog_ms']} ms, record "
                f"{api_before['record_p99_hog_ms']} ms at p99).\n"
            ]
    out += [
        "The live budget over the run (`/healthz`, every 30 s):\n",
        table(
            ["t (s)", "budget", "live", "shed level", "CPU share", "CPU pressure", "readers' batches late"],
            [
                [p["t"], p["budget"], p["live"], p["level"], p["cpu_share"], p.get("pressure", "-"), p.get("readers_behind", "-")]
                for p in e["budget_timeline"][::3]
            ],
        ),
        "",
        "Time to detect each injected fault (targets: a stall on a live camera within 6 s; for patrol, probe faults "
        "within `probe_interval_s` + 5 s, picture faults within `patrol_period_s` + 30 s):\n",
        table(["fault", "live camera", "patrolled camera"], detect_rows),
        "",
    ]
    runs = r.get("overload_runs")
    if runs:
        o = r["overload"]
        out += [
            f"**Overload** (`python bench/estate.py --overload 2 --runs {len(runs)}`): twice what one process carries, "
            f"{o['live_cameras']} cameras in mode live in one process, for {o['seconds']:g} s after it settles, "
            f"{len(runs)} runs.\n",
            table(
                ["run", "false transitions", "online at the end", "list p50 / p99 (ms)", "record p99 (ms)"],
                [
                    [i + 1, x["false_transitions"], x["online"], f"{x['list_p50_ms']} / {x['list_p99_ms']}", x["record_p99_ms"]]
                    for i, x in enumerate(runs)
                ],
            ),
            "",
            f"False transitions in every run: {met(max(x['false_transitions'] for x in runs), 0)} (target 0 in all).\n",
        ]
    return "\n".join(out)


def small_ones() -> str:
    out = []
    wall, markers, sim = load("wall_cpu"), load("map_markers"), load("sim_load")
    if wall:
        out += [
            "## Video wall\n",
            f"`python bench/wall_cpu.py`: hub CPU with {wall['tiles']} cameras and nobody watching "
            f"{wall['hub_cpu_no_wall_percent']} % of a core; with a {wall['tiles']}-tile wall playing in Chromium "
            f"{wall['hub_cpu_wall_percent']} % (the remux to fMP4 and the WebSocket). Tiles play "
            f"{wall['tile_buffer_latency_median_s']} s (median, most {wall['tile_buffer_latency_max_s']} s) "
            "behind the newest frame they received.\n",
            machine(wall) + "\n",
        ]
    if markers:
        out += [
            "## Map\n",
            f"`python bench/map_markers.py --streams {markers['markers']}`: {markers['markers']:,} markers in headless Chromium "
            f"load in {markers['load_s']} s and the map keeps {markers['fps_while_zooming_and_panning']} frames/s while "
            f"zooming and panning (worst frame {markers['worst_frame_ms']} ms; {markers['idle_fps']} frames/s idle).\n",
            machine(markers) + "\n",
        ]
    if sim:
        keys = ("streams", "cpu_percent_of_one_core", "rss_mib", "fps_per_stream", "mbit_per_s_total")
        rows = [[r.get(k) for k in keys] for r in sim["rows"]]
        out += [
            "## Simulator\n",
            "`python bench/sim_load.py --streams 50 200`: the simulator serving each camera to one RTSP/TCP client.\n",
            machine(sim) + "\n",
            table(["streams", "CPU % of one core", "RSS MiB", "fps per stream", "Mbit/s in all"], rows),
            "",
        ]
    return "\n".join(out)


def diagnostics() -> str:
    r = load("diagnostics")
    if r is None:
        return ""
    natural = load("diagnostics_natural") or {"trials": {}}
    sim_trials, nat_trials = r["trials"], natural["trials"]
    faults = list(sim_trials) + [k.split("/")[0] for k in nat_trials if k.split("/")[0] not in sim_trials]

    def cell(trial: dict | None) -> str:
        if trial is None:
            return ""
        median = "" if trial["median_detect_s"] is None else f", {trial['median_detect_s']:.0f} s"
        confused = f" (also {', '.join(trial['confused'])})" if trial["confused"] else ""
        learnt = trial.get("baselines_learnt_from_the_fault")
        return f"{trial['detected']}/{trial['trials']}{median}{confused}" + (f"; learnt {learnt}" if learnt else "")

    rows = []
    for name in dict.fromkeys(faults):
        some = sim_trials.get(name) or nat_trials.get(f"{name}/after") or nat_trials.get(f"{name}/start")
        rows.append(
            [
                name,
                some["check"],
                "yes" if some["default"] else "",
                cell(sim_trials.get(name)),
                cell(nat_trials.get(f"{name}/after")),
                cell(nat_trials.get(f"{name}/start")),
            ]
        )
    alarm_lines = []
    for label, result in (("simulator", r), ("natural", natural)):
        fa = result.get("false_alarms")
        if fa:
            alarms = sum(fa["false_alarms"].values())
            hours = fa["clean_camera_hours"]
            alarm_lines.append(f"{label}: {alarms} in {hours:.1f} clean camera-hours ({alarms / hours:.3f} per camera-hour)")
    cost_run = load("diagnostics_cost") or {}
    cost = cost_run.get("cost_per_stream") or r.get("cost_per_stream")
    return "\n".join(
        [
            "## Picture diagnostics\n",
            "`python bench/diagnostics.py` (the simulator's scenes) and `python bench/diagnostics.py --set natural` "
            "(photographs through a lens, light and a sensor model, served by GStreamer's RTSP server): each picture fault "
            "at three strengths; on the simulator after a clean baseline, on natural footage after a clean baseline and "
            "present from the camera's first frame; clean cameras of every scene (natural: day, night, slow change of "
            "light) for false alarms. Cells: found/trials, median seconds to detect (from the fault, or from the "
            "camera's first time online), other checks reported, and baselines learnt from a faulty picture. Targets: "
            "recall at least 0.95 at the default strength on both sets, no false alarm, and at most 0.05 % of a core "
            "per live stream.\n",
            machine(r) + "\n",
            table(["fault", "check", "default", "simulator", "natural, after a baseline", "natural, from the start"], rows),
            "",
            "False alarms: " + "; ".join(alarm_lines) + ".",
            ""
            if not cost
            else f"\nCost per live stream: {cost['total']:.3f} % of a core ({met(cost['total'], 0.05)}): measurer "
            f"{cost['measurer']:.3f}, readers {cost['readers']:.3f}, event loop {cost['event_loop']:.3f} "
            f"(`bench/results/{'diagnostics_cost' if cost_run.get('cost_per_stream') else 'diagnostics'}.json`).",
            "",
        ]
    )


def sharpness_measures() -> str:
    r = load("sharpness_measures")
    if r is None:
        return ""
    heads = ["measure", "clean, changing light", "defocus 1.5", "defocus 3", "blur 3", "dirty lens 0.5", "fog 0.7"]
    return "\n".join(
        [
            "### Sharpness measures compared\n",
            "`python bench/sharpness_measures.py`: candidate sharpness measures on the natural scenes through H.264; each "
            "cell is the range over the scenes of a picture's value over the same scene's clean value. A good measure keeps "
            "the clean column near 1 and takes the faults far below it on every scene; `hub` is the one the checks use "
            "(trigger at 0.75x the camera's own).\n",
            machine(r) + "\n",
            table(heads, r["rows"]),
            "",
        ]
    )


def sign_ins() -> str:
    r = load("login_burst")
    if r is None:
        return ""
    rows = [
        [phase, kind, lat["n"], lat["p50_ms"], lat["p99_ms"], lat["max_ms"]]
        for phase in ("calm", "attacked")
        for kind, lat in r[phase]["latency"].items()
    ]
    attacked = r["attacked"]
    legit = ", ".join(f"{x['status']} in {x['ms']:.0f} ms" for x in attacked["legitimate_sign_ins"]) or "none tried"
    return "\n".join(
        [
            "## Sign-in bursts\n",
            f"`python bench/login_burst.py`: bursts of {r['burst']} bogus sign-ins at once (each from a new address and user "
            "name through a trusted proxy: the case the failure limits cannot stop) while an admin lists, reads records and "
            f"scales snapshots. Target: the admin's p99 under {r['target_p99_ms']} ms during the attack.\n",
            machine(r) + "\n",
            table(["phase", "request", "n", "p50 ms", "p99 ms", "max ms"], rows),
            "",
            f"{attacked['bursts']} bursts; sign-in answers {attacked['sign_ins']}; "
            f"hub CPU calm {r['calm']['hub_cpu_percent']} %, attacked {attacked['hub_cpu_percent']} %. "
            f"Legitimate sign-ins during the attack (from an address that signed in before): {legit}. Target "
            f"{met(attacked['latency']['all']['p99_ms'], r['target_p99_ms'])}.",
            "",
        ]
    )


def incidents() -> str:
    r = load("incidents")
    if r is None:
        return ""
    rows = [[name, f"`{f['query'] or '(none)'}`", f["rows"], f["p50_ms"], f["p99_ms"]] for name, f in r["filters"].items()]
    return "\n".join(
        [
            "## Incidents at the seed's scale\n",
            f"`python bench/incidents.py`: {r['args']['count']:,} incidents of history (`hub incidents generate`: reports "
            "around the reference estate's cameras over 9 years, triaged) in a hub's store; `GET /api/incidents` asked "
            f"with each filter {r['args']['rounds']} times over HTTP while new reports arrive.\n",
            machine(r) + "\n",
            table(["filter", "query", "rows", "p50 ms", "p99 ms"], rows),
            "",
            f"p99 of all {r['requests']:,} requests: **{r['p99_ms']} ms** (target 50 ms: {met(r['p99_ms'], 50.0)}); the "
            f"history was generated in {r['generated_s']} s.",
            "",
            *incidents_map(),
        ]
    )


def incidents_map() -> list[str]:
    r = load("incidents_map")
    if r is None:
        return []
    a = r["args"]
    return [
        "### The map opened with every open incident\n",
        f"`python bench/incidents_map.py`: the reference estate's {r['cameras']:,} placed cameras (records only: their "
        f"addresses are a closed port), {a['count']:,} incidents of history and {a['open']} more reported through the "
        f"API, so {r['open_incidents']} are open; headless Chromium, signed in, opens the page {a['runs']} times, each "
        "timed from navigation until every camera marker and every open incident's marker is drawn, the heat of 30 "
        f"days ({r['heat_reports']:,} reports) is loaded and the side panel counts them.\n",
        machine(r) + "\n",
        table(
            ["open incidents", "`GET /api/incidents/map` p50 / p99", "its size", "first opening", "median", "worst"],
            [
                [
                    r["open_incidents"],
                    f"{r['api_p50_ms']} / {r['api_p99_ms']} ms",
                    f"{r['api_bytes'] // 1024} KiB",
                    f"{r['first_s']} s",
                    f"{r['median_s']} s",
                    f"{r['worst_s']} s",
                ]
            ],
        ),  # fmt: skip
        "",
        f"Worst opening **{r['worst_s']} s** (target 2 s: {met(r['worst_s'], 2.0)}).",
        "",
    ]


def first_frame() -> str:
    r = load("first_frame")
    if r is None:
        return ""
    rows = []
    for mode in ("patrol", "live"):
        x = r.get(mode)
        if x is None:
            continue
        target = f"p95 <= 1.5 s: {met(x['motion']['p95'], 1.5)}" if mode == "patrol" else "-"
        rows.append(
            [
                "patrolled (opening one makes it go live)" if mode == "patrol" else "live all the time",
                x["opens"],
                f"{x['picture']['p50']} / {x['picture']['p95']} s",
                f"{x['motion']['p50']} / {x['motion']['p95']} s (most {x['motion']['max']} s)",
                target,
            ]
        )
    return "\n".join(
        [
            "## A picture at once when a tile opens\n",
            f"`python bench/first_frame.py --opens {max(x['opens'] for x in (r.get('patrol'), r.get('live')) if x)}`: "
            "cameras (640x360, 25 fps, a keyframe every 2 s) opened one after the other on a one-tile wall in headless "
            f"Chromium, each once, {r['pause_s']:g} s apart. From the moment the tile opens: *picture*, the hub's latest "
            "snapshot shown with its age; *motion*, the video's second frame presented.\n",
            machine(r) + "\n",
            table(["cameras", "opens", "picture p50 / p95", "moving video p50 / p95", "target"], rows),
            "",
            "How the peers start a picture, as their projects describe it: go2rtc connects to a camera when its "
            "first viewer asks, and the picture shows at the camera's next keyframe unless the camera starts each "
            "new session with one (go2rtc issues #1595 and #1755); its `preload` option keeps chosen streams "
            "connected (#1762), and a GOP cache that would hand a new viewer the last group of pictures at once "
            "is proposed (#1887). Frigate keeps every camera connected and restreams it through go2rtc, so a tile "
            "joins a running stream at its next keyframe. The hub shows its latest snapshot at once, with its "
            "age, and connects a patrolled camera the moment somebody opens it, with a short stream analysis; "
            "the video starts from the new connection's first keyframe. A live camera's reader keeps the packets "
            "since its last keyframe (up to 512 KiB) while nobody watches, so a new viewer starts from that "
            "keyframe and the player jumps to the live edge.",
            "",
        ]
    )


def sizing() -> str:
    cap, est = load("live_capacity"), load("estate")
    if cap is None or est is None:
        return ""
    caps = {int(k): v for k, v in cap["capacity"].items()}
    cores = cap["machine"]["cores"]
    most = max(caps)
    passing = [x for x in cap["rows"] if x["processes"] == most and x["passed"]]
    best = max(passing, key=lambda x: x["cameras"]) if passing else None
    mib_live = best["rss_mib"] / best["cameras"] if best else None
    e = est.get("estate")
    rows = [
        [
            "live cameras (every frame counted, a picture every 2 s)",
            f'about {caps[most] / cores:.0f} with `ingest_processes = "auto"`',
            "-" if mib_live is None else f"about {mib_live:.1f} MiB each",
        ]
    ]
    if e is not None:
        rows.append(
            [
                f"the estate in mode auto (`patrol_period_s` {e['period_s']:g})",
                f"{e['cameras']:,} cameras, {e['live_at_end']} of them live at the end, took {e['cores_mean']} cores on average",
                f"about {e['rss_mib_max'] / e['cameras']:.1f} MiB each, all in",
            ]
        )
    return "\n".join(
        [
            "## Sizing\n",
            "From the runs above (the live-capacity ladder and the whole estate):\n",
            table(["what", "per core", "memory"], rows),
            "",
        ]
    )


def page() -> str:
    intro = """# Performance

Every figure on this page comes from a benchmark's results file in `bench/results/`, written by the
benchmarks under `bench/` (`./scripts/bench.sh` runs them all; CI runs each once at its smallest size, into
a temporary folder). This page is generated: `.venv/bin/python scripts/performance_doc.py` writes it, and a
unit test fails when it differs from what the results give. The simulator always runs in its own process and
only the process under test is measured (CPU from `/proc`, after a warm-up, over a fixed window). Expect
15 % between runs on a shared VM; a target marked **missed** is open work, said so in the issue notes.
"""
    parts = [
        intro,
        ingest(),
        detect(),
        api(),
        capacity(),
        estate(),
        first_frame(),
        diagnostics(),
        sharpness_measures(),
        sign_ins(),
        cluster(),
        cluster_reference(),
        cluster_scale(),
        cluster_records(),
        incidents(),
        small_ones(),
    ]
    parts.append(sizing())
    parts.append(cluster_sizing())
    return "\n".join(p.rstrip() + "\n" for p in parts if p).rstrip() + "\n"


def main() -> int:
    text = page()
    if "--check" in sys.argv:
        if not PAGE.exists() or PAGE.read_text() != text:
            print(f"{PAGE} is not what bench/results/ gives: run scripts/performance_doc.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
