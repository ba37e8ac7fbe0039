"""The audit trail and first start, with a real `hub serve` process: the first admin's password is shown once,
entries survive `kill -9`, `hub audit verify` finds tampering and `hub audit export` writes CSV."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import aiohttp
from support.processes import DEAD, start_hub

from hub.auth.audit import AuditTrail, audit_db_for


def hub_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=60)


async def sign_in(url: str, user: str, password: str) -> int:
    # The forwarded address is a lie from a peer that is not a trusted proxy: the trail must not believe it.
    async with aiohttp.ClientSession(headers={"Origin": url, "X-Forwarded-For": "203.0.113.99"}) as session:
        async with session.post(f"{url}/api/login", json={"user": user, "password": password}) as reply:
            return reply.status


async def test_first_start_shows_the_admin_password_once_and_the_trail_survives_kill_9(tmp_path):
    config = tmp_path / "streams.toml"
    config.write_text(DEAD)
    process, url, lines = start_hub(config)
    try:
        printed = "".join(lines)
        password = re.search(r"created user admin with password (\S+)", printed).group(1)
        assert await sign_in(url, "admin", password) == 200
        assert await sign_in(url, "admin", "not the password") == 401
    finally:
        process.send_signal(signal.SIGKILL)  # no chance to flush or close anything
        process.wait(10)
    trail = audit_db_for(config)
    rows = sqlite3.connect(trail).execute("SELECT action, who, address FROM audit ORDER BY seq").fetchall()
    assert ("login", "admin", "127.0.0.1") in rows and ("login_failed", "-", "127.0.0.1") in rows, rows
    verified = hub_cli("audit", "--config", str(config), "verify")
    assert verified.returncode == 0 and "chain whole" in verified.stdout, verified.stdout + verified.stderr
    process, url, lines = start_hub(config)  # a second start: users exist, no password is printed
    try:
        more = "".join(lines) + _drain(process)
        assert password not in more and "created user" not in more
    finally:
        process.terminate()
        process.wait(20)
    assert (
        password.encode() not in trail.read_bytes()
        and password.encode() not in config.with_name("streams.users.sqlite").read_bytes()
    )


def _drain(process: subprocess.Popen, seconds: float = 2.0) -> str:
    os.set_blocking(process.stdout.fileno(), False)
    time.sleep(seconds)  # what else it prints in its first seconds (no event marks "nothing more to say")
    return process.stdout.read() or ""


def test_verify_finds_tampering_and_export_writes_csv_since_a_time(tmp_path):
    config = tmp_path / "streams.toml"
    config.write_text(DEAD)
    assert hub_cli("user", "--config", str(config), "add", "alice", "--role", "operator").returncode == 0
    assert hub_cli("user", "--config", str(config), "grant", "alice", "site=North").returncode == 0
    made = hub_cli("token", "--config", str(config), "add", "prometheus", "--grant", "category=*")
    assert made.returncode == 0 and "hub_" in made.stdout
    verified = hub_cli("audit", "--config", str(config), "verify")
    assert verified.returncode == 0
    head = re.search(r"head (\d+:[0-9a-f]{64})", verified.stdout).group(1)
    exported = hub_cli("audit", "--config", str(config), "export", "--since", "2000-01-01")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [r["action"] for r in rows] == ["user_add", "user_grant", "token_add"]
    assert rows[1]["detail"] and "North" in rows[1]["detail"] and rows[0]["who"].startswith("cli:")
    assert hub_cli("audit", "--config", str(config), "export", "--since", "2999-01-01").stdout.count("\n") == 1, "header only"
    assert hub_cli("audit", "--config", str(config), "export", "--since", "last week").returncode == 1
    db = sqlite3.connect(audit_db_for(config))
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET detail = '{}' WHERE seq = 2")
    db.commit()
    broken = hub_cli("audit", "--config", str(config), "verify")
    assert broken.returncode == 1 and "entry 2 was changed" in broken.stdout
    db.execute("DROP TRIGGER IF EXISTS audit_no_update")
    db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    db.execute("DELETE FROM audit WHERE seq >= 2")  # cut the tail: the chain left is whole, but shorter
    db.commit()
    assert hub_cli("audit", "--config", str(config), "verify").returncode == 0
    cut = hub_cli("audit", "--config", str(config), "verify", "--head", head)
    assert cut.returncode == 1 and "is gone" in cut.stdout


def test_a_cut_inside_the_retention_window_is_found_even_with_the_anchor_rewritten(tmp_path):
    """Somebody with the file in hand deletes the oldest entries (recent ones, well inside the 180 days), moves
    the anchor to the last of them and appends an `audit_pruned` entry of their own: verify says so."""
    config = tmp_path / "streams.toml"
    config.write_text(DEAD)
    for name in ("alice", "bob", "carol"):
        assert hub_cli("user", "--config", str(config), "add", name, "--role", "viewer").returncode == 0
    path = audit_db_for(config)
    with AuditTrail(path) as audit:
        assert audit.prune(older_than_s=-1) == 3, "a real retention cut (of everything, as if all were old)"
        audit.append("bob", "login")
    verified = hub_cli("audit", "--config", str(config), "verify", "--retention-days", "0")
    assert verified.returncode == 0, verified.stdout
    assert "chain whole from entry 4; entries up to 3" in verified.stdout and "were cut by the retention on" in verified.stdout
    assert hub_cli("audit", "--config", str(config), "verify").returncode == 1, "against 180 days, those entries were too young"
    for name in ("dave", "erin"):
        assert hub_cli("user", "--config", str(config), "add", name, "--role", "viewer").returncode == 0
    db = sqlite3.connect(path)
    victim = db.execute(
        "SELECT seq, hash, at, who, action, stream, address, detail, prev FROM audit ORDER BY seq DESC LIMIT 1 OFFSET 1"
    ).fetchone()
    db.execute(
        "UPDATE anchor SET seq = ?, hash = ?, at = ?, who = ?, action = ?, stream = ?, address = ?, detail = ?, prev = ?, "
        "cut_at = ?",
        (*victim, time.time()),
    )
    db.execute("DELETE FROM audit WHERE seq <= ?", (victim[0],))
    db.commit()
    with AuditTrail(path) as audit:  # a forged record of the cut, chained properly at the head
        audit.append("-", "audit_pruned", through_seq=victim[0], through_hash=victim[1], dropped=victim[0], retention_s=0)
    forged = hub_cli("audit", "--config", str(config), "verify", "--retention-days", "0")
    assert forged.returncode == 0, "with no retention at all such a cut would be legitimate"
    caught = hub_cli("audit", "--config", str(config), "verify")
    assert caught.returncode == 1 and f"entries up to {victim[0]} were removed, but not by the retention" in caught.stdout
