"""The config's security tables: TLS and trusted proxies in [hub], [metrics] and [access].

Pure parsing, like `hub.config`, which calls it: every problem is collected by the
shared `Checker`, one line each.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from hub.config.checks import Checker, check_keys

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TlsSettings:
    cert: str = ""  # PEM certificate chain; with `key`, the hub serves HTTPS
    key: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.cert)


@dataclass(frozen=True)
class MetricsSettings:
    public: bool = False  # else /metrics needs a bearer token (or a signed-in session)


@dataclass(frozen=True)
class AccessSettings:
    sensitive_categories: tuple[str, ...] = ("childcare",)  # need an explicit grant, and a reason to open
    sensitive_tags: tuple[str, ...] = ("sensitive",)
    session_idle_min: float = 30.0
    session_max_h: float = 12.0
    audit_retention_days: float = 180.0


def tls(table: dict, check: Checker, base: Path) -> TlsSettings:
    """`tls_cert` and `tls_key` from [hub]: both or neither, each a readable file (relative to the config)."""
    cert, key = check.string(table, "tls_cert", ""), check.string(table, "tls_key", "")
    if bool(cert) != bool(key):
        check.add("tls_cert" if not cert else "tls_key", "tls_cert and tls_key go together: set both or neither")
        return TlsSettings()
    paths = []
    for name, value in (("tls_cert", cert), ("tls_key", key)):
        if not value:
            continue
        path = (base / value) if not Path(value).is_absolute() else Path(value)
        if not path.is_file():
            check.add(name, f"{value}: no such file")
        paths.append(str(path))
    return TlsSettings(*paths) if len(paths) == 2 else TlsSettings()


def trusted_proxies(table: dict, check: Checker) -> tuple[IpNetwork, ...]:
    """[hub] trusted_proxies: addresses or networks whose X-Forwarded-For the hub believes."""
    networks = []
    for value in check.string_list(table, "trusted_proxies"):
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            check.add("trusted_proxies", f"{value!r} is not an IP address or network (like 10.0.0.5 or 10.0.0.0/24)")
    return tuple(networks)


def metrics(table: dict, check: Checker) -> MetricsSettings:
    check_keys(check, "", table, {"public"})
    return MetricsSettings(check.boolean(table, "public", False))


def access(table: dict, check: Checker, categories: tuple[str, ...]) -> AccessSettings:
    defaults = AccessSettings()
    check_keys(check, "", table, set(defaults.__dataclass_fields__))
    sensitive = (
        check.string_list(table, "sensitive_categories") if "sensitive_categories" in table else defaults.sensitive_categories
    )
    for category in sensitive:
        if category not in categories:
            check.add("sensitive_categories", f"unknown category {category!r} (expected one of {', '.join(categories)})")
    return AccessSettings(
        sensitive_categories=tuple(c for c in sensitive if c in categories),
        sensitive_tags=check.string_list(table, "sensitive_tags") if "sensitive_tags" in table else defaults.sensitive_tags,
        session_idle_min=check.number(table, "session_idle_min", defaults.session_idle_min, above=0.0, at_most=24 * 60.0),
        session_max_h=check.number(table, "session_max_h", defaults.session_max_h, above=0.0, at_most=24 * 7.0),
        audit_retention_days=check.number(
            table, "audit_retention_days", defaults.audit_retention_days, above=0.0, at_most=36500.0
        ),
    )
