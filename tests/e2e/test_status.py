"""`hub status`: the estate in a terminal, asked of a running hub over its API with a token."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys


def status(*args: str, token: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HUB_TOKEN"} | ({"HUB_TOKEN": token} if token is not None else {})
    return subprocess.run([sys.executable, "-m", "hub", "status", *args], capture_output=True, text=True, timeout=60, env=env)


async def test_status_counts_every_category_and_state_and_lists_the_worst_problems_first(hub):
    await hub.wait_for("dead-camera", "offline", timeout=60)
    await hub.wait_for("cfg-black", "degraded", "black", timeout=60)
    done = await asyncio.to_thread(status, "--url", hub.url("/"), token=hub.token)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("category"))
    assert header.split() == ["category", "connecting", "online", "degraded", "offline", "unauthorized", "total"]
    rows = {
        line.split()[0]: line.split()[1:]
        for line in lines
        if line.split() and line.split()[0] in ("property", "public-security", "all")
    }
    assert rows["property"][-1] == "1" and rows["all"][-1] == "15"
    problems = [
        line.split()
        for line in lines[lines.index(next(x for x in lines if x.startswith("Problems"))) + 1 :]
        if line.startswith("  ")
    ]
    ids = [p[0] for p in problems]
    assert "dead-camera" in ids and "cfg-black" in ids
    assert ids.index("dead-camera") < ids.index("cfg-black"), "down before degraded"
    assert "<script>" in done.stdout, "names are shown as they are (a terminal does not run them)"
    assert "topsecret" not in done.stdout


def test_a_wrong_token_or_no_hub_is_one_clear_line():
    assert "set HUB_TOKEN" in status("--url", "http://127.0.0.1:9/", token=None).stderr
    unreachable = status("--url", "http://127.0.0.1:9/", token="x")
    assert unreachable.returncode == 1 and unreachable.stderr.startswith("hub status: cannot reach the hub at http://127.0.0.1:9")


async def test_a_refused_token_is_explained(hub):
    done = await asyncio.to_thread(status, "--url", hub.url("/"), token="hub_not-a-token")
    assert done.returncode == 1 and "the hub refused the token (401)" in done.stderr
