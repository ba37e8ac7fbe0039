"""The long-running commands: `hub serve` (the hub, reloading its config on SIGHUP) and `hub sim`.

Who runs where: each runs one asyncio event loop in the main thread (`hub.cli.run_loop`) until SIGINT
or SIGTERM; `hub demo` (`hub.cli.demo`) runs both, the simulator as a child process.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from hub import logs
from hub.cli.run_loop import StartFailed, stop_follows, unless_stopped
from hub.config import Config, Listen

log = logging.getLogger("hub")


async def run_sim(config: Config, rtsp: Listen | None, control: Listen | None, stop: asyncio.Event) -> None:
    from hub.sim.process import stop_with_parent
    from hub.sim.simulator import Simulator

    orphaned = asyncio.ensure_future(stop_with_parent(stop))  # started by `hub demo` (or a test): end with it
    try:
        await _simulate(Simulator(config, rtsp, control), stop)
    finally:
        orphaned.cancel()


async def _simulate(sim, stop: asyncio.Event) -> None:
    from concurrent.futures.process import BrokenProcessPool

    try:
        started, addresses = await unless_stopped(sim.start(), stop)
    except BrokenProcessPool:  # Ctrl-C reached a clip encoder as it started: a stop, not a crash
        await sim.stop()
        if not await stop_follows(stop):
            raise StartFailed("simulator: a clip-encoding process died; run `hub sim` again") from None
        started = False
    if not started:
        await sim.stop()
        print("simulator: stopped before it was ready; clips encoded so far are kept for the next start", flush=True)
        return
    assert addresses is not None  # started
    print(
        f"simulator: {len(sim.cameras)} cameras on rtsp://{addresses.rtsp}/<id>, control on http://{addresses.control}/faults",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await sim.stop()


def _reload_on_signal(app) -> Callable[[], None]:
    """A SIGHUP handler (event loop) that re-reads the config and logs what changed or why not."""
    from hub.web.api import reload_from_disk

    tasks: set[asyncio.Task] = set()

    async def reload() -> None:
        from hub.web.access import ACCESS

        result = await reload_from_disk(app)
        app[ACCESS].record(None, "reload", via="SIGHUP", refused="error" in result)
        if "error" in result:
            log.error("reload refused: %s", "; ".join(result["problems"]))
        else:
            log.info("reloaded: %s", {k: len(v) for k, v in result.items() if isinstance(v, list)})

    def on_sighup() -> None:
        task = asyncio.get_running_loop().create_task(reload())
        tasks.add(task)  # keep a reference until it finishes
        task.add_done_callback(tasks.discard)

    return on_sighup


async def run_serve(
    config: Config, listen: Listen | None, stop: asyncio.Event, config_path: str | None = None, sock=None
) -> None:
    """Run the hub until `stop` is set; SIGHUP re-reads the config file.

    The port is bound (or `sock` is already bound) before any camera is contacted.
    """
    from aiohttp import web

    from hub.auth.bootstrap import first_admin
    from hub.config.cluster import advertised
    from hub.ports import bind_tcp, bound_port
    from hub.web.app import create_app
    from hub.web.keys import CLUSTER, READ_DOOR
    from hub.web.reads.keeper import serve_on
    from hub.web.server import CAP, runner_options

    listen = listen or config.hub.listen
    sock = sock or bind_tcp(listen, "the hub's UI and API", "another hub or `hub demo`", "--listen")
    may_found = None
    if config.cluster.enabled:  # one first admin for the whole cluster, made by the first node
        from hub.cluster.accounts import may_found_accounts

        may_found = functools.partial(may_found_accounts, config.cluster)
    password = await asyncio.to_thread(first_admin, Path(config_path or config.source), may_found)
    if password is not None and logs.current_format() == "json":  # logs are stored: a password must not go there
        logs.announce(
            "first start: created user admin with a password that is not shown; "
            "set one with `hub user passwd admin --config <this config>`"
        )
    elif password is not None:  # printed once, never logged: the terminal of whoever started the hub sees it
        print(
            f"hub: first start: created user admin with password {password}\n"
            "hub: sign in and change it (hub user passwd admin); this password is not shown again",
            flush=True,
        )
    app = create_app(config, config_path)
    if CLUSTER in app:  # where the other nodes reach this one's internal channel
        scheme = "https" if config.hub.tls.enabled else "http"
        app[CLUSTER].address = f"{scheme}://{advertised(config.cluster, listen.host, bound_port(sock))}"
    runner = web.AppRunner(app, access_log=None, **runner_options(config.hub))
    try:
        await runner.setup()  # starts the monitor: cameras are contacted from here on
        assert runner.server is not None  # set up
        app[CAP].install(runner.server)
        await serve_on(runner, sock, app[READ_DOOR], _tls_context(config))
    except BaseException:
        await runner.cleanup()
        sock.close()
        raise
    port = bound_port(sock)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, _reload_on_signal(app))
    # Everything built so far lives as long as the hub: keep it out of the collector's full passes,
    # which otherwise pause the loop for tens of milliseconds with thousands of streams.
    gc.freeze()
    # Hundreds of reader threads take turns on the GIL; a shorter switch interval keeps the event
    # loop (API, SSE, health) from queueing behind them for 5 ms at a time.
    sys.setswitchinterval(0.001)
    scheme = "https" if config.hub.tls.enabled else "http"
    logs.announce(f"{len(config.streams)} streams; UI and API on {scheme}://{listen.host}:{port}/")
    try:
        await stop.wait()
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        await runner.cleanup()
        sock.close()


def _tls_context(config: Config):
    """HTTPS with the config's certificate and key ([hub] tls_cert, tls_key), or None for plain HTTP."""
    if not config.hub.tls.enabled:
        return None
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.hub.tls.cert, config.hub.tls.key)
    except (OSError, ssl.SSLError) as exc:
        raise StartFailed(
            f"cannot use the TLS certificate and key ({config.hub.tls.cert}, {config.hub.tls.key}): {exc}"
        ) from None
    return context
