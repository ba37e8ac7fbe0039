"""The shipped Prometheus rules and Grafana dashboard, checked without a running hub: `promtool check rules`,
the rules' own unit tests (`hub-rules.test.yml`, promtool's format; a rule broken on purpose fails them),
and the dashboard's shape. `tests/e2e/test_prometheus.py` runs them against a real Prometheus and hub."""

from __future__ import annotations

import json

from support.paths import DASHBOARD


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
