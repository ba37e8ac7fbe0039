"""The shipped Prometheus rules and Grafana dashboard, checked without a running hub: `promtool check rules`,
the rules' own unit tests (`hub-rules.test.yml`, promtool's format; a rule broken on purpose fails them),
and the dashboard's shape. `tests/test_prometheus.py` runs them against a real Prometheus and hub."""

from __future__ import annotations

import json
import subprocess

from test_prometheus import DASHBOARD, PROMTOOL, RULES


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


def test_the_dashboard_is_current_schema_with_a_stream_variable():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 39
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert {"datasource", "category", "stream"} <= set(variables)
    titles = {p["title"] for p in dashboard["panels"]}
    for needed in (
        "Streams by category and state",
        "Frames per second",
        "Bitrate",
        "Last frame age",
        "Top problem cameras",
        "Uptime per site, last day",
        "Hub CPU",
        "Hub memory",
        "Scrape time",
    ):
        assert needed in titles
