"""The incidents in /metrics: open ones by kind and severity, and how long they waited to be acknowledged.

Runs at scrape time on the event loop, from the service's memory (`hub.incidents.service`): no disk read.
Shown to whoever sees the whole estate (a scoped token's /metrics leaves it out).
"""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from hub.incidents.service import ACK_BUCKETS, IncidentService


class IncidentCollector(Collector):
    def __init__(self, service: IncidentService):
        self.service = service

    def collect(self):
        opened = GaugeMetricFamily(
            "hub_incidents_open",
            "Open incidents (not resolved, closed or merged) by kind and severity",
            labels=["kind", "severity"],
        )
        for (kind, severity), count in sorted(self.service.open_counts().items()):
            opened.add_metric([kind, str(severity)], count)
        yield opened
        counts, total = self.service.ack_counts, 0
        buckets = []
        for bound, count in zip((*ACK_BUCKETS, float("inf")), counts, strict=True):
            total += count
            buckets.append(("+Inf" if bound == float("inf") else f"{bound:g}", total))
        yield HistogramMetricFamily(
            "hub_incident_acknowledge_seconds",
            "Seconds from an incident's report to its acknowledgement",
            buckets=buckets,
            sum_value=self.service.ack_sum,
        )
