"""`hub token add|list|revoke` and `hub audit verify|export`: the admin's tools for scripts and the audit trail.

Who runs where: the command line only, on the files next to the config (the hub may be running:
SQLite serialises the writers, and the hub sees new and revoked tokens at their next use).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from hub.auth.audit import AuditTrail, audit_db_for, parse_when
from hub.auth.tokens import TokenStore
from hub.auth.users import ROLES, UserError, users_db_for
from hub.cli import cluster_audit
from hub.cli.options import RIGHT_HELP, actions, command, right_arg
from hub.cli.users import cli_actor
from hub.config import ConfigError, load_config
from hub.config.cluster import ClusterSettings
from hub.safe.numbers import ascii_int


def add_parsers(commands) -> None:
    token = command(
        commands,
        "token",
        "API tokens for scripts and Prometheus (shown once, stored hashed)",
        (
            "hub token add prometheus --role viewer --grant category='*' --grant category=childcare",
            "hub token list",
            "hub token revoke 3f9a1c2b7d10",
        ),
        config="the hub's config; tokens live next to it",
    )
    verbs = actions(token)
    add = command(verbs, "add", "create a token (shown once)", ("hub token add curl --role viewer --grant site=Fangxing",))
    add.add_argument("name", help="what it is for, like prometheus")
    add.add_argument("--role", choices=ROLES, default="viewer")
    add.add_argument(
        "--grant",
        action="append",
        default=[],
        type=right_arg,
        metavar="KIND=VALUE",
        help=RIGHT_HELP + " (repeatable; admins need none)",
    )
    command(verbs, "list", "tokens (never their secrets)", ("hub token list",))
    revoke = command(
        verbs, "revoke", "revoke a token by its id (its open connections close at once)", ("hub token revoke 3f9a1c2b7d10",)
    )
    revoke.add_argument("id")
    audit = command(
        commands,
        "audit",
        "check or export the audit trail",
        ("hub audit verify", "hub audit verify --head 1834:9f2c...", "hub audit export --since 2026-11-01 > audit.csv"),
        config="the hub's config; the trail lives next to it",
    )
    audit_verbs = actions(audit)
    verify = command(
        audit_verbs,
        "verify",
        "walk the hash chain: exit 1 if any entry was changed or removed, or cut before its time",
        ("hub audit verify", "hub audit verify --head 1834:9f2c..."),
    )
    verify.add_argument("--head", metavar="SEQ:HASH", help="also check the newest entry is (or follows) this one, noted earlier")
    verify.add_argument(
        "--retention-days",
        type=float,
        metavar="DAYS",
        help="the retention a cut of the oldest entries is checked against (default: the config's "
        "[access] audit_retention_days; give the old one if it was lengthened since the cut)",
    )
    export = command(audit_verbs, "export", "write entries as CSV to standard output", ("hub audit export --since 2026-11-01",))
    export.add_argument("--since", help="ISO 8601 time or date, or seconds since the epoch (default: everything kept)")


def run_token(args: argparse.Namespace) -> int:
    config = Path(args.config)
    try:
        with TokenStore(users_db_for(config)) as tokens, AuditTrail(audit_db_for(config)) as audit:
            if args.action == "add":
                grants = list(args.grant)
                token, text = tokens.create(args.name, args.role, grants, cli_actor())
                audit.append(
                    cli_actor(),
                    "token_add",
                    "",
                    "local",
                    token=token.id,
                    name=token.name,
                    role=token.role,
                    grants=[f"{k}={v}" for k, v in grants],
                )
                print(f"token {token.id} ({token.name}, {token.role}) created; send it as Authorization: Bearer <token>")
                print(f"token (shown once, not stored): {text}")
            elif args.action == "revoke":
                if not tokens.revoke(args.id):
                    raise UserError(f"no live token {args.id!r}")
                audit.append(cli_actor(), "token_revoke", "", "local", token=args.id)
                print(f"token {args.id} revoked")
            else:
                for t in tokens.tokens():
                    state = "revoked" if t.revoked_at else "live"
                    print(f"{t.id}\t{t.name}\t{t.role}\t{', '.join(f'{k}={v}' for k, v in t.grants) or '-'}\t{state}")
    except UserError as exc:
        print(f"hub token: {exc}", file=sys.stderr)
        return 1
    return 0


def run_audit(args: argparse.Namespace) -> int:
    path = audit_db_for(Path(args.config))
    if not path.exists():
        print(f"hub audit: no audit trail at {path}", file=sys.stderr)
        return 1
    with AuditTrail(path) as audit:
        if args.action == "export":
            try:
                since = parse_when(args.since) if args.since else None
            except ValueError as exc:
                print(f"hub audit: --since: {exc}", file=sys.stderr)
                return 1
            cluster = _cluster_of(args.config)
            if cluster is not None:  # every node's entries, merged by time
                return cluster_audit.export(cluster, since, sys.stdout)
            for chunk in audit.export_csv(since):
                sys.stdout.write(chunk)
            return 0
        retention_days = args.retention_days
        if retention_days is None:  # a cut is checked against the configured retention
            try:
                retention_days = load_config(args.config).access.audit_retention_days
            except ConfigError as exc:
                print(
                    "hub audit: the config has problems, so its retention is unknown (or give --retention-days):\n"
                    + "\n".join(exc.problems),
                    file=sys.stderr,
                )
                return 1
        whole, finding, (seq, digest) = audit.verify(retention_days * 86400)
        print(f"{path}: {finding}; head {seq}:{digest}")
        if whole and args.head:
            whole = _head_kept(audit, args.head)
        cluster = _cluster_of(args.config)
        if cluster is not None:  # and every node's chain as copied to Redis
            whole = cluster_audit.verify(cluster, sys.stdout) and whole
        return 0 if whole else 1


def _cluster_of(config_path: str) -> ClusterSettings | None:
    """The config's Redis when it is a cluster node's (its trail covers the whole cluster), read from the
    file alone: reading the trail needs neither the node's secret nor its cameras' passwords."""
    try:
        table = tomllib.loads(Path(config_path).read_text(encoding="utf-8")).get("cluster", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    url = table.get("redis") if isinstance(table, dict) else None
    return ClusterSettings(redis=url) if isinstance(url, str) and url else None


def _head_kept(audit: AuditTrail, head: str) -> bool:
    """The entry noted as the head earlier must still be there, unchanged (else the newest were cut off)."""
    seq_text, _, digest = head.partition(":")
    if ascii_int(seq_text) is None or not digest:
        print("hub audit: --head must look like SEQ:HASH, as verify printed it", file=sys.stderr)
        return False
    if not audit.has_entry(int(seq_text), digest):
        print(f"entry {seq_text} with that hash is gone: the trail was cut back or rewritten after it was noted")
        return False
    return True
