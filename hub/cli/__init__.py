"""The `hub` command line: one module per family of commands, and `main`, which parses and dispatches.

| module | commands |
|---|---|
| `main.py` | the parser of every command; `hub serve`, `hub sim`, `hub check`, `hub estate` |
| `demo.py` | `hub demo` (simulator and hub together, their shared state folder) |
| `users.py` | `hub user add|passwd|del|list|grant|revoke` |
| `admin.py` | `hub token add|list|revoke`, `hub audit verify|export` |
| `ops.py` | `hub import`, `hub export`, `hub status` |
| `status.py` | what `hub status` shows: pure rendering of the API's answers |
| `onvif.py` | `hub onvif add|discover` |
| `run_loop.py` | one long-running command on an event loop until SIGINT or SIGTERM |

Who runs where: the main thread of the `hub` process.
"""

from hub.cli.main import main

__all__ = ["main"]
