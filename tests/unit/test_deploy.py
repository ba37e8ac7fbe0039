"""The shipped systemd unit, checked by systemd's own `systemd-analyze verify`.

The unit's ExecStart is pointed at this checkout's `hub` (verify insists that the binary exists);
everything else is checked as shipped. Verify exits 0 even on some mistakes and only warns, so any
output at all is a failure here.
"""

from __future__ import annotations

from support.paths import REPO as ROOT

UNIT = ROOT / "deploy" / "systemd" / "hub.service"


def settings() -> dict[str, str]:
    lines = [line.split("=", 1) for line in UNIT.read_text().splitlines() if "=" in line and not line.startswith("#")]
    return {key: value for key, value in lines}


def test_the_unit_is_hardened_restarts_on_failure_and_reloads_by_sighup():
    unit = settings()
    assert unit["User"] == "hub" and unit["NoNewPrivileges"] == "yes" and unit["ProtectSystem"] == "strict"
    assert unit["CapabilityBoundingSet"] == "" and unit["ProtectHome"] == "yes" and unit["PrivateTmp"] == "yes"
    assert unit["Restart"] == "on-failure"
    assert unit["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert "--log-format json" in unit["ExecStart"] and "--config /var/lib/hub/streams.toml" in unit["ExecStart"]
    assert unit["StateDirectory"] == "hub", "the only place it writes: its config's folder"


def test_a_cluster_node_is_hardened_as_the_single_hub_and_named_by_its_instance():
    def lines(path):
        return [line for line in path.read_text().splitlines() if "=" in line and not line.startswith("#")]

    single = set(lines(UNIT))
    node_lines = lines(ROOT / "deploy" / "cluster" / "hub-node@.service")
    node = dict(line.split("=", 1) for line in node_lines)
    hardening = {
        line
        for line in single
        if line.split("=")[0]
        in (
            "NoNewPrivileges",
            "ProtectSystem",
            "CapabilityBoundingSet",
            "SystemCallFilter",
            "RestrictAddressFamilies",
            "ProtectHome",
        )
    }
    assert hardening <= set(node_lines), hardening - set(node_lines)
    assert "--node %i" in node["ExecStart"] and "--listen ${HUB_LISTEN}" in node["ExecStart"]
    assert "EnvironmentFile=/etc/hub/cluster.env" in node_lines, "the secret comes from a root-only file"
