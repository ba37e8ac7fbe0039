"""The hub's HTTP side: aiohttp app factory, REST API, SSE, snapshots, metrics, static UI."""
