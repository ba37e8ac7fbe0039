"""What every command's parser shares: `--config FILE` before or after the action, help with examples,
and rights written one way (`KIND=VALUE`) for users and tokens alike.

Pure argparse; the command line's modules build their parsers with `command` and read the config's
path with `config_path` once parsed.
"""

from __future__ import annotations

import argparse

from hub.auth.tokens import parse_grant
from hub.auth.users import GRANT_KINDS, UserError
from hub.config import Listen, parse_listen
from hub.config.cluster import NODE_NAME

DEFAULT_CONFIG = "streams.toml"
RIGHT_HELP = (
    f"a right as KIND=VALUE, KIND one of {', '.join(GRANT_KINDS)}: "
    "category=property, category='*', site=Fangxing, tag=gate, stream=ps-0001"
)


def command(
    commands, name: str, summary: str, examples: tuple[str, ...] = (), config: str | None = "the hub's config"
) -> argparse.ArgumentParser:
    """A sub-command whose help ends with `examples`; `config` says what `--config` is for it (None: no config)."""
    epilog = "examples:\n" + "\n".join(f"  {example}" for example in examples) if examples else None
    parser = commands.add_parser(
        name, help=summary, description=summary, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if config:
        config_option(parser, config)
    return parser


def config_option(parser: argparse.ArgumentParser, what: str = "the hub's config") -> None:
    """`--config FILE` on this parser; given before or after an action, the one given wins (never a default
    from one level over a value from the other)."""
    parser.add_argument("--config", default=argparse.SUPPRESS, metavar="FILE", help=f"{what} (default: {DEFAULT_CONFIG})")


def actions(parser: argparse.ArgumentParser, dest: str = "action") -> argparse._SubParsersAction:
    return parser.add_subparsers(dest=dest, required=True, metavar="ACTION")


def config_path(args: argparse.Namespace) -> str:
    return getattr(args, "config", None) or DEFAULT_CONFIG


def node_arg(text: str) -> str:
    if not NODE_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r}: a node name is 1-64 letters, digits, '.', '_' or '-'")
    return text


def listen_arg(text: str) -> Listen:
    try:
        return parse_listen(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def right_arg(text: str) -> tuple[str, str]:
    """`KIND=VALUE` for argparse: users and tokens take rights the same way."""
    try:
        return parse_grant(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
