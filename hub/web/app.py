"""`create_app(config)`: the hub's aiohttp application, with the monitor started in `cleanup_ctx`."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from hub.auth.account_rows import AccountRows
from hub.auth.audit import audit_db_for
from hub.auth.rights import rights_under
from hub.auth.service import AccessService
from hub.auth.users import users_db_for
from hub.cluster.accounts import AccountsSync, LayoutRows
from hub.cluster.audit import AuditShip
from hub.cluster.audit_copies import AuditFollow, OtherTrails, audit_copies_db_for
from hub.cluster.incidents import IncidentSync
from hub.cluster.node import ClusterNode
from hub.cluster.reloads import ReloadSync
from hub.cluster.sessions import SessionsSync
from hub.config import CATEGORIES, Config
from hub.diagnostics.service import Diagnostics
from hub.diagnostics.store import DiagnosticsStore, diagnostics_db_for
from hub.health import STATES
from hub.incidents.estate import Estate, LiveHold
from hub.incidents.geo import cameras_of
from hub.incidents.service import IncidentService
from hub.incidents.store import IncidentStore, incidents_db_for
from hub.index import Index
from hub.monitor import Monitor
from hub.web import account, api, audit_api, diagnostics_api, events, incidents_api, layouts, openapi
from hub.web.access import ACCESS, SECURITY, access_gate
from hub.web.connections import CONNECTIONS, OpenConnections
from hub.web.internal import add_internal_routes
from hub.web.keys import (
    CHANNEL,
    CLOSING,
    CLUSTER,
    CONFIG_PATH,
    INCIDENTS,
    INDEX,
    LIVE,
    METRICS,
    MONITOR,
    READ_DOOR,
    SHARED_ACCOUNTS,
    SHARED_AUDIT,
    SHARED_AUDIT_COPIES,
    SHARED_INCIDENTS,
    SHARED_RELOADS,
    SHARED_SESSIONS,
    SNAPSHOTS,
    STREAM_LISTS,
    UI,
)
from hub.web.layouts import LAYOUTS, SIZES, LayoutStore
from hub.web.live import LiveHub
from hub.web.live_socket import close_sockets, live_socket
from hub.web.metrics.cache import MetricsCache
from hub.web.metrics.collector import MetricsRender
from hub.web.metrics.incidents import IncidentCollector
from hub.web.metrics.scoped import SCOPED, close_scoped
from hub.web.middleware import errors_as_json, name_the_server, security_headers
from hub.web.node_channel import NodeChannel
from hub.web.reads.keeper import ReadDoor, writes_reach_the_reads
from hub.web.server import CAP, ConnectionCap
from hub.web.snapshots import SnapshotCache
from hub.web.stream_list import StreamLists

WEB_ROOT = Path(__file__).resolve().parent.parent / "ui"  # package data: travels in the wheel


def content_security_policy(config: Config) -> str:
    tiles = ""
    if config.map.tiles:
        parts = urlsplit(config.map.tiles.replace("{s}", "a"))
        tiles = f" {parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else ""
    return (
        "default-src 'self'; img-src 'self' data: blob:" + tiles + "; media-src 'self' blob:; "
        "style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


async def _run_monitor(app: web.Application):
    app[CLOSING] = asyncio.Event()
    live = LiveHub(asyncio.get_running_loop(), app[MONITOR].main_feed)
    app[LIVE] = live
    app[MONITOR].set_tap_factory(live.tap)
    if CLUSTER in app:  # video and status of cameras other nodes pull come over the internal channel
        app[CHANNEL].attach(live)
    app[ACCESS].record(None, "hub_started", streams=len(app[INDEX].records))
    loop = asyncio.get_running_loop()
    chores = [
        loop.create_task(app[ACCESS].keep_tidy(), name="audit-retention"),
        loop.create_task(app[CONNECTIONS].recheck_forever(), name="rights-recheck"),
    ]
    await app[MONITOR].start()
    await app[INCIDENTS].start()
    chores.append(loop.create_task(app[INCIDENTS].run(), name="incident-escalation"))
    if CLUSTER in app:  # a cluster node: the monitor pulls what the node holds
        chores.append(loop.create_task(app[CLUSTER].run(), name="cluster"))
        chores.append(loop.create_task(app[CHANNEL].run(), name="cluster-channel"))
    shared = [
        app[key]
        for key in (SHARED_ACCOUNTS, SHARED_SESSIONS, SHARED_AUDIT, SHARED_AUDIT_COPIES, SHARED_RELOADS, SHARED_INCIDENTS)
        if key in app
    ]
    sharing = [loop.create_task(each.run(), name=f"cluster-{type(each).__name__}") for each in shared]
    yield
    for each in shared:  # stopped at their next turn, never cancelled in the middle of a Redis call
        each.stop()
    for chore in chores:
        chore.cancel()
    if sharing:
        await asyncio.wait(sharing, timeout=3.0)
    await app[METRICS].close()
    await close_scoped(app)
    await app[MONITOR].stop()
    if CLUSTER in app:  # readers stopped: the claims may go (else they lapse with the heartbeat)
        await asyncio.wait({asyncio.ensure_future(app[CLUSTER].leave())}, timeout=5.0)
    store = app[MONITOR].diagnostics.store
    if store is not None:
        store.close()
    app[ACCESS].record(None, "hub_stopped")
    app[ACCESS].close()
    app[INCIDENTS].store.close()
    if SHARED_ACCOUNTS in app:  # what the audit ship had not copied yet, it copies at the next start
        app[SHARED_ACCOUNTS].rows.close()
        app[SHARED_AUDIT].close()
        app[SHARED_AUDIT_COPIES].close()


async def _close_event_streams(app: web.Application) -> None:
    await app[READ_DOOR].close()  # no more connections handed over
    app[CLOSING].set()
    await close_sockets(app)


async def ui_settings(request: web.Request) -> web.Response:
    return web.json_response(request.app[UI])


async def index_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB_ROOT / "index.html", headers={"Cache-Control": "no-store"})


async def favicon(request: web.Request) -> web.FileResponse:
    """The tab's icon, open to all (the sign-in page shows it too)."""
    return web.FileResponse(WEB_ROOT / "favicon.svg", headers={"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"})


