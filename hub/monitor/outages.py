"""Grouped outages into the index: the monitor's write of `index.outages` and `index.outage_view`.

Runs on the event loop, about once a second. When the set of down streams changes, the view is
replaced and one `outages` event tells the event streams, each of which works out what its subscriber
may see (`OutageView.seen_by`); the log says when a group of the whole estate opens or closes.
"""

from __future__ import annotations

import logging

from hub.diagnostics.outages import OutageView
from hub.index import Index

log = logging.getLogger("hub.monitor")


def publish_outages(index: Index, view: OutageView) -> None:
    if view == index.outage_view:
        return
    outages = {o.key: o for o in view.seen_by(None)}
    for key, outage in outages.items():
        if key not in index.outages:
            log.warning("outage: %s", outage.title)
    for key, outage in index.outages.items():
        if key not in outages:
            log.info("outage over: %s", outage.title)
    index.outage_view, index.outages = view, outages
    index.publish("outages", {})
