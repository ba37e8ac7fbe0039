"""Typed application keys: everything a handler needs lives on the app, nothing in globals."""

from __future__ import annotations

import asyncio

from aiohttp import web

from hub.cluster.accounts import AccountsSync
from hub.cluster.audit import AuditShip
from hub.cluster.audit_copies import AuditFollow
from hub.cluster.incidents import IncidentSync
from hub.cluster.node import ClusterNode
from hub.cluster.reloads import ReloadSync
from hub.cluster.sessions import SessionsSync
from hub.incidents.service import IncidentService
from hub.index import Index
from hub.monitor import Monitor
from hub.web.live import LiveHub
from hub.web.metrics.cache import MetricsCache
from hub.web.node_channel import NodeChannel
from hub.web.reads.keeper import ReadDoor
from hub.web.snapshots import SnapshotCache
from hub.web.stream_list import StreamLists

INDEX = web.AppKey("index", Index)
MONITOR = web.AppKey("monitor", Monitor)
SNAPSHOTS = web.AppKey("snapshots", SnapshotCache)
METRICS = web.AppKey("metrics", MetricsCache)
CONFIG_PATH = web.AppKey("config_path", str)
CLOSING = web.AppKey("closing", asyncio.Event)
LIVE = web.AppKey("live", LiveHub)
UI = web.AppKey("ui", dict)
STREAM_LISTS = web.AppKey("stream_lists", StreamLists)  # the bodies of GET /api/streams
READ_DOOR = web.AppKey("read_door", ReadDoor)  # answers the list and record reads in a process of its own
CLUSTER = web.AppKey("cluster", ClusterNode)  # only on a cluster node ([cluster] redis set)
CHANNEL = web.AppKey("channel", NodeChannel)  # a cluster node's side of the internal channel, asking others
SHARED_ACCOUNTS = web.AppKey("shared_accounts", AccountsSync)  # a cluster node: users, tokens, layouts kept alike
SHARED_SESSIONS = web.AppKey("shared_sessions", SessionsSync)  # a cluster node: sessions work on every node
SHARED_AUDIT = web.AppKey("shared_audit", AuditShip)  # a cluster node: its audit trail copied to Redis as written
SHARED_AUDIT_COPIES = web.AppKey("shared_audit_copies", AuditFollow)  # a cluster node: the others' entries, for the API
SHARED_INCIDENTS = web.AppKey("shared_incidents", IncidentSync)  # a cluster node: incidents alike on every node
SHARED_RELOADS = web.AppKey("shared_reloads", ReloadSync)  # a cluster node: a reload on one node reloads all
INCIDENTS = web.AppKey("incidents", IncidentService)  # reports, triage, staff positions
