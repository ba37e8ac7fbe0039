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
from hub.auth.users import ROLES, UserError, UserStore, users_db_for
from hub.cli.options import RIGHT_HELP, actions, command, right_arg


def cli_actor() -> str:
    """Who the audit trail names for a change made on the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


def add_parsers(commands) -> None:
    user = command(
        commands,
        "user",
        "manage the hub's accounts (admin, operator, viewer, reporter) and their rights",
        (
            "hub user add alice --role operator --grant category='*' --grant category=childcare",
            "OP_PASSWORD='...' hub user add bob --role viewer --password-env OP_PASSWORD --grant site=Fangxing-3",
            "hub user grant bob tag=gate",
            "hub user revoke bob site=Fangxing-3",
            "hub user passwd alice",
            "hub user list --config /etc/hub/streams.toml",
            "hub user del bob",
        ),
        config="the hub's config; users live next to it",
    )
    verbs = actions(user)
    add = command(
        verbs,
        "add",
        "create a user (a password is generated and shown once, unless --password-env)",
        ("hub user add alice --role operator --grant category='*'",),
    )
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="viewer")
    add.add_argument(
        "--password-env",
        metavar="VAR",
        help="take the password from this environment variable (else one is generated and shown once)",
    )
    add.add_argument(
        "--grant", action="append", default=[], type=right_arg, metavar="KIND=VALUE", help=RIGHT_HELP + " (repeatable)"
    )
    passwd = command(
        verbs,
        "passwd",
        "set a user's password (ends the user's sessions and open connections)",
        ("hub user passwd alice", "NEWPASS='...' hub user passwd alice --password-env NEWPASS"),
    )
    passwd.add_argument("name")
    passwd.add_argument("--password-env", metavar="VAR")
    delete = command(verbs, "del", "delete a user (the last admin cannot be deleted)", ("hub user del bob",))
    delete.add_argument("name")
    command(verbs, "list", "users, roles and rights (never passwords)", ("hub user list",))
    for verb, says in (
        ("grant", "give a user rights"),
        ("revoke", "take rights away (open connections drop those cameras at once)"),
    ):
        right = command(
            verbs, verb, says, (f"hub user {verb} alice category=childcare", f"hub user {verb} bob site=Fangxing-3 tag=gate")
        )
        right.add_argument("name")
        right.add_argument("rights", nargs="+", type=right_arg, metavar="KIND=VALUE", help=RIGHT_HELP)


def run(args: argparse.Namespace) -> int:
    config = Path(args.config)
    try:
        with UserStore(users_db_for(config)) as store, AuditTrail(audit_db_for(config)) as audit:
            code = _run(store, args)
            if args.action != "list":
                detail = {
                    "role": getattr(args, "role", None),
                    "rights": _rights_text(getattr(args, "rights", None) or getattr(args, "grant", None)),
                }
                audit.append(
                    cli_actor(), f"user_{args.action}", "", "local", user=args.name, **{k: v for k, v in detail.items() if v}
                )
            return code
    except (UserError, passwords.WeakPassword) as exc:
        print(f"hub user: {exc}", file=sys.stderr)
        return 1


def _run(store: UserStore, args: argparse.Namespace) -> int:
    if args.action == "add":
        password, generated = _password(args.name, args.password_env)
        store.add(args.name, args.role, passwords.hash_password(password))
        for kind, value in args.grant:
            store.grant(args.name, kind, value)
        print(f"user {args.name} added ({args.role}{'; may watch ' + _rights_text(args.grant) if args.grant else ''})")
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
            print(f"{user.name}\t{user.role}\t{_rights_text(user.grants) or '-'}")
    elif args.action == "grant":
        for kind, value in args.rights:
            store.grant(args.name, kind, value)
        print(f"{args.name} may now watch {_rights_text(args.rights)}")
    elif args.action == "revoke":
        gone = [(kind, value) for kind, value in args.rights if store.revoke(args.name, kind, value)]
        missing = [r for r in args.rights if r not in gone]
        if gone:
            print(f"{args.name} may no longer watch {_rights_text(gone)}")
        if missing:
            print(f"{args.name} had no right {_rights_text(missing)}")
    return 0


def _rights_text(rights) -> str:
    """Rights as they are written on the command line: `category=property, site=North`."""
    return ", ".join(f"{kind}={value}" for kind, value in rights or ())


def _password(name: str, env: str | None) -> tuple[str, bool]:
    """The new password and whether it was generated."""
    if env is None:
        return passwords.generate(), True
    password = os.environ.get(env)
    if password is None:
        raise UserError(f"environment variable {env} is not set")
    passwords.check_strength(password, name)
    return password, False
