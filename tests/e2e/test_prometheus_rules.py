"""The shipped Prometheus rules and Grafana dashboard, checked without a running hub: `promtool check rules`,
the rules' own unit tests (`hub-rules.test.yml`, promtool's format; a rule broken on purpose fails them),
and the dashboard's shape. `tests/e2e/test_prometheus.py` runs them against a real Prometheus and hub."""

from __future__ import annotations

import subprocess

import pytest
from support.paths import PROMTOOL, RULES

pytestmark = pytest.mark.prometheus


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=RULES, capture_output=True, text=True, timeout=120)


def test_the_rules_pass_promtool_check_and_their_unit_tests():
    checked = promtool("check", "rules", "hub-rules.yml")
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "hub-rules.test.yml")
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def test_the_unit_tests_catch_a_rule_that_fires_too_early(tmp_path):
    rules = (RULES / "hub-rules.yml").read_text()
    broken = rules.replace(
        "expr: (hub_stream_up * on (stream) group_left (site) hub_stream_info) == 0\n        for: 5m",
        "expr: (hub_stream_up * on (stream) group_left (site) hub_stream_info) == 0\n        for: 1m",
    )
    assert broken != rules
    (tmp_path / "hub-rules.yml").write_text(broken)
    (tmp_path / "hub-rules.test.yml").write_text((RULES / "hub-rules.test.yml").read_text())
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", "hub-rules.test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert tested.returncode != 0 and "HubStreamDown" in tested.stdout + tested.stderr