async def report_page(request: web.Request) -> web.FileResponse:
    """The grid workers' phone page: report an incident, follow one's reports, share one's position."""
    return web.FileResponse(WEB_ROOT / "report.html", headers={"Cache-Control": "no-store"})


async def login_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB_ROOT / "login.html", headers={"Cache-Control": "no-store"})


def _ui(config: Config) -> dict:
    return {
        "map": {"center": list(config.map.center), "zoom": config.map.zoom, "tiles": config.map.tiles},
        "categories": list(CATEGORIES),
        "states": list(STATES),
        "picture_interval_s": config.health.picture_interval_s,
        "layout_sizes": list(SIZES),
    }


def _state_path(config_path: Path) -> Path:
    """Where accounts and the audit trail live: next to the config file; a config that was never a file
    (built in code) keeps them in a private temporary folder."""
    if config_path.is_file():
        return config_path
    return Path(tempfile.mkdtemp(prefix="hub-state-")) / "streams.toml"


def _audit_incident(access: AccessService, who: str, action: str, **detail) -> None:
    access.audit.append(who, action, "", "", **detail)


def _incidents(app: web.Application, config: Config, state: Path) -> IncidentService:
    """Reports and triage, kept next to the config, audited in the hub's trail, told on the event stream;
    the cameras near open incidents held live through the monitor's interest."""
    index, access = app[INDEX], app[ACCESS]
    sensitive = rights_under(config.access, "viewer", ())

    def snapshot(stream_id: str) -> tuple[bytes, float] | None:
        record = index.records.get(stream_id)
        if record is None or record.snapshot is None or record.snapshot_at is None:
            return None
        return record.snapshot, record.snapshot_at

    estate = Estate(
        cameras=lambda online_only: cameras_of(index.records.values(), online_only),
        snapshot=snapshot,
        sensitive=lambda stream_id: (r := index.records.get(stream_id)) is not None and sensitive.is_sensitive(r),
        keep_live=LiveHold(app[MONITOR].interest).keep,
        pulled_here=app[CLUSTER].holds if CLUSTER in app else lambda stream_id: True,
    )
    store = IncidentStore(incidents_db_for(state))
    return IncidentService(config.incidents, store, estate, index.publish, functools.partial(_audit_incident, access))


