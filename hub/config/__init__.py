"""The config: `streams.toml` read into frozen, typed objects (`load_config`), and what they hold.

| module | job |
|---|---|
| `model.py` | the frozen dataclasses and constants (`Config`, `Stream`, the settings of each table) |
| `load.py` | reading and validating a file or text into a `Config`, every problem collected |
| `checks.py` | the `Checker` that collects problems, one readable line each |
| `access.py` | `[hub]` TLS and proxies, `[metrics]`, `[access]` |
| `diagnostics.py` | the picture-check keys of `[health]` and of each stream |
| `sim_source.py` | what a `sim://` URL and a simulator `fault` may say |

Pure but for reading the file; importing this package imports neither the simulator nor the web.
"""

from hub.config.load import load_config, parse_config, parse_listen
from hub.config.model import (
    CATEGORIES,
    MODES,
    Config,
    ConfigError,
    HealthSettings,
    HubSettings,
    Listen,
    MapSettings,
    MonitorSettings,
    SimSettings,
    Stream,
)
from hub.config.sim_source import FAULTS, PICTURE_FAULTS, SCENES, Fault, SimSource, parse_fault

__all__ = [
    "CATEGORIES",
    "FAULTS",
    "MODES",
    "PICTURE_FAULTS",
    "SCENES",
    "Config",
    "ConfigError",
    "Fault",
    "HealthSettings",
    "HubSettings",
    "Listen",
    "MapSettings",
    "MonitorSettings",
    "SimSettings",
    "SimSource",
    "Stream",
    "load_config",
    "parse_config",
    "parse_fault",
    "parse_listen",
]
