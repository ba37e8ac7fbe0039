"""`hub user add|passwd|del|list|grant|revoke`: manage the accounts of a config's hub.

Who runs where: the command line only. A password comes from an environment variable named with
`--password-env` (never from the command line, where `ps` and shell history would keep it), or is
generated and printed once.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from hub.auth import passwords
from hub.auth.audit import AuditTrail, audit_db_for
from hub.auth.users import GRANT_KINDS, ROLES, UserError, UserStore, users_db_for


def cli_actor() -> str:
    """Who the audit trail names for a change made on the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


def add_parser(commands) -> None:
    user = commands.add_parser("user", help="manage the hub's accounts (admin, operator, viewer) and their rights")
    user.add_argument("--config", default="streams.toml", help="the hub's config; users live next to it (default: %(default)s)")
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="viewer")
    add.add_argument("--password-env", metavar="VAR", help="take the password from this environment variable (else one is generated and shown once)")
    passwd = actions.add_parser("passwd", help="set a user's password")
    passwd.add_argument("name")
    passwd.add_argument("--password-env", metavar="VAR")
    delete = actions.add_parser("del", help="delete a user")
    delete.add_argument("name")
    actions.add_parser("list", help="users, roles and rights (never passwords)")
    for verb in ("grant", "revoke"):
        right = actions.add_parser(verb, help=f"{verb} a right to watch a {', '.join(GRANT_KINDS)}")
        right.add_argument("name")
        right.add_argument("kind", choices=GRANT_KINDS)
        right.add_argument("value")


def run(args: argparse.Namespace) -> int:
    config = Path(args.config)
    try:
        with UserStore(users_db_for(config)) as store, AuditTrail(audit_db_for(config)) as audit:
            code = _run(store, args)
            if args.action != "list":
                detail = {k: getattr(args, k) for k in ("role", "kind", "value") if getattr(args, k, None) is not None}
                audit.append(cli_actor(), f"user_{args.action}", "", "local", user=args.name, **detail)
            return code
    except (UserError, passwords.WeakPassword) as exc:
        print(f"hub user: {exc}", file=sys.stderr)
        return 1


def _run(store: UserStore, args: argparse.Namespace) -> int:
    if args.action == "add":
        password, generated = _password(args.name, args.password_env)
        store.add(args.name, args.role, passwords.hash_password(password))
        print(f"user {args.name} added ({args.role})")
        if generated:
            print(f"password (shown once, not stored): {password}")
    elif args.action == "passwd":
        if store.get(args.name) is None:
            raise UserError(f"no user {args.name!r}")
        password, generated = _password(args.name, args.password_env)
        store.set_password(args.name, passwords.hash_password(password))
        print(f"password of {args.name} changed")
        if generated:
            print(f"password (shown once, not stored): {password}")
    elif args.action == "del":
        store.delete(args.name)
        print(f"user {args.name} deleted")
    elif args.action == "list":
        for user in store.users():
            rights = ", ".join(f"{k}:{v}" for k, v in user.grants) or "-"
            print(f"{user.name}\t{user.role}\t{rights}")
    elif args.action == "grant":
        store.grant(args.name, args.kind, args.value)
        print(f"{args.name} may now watch {args.kind} {args.value!r}")
    elif args.action == "revoke":
        had = store.revoke(args.name, args.kind, args.value)
        print(f"{args.name} may no longer watch {args.kind} {args.value!r}" if had else f"{args.name} had no such right")
    return 0


def _password(name: str, env: str | None) -> tuple[str, bool]:
    """The new password and whether it was generated."""
    if env is None:
        return passwords.generate(), True
    password = os.environ.get(env)
    if password is None:
        raise UserError(f"environment variable {env} is not set")
    passwords.check_strength(password, name)
    return password, False