def create_app(config: Config, config_path: str | None = None) -> web.Application:
    name_the_server()
    index = Index()
    app = web.Application(client_max_size=64 * 1024)
    app[INDEX] = index
    source = Path(config_path or config.source)
    state = _state_path(source)
    store = DiagnosticsStore(diagnostics_db_for(state))
    clustered = config.cluster.enabled  # a cluster node starts pulling nothing: it pulls what it claims
    pulled = dataclasses.replace(config, streams=()) if clustered else config
    app[MONITOR] = Monitor(pulled, index, diagnostics=Diagnostics(config.diagnostics, store))
    if clustered:
        app[CLUSTER] = ClusterNode(config, app[MONITOR])
        app[CHANNEL] = NodeChannel(app[CLUSTER], index)
        app[CLUSTER].peer_renewals = app[CHANNEL].peer_renewals  # is Redis away for all, or for this node only?
        app[CLUSTER].tell_taken = app[CHANNEL].tell_taken  # a camera handed over is pulled at once
    app[SNAPSHOTS] = SnapshotCache()
    cluster, own = (app[CLUSTER].status, app[CLUSTER].pulls) if CLUSTER in app else (None, None)
    app[CONFIG_PATH] = config_path or config.source
    app[UI] = _ui(config)
    app[STREAM_LISTS] = StreamLists(app[INDEX])
    app[LAYOUTS] = LayoutStore(source.with_name(source.stem + ".layouts.json"))
    if clustered:  # users, rights, tokens and layouts alike on every node
        rows = AccountRows(users_db_for(state))
        app[SHARED_ACCOUNTS] = AccountsSync(app[CLUSTER].store, rows, LayoutRows(app[LAYOUTS].path))
    app[ACCESS] = AccessService(state, config.access)
    app[CONNECTIONS] = OpenConnections(app[ACCESS])
    app[INCIDENTS] = _incidents(app, config, state)
    render = MetricsRender(index, cluster=cluster, own=own)
    render.registry.register(IncidentCollector(app[INCIDENTS]))
    app[METRICS] = MetricsCache(render, lambda: index.ticks)
    if clustered:  # a session made on one node works on all, and ends on all
        app[SHARED_SESSIONS] = SessionsSync(app[CLUSTER].store, app[ACCESS].sessions)
        app[ACCESS].session_lookup = app[SHARED_SESSIONS].lookup
        reload = functools.partial(api.reload_after_another_node, app)
        app[SHARED_RELOADS] = ReloadSync(app[CLUSTER].store, app[CONFIG_PATH], reload)
        retention_s = config.access.audit_retention_days * 86400
        app[SHARED_AUDIT] = AuditShip(app[CLUSTER].store, audit_db_for(state), retention_s)
        copies = OtherTrails(audit_copies_db_for(state))  # `GET /api/audit` lists every node's entries
        app[SHARED_AUDIT_COPIES] = AuditFollow(app[CLUSTER].store, copies, retention_s)
        app[SHARED_INCIDENTS] = IncidentSync(app[CLUSTER].store, app[INCIDENTS])
    csp = content_security_policy(config)
    app[CAP] = ConnectionCap(config.hub)  # installed on the server by whoever runs the app (`runner.server`)
    served = config.hub  # the door is started by whoever serves the app
    app[READ_DOOR] = ReadDoor(index, app[ACCESS], app[CAP], csp, served.trusted_proxies, served.header_timeout_s)
    app.middlewares.extend([errors_as_json, access_gate, writes_reach_the_reads(app[READ_DOOR], index)])
    app[SECURITY] = config
    app[SCOPED] = {}
    app.cleanup_ctx.append(_run_monitor)
    app.on_shutdown.append(_close_event_streams)
    app.on_response_prepare.append(security_headers(csp))
    _add_routes(app.router)
    if clustered:
        add_internal_routes(app.router)
    return app


def _add_routes(router: web.UrlDispatcher) -> None:
    """Routes named `public:*` are open to anybody; every other one needs a principal (hub.web.access)."""
    router.add_get("/api/streams", api.list_streams)
    router.add_get("/api/streams/{id}", api.get_stream)
    router.add_get("/api/streams/{id}/snapshot.jpg", api.get_snapshot)
    router.add_put("/api/streams/{id}/position", api.put_position)
    router.add_post("/api/streams/{id}/open", account.open_stream)
    router.add_get("/api/streams/{id}/diagnosis", diagnostics_api.get_diagnosis)
    router.add_post("/api/streams/{id}/reference", diagnostics_api.accept_reference)
    router.add_put("/api/streams/{id}/mutes/{check}", diagnostics_api.put_mute)
    router.add_delete("/api/streams/{id}/mutes/{check}", diagnostics_api.delete_mute)
    router.add_get("/api/outages", diagnostics_api.list_outages)
    router.add_get("/api/events", events.events)
    router.add_post("/api/reload", api.reload_config)
    router.add_get("/api/ui", ui_settings)
    router.add_get("/api/live", live_socket)
    router.add_get("/api/layouts", layouts.list_layouts)
    router.add_put("/api/layouts/{name}", layouts.put_layout)
    router.add_delete("/api/layouts/{name}", layouts.delete_layout)
    router.add_get("/api/me", account.me)
    router.add_post("/api/login", account.login, name="public:login")
    router.add_post("/api/logout", account.logout)
    router.add_get("/api/audit", audit_api.audit)
    router.add_post("/api/incidents", incidents_api.report)
    router.add_get("/api/incidents", incidents_api.list_incidents)
    router.add_get("/api/incidents/map", incidents_api.map_view)  # before {id}: "map" is no incident
    router.add_get("/api/incidents/{id}", incidents_api.get_incident)
    router.add_patch("/api/incidents/{id}", incidents_api.change_incident)
    router.add_get("/api/incidents/{id}/files/{name}", incidents_api.get_file)
    router.add_get("/api/incidents/{id}/export", incidents_api.export_incident)
    router.add_put("/api/staff/position", incidents_api.put_position)
    router.add_get("/api/staff", incidents_api.list_staff)
    router.add_get("/api/openapi.json", openapi.document, name="public:openapi")
    router.add_get("/metrics", api.metrics, name="metrics")
    router.add_get("/healthz", api.healthz, name="public:healthz")
    if (WEB_ROOT / "index.html").exists():
        router.add_get("/", index_page)
        router.add_get("/report", report_page)
        router.add_get("/login", login_page, name="public:login-page")
        router.add_get("/favicon.ico", favicon, name="public:favicon")
        router.add_static("/web/", WEB_ROOT, follow_symlinks=False, name="public:web")
