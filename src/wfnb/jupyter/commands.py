"""The small functions behind ``%wfnb``: one per command, each calling the public API."""

from __future__ import annotations

import argparse
import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.magic_arguments import MagicArgumentParser

from wfnb.exceptions import WfnbUsageError

if TYPE_CHECKING:
    from wfnb.jupyter.magics import WfnbMagics

__all__ = ["ROUTES", "build_parser", "define_use_case"]

Route = Callable[["WfnbMagics", argparse.Namespace], Any]
ROUTES: dict[str, Route] = {}


def route(name: str) -> Callable[[Route], Route]:
    """Register a command function under ``name``."""

    def register(fn: Route) -> Route:
        ROUTES[name] = fn
        return fn

    return register


def build_parser() -> MagicArgumentParser:
    """One parser, a subparser per command; errors raise UsageError (never SystemExit)."""
    parser = MagicArgumentParser(prog="%wfnb", description="wfnb workflow tools")
    sub = parser.add_subparsers(dest="command", parser_class=MagicArgumentParser)
    sub.add_parser("help", help="list the commands")

    p = sub.add_parser("connect", help="use a database (SQLAlchemy URL)")
    p.add_argument("url")

    p = sub.add_parser("load", help="load and validate workflow files or folders")
    p.add_argument("paths", nargs="+")

    p = sub.add_parser("validate", help="validate workflows; a ValidationReport")
    p.add_argument("paths", nargs="*", help="default: the loaded paths")
    p.add_argument("--db", action="store_true", help="also check the connected database")
    return parser


@route("help")
def _help(magics: WfnbMagics, args: argparse.Namespace) -> str:
    return magics.parser.format_help()


@route("connect")
def _connect(magics: WfnbMagics, args: argparse.Namespace) -> str:
    engine = magics.session.connect(args.url)
    return f"connected to {engine.url.render_as_string(hide_password=True)}"


@route("load")
def _load(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    return magics.session.load(args.paths)


@route("validate")
def _validate(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb.validation import validate  # noqa: PLC0415

    paths = args.paths or magics.session.workflow_paths
    if not paths:
        raise WfnbUsageError("nothing to validate: give PATH or run %wfnb load PATH first")
    return validate(paths, db=magics.session.engine if args.db else None)


def define_use_case(magics: WfnbMagics, name: str, cell: str) -> Callable[..., Any]:
    """Run the cell in the user namespace and register the function it defines."""
    try:
        tree = ast.parse(cell)
    except SyntaxError as exc:
        raise WfnbUsageError(
            f"the cell is not valid Python: {exc.msg} (line {exc.lineno})"
        ) from exc
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not defined:
        raise WfnbUsageError("the cell defines no function")
    target = name or defined[-1]
    if target not in defined:
        raise WfnbUsageError(f"the cell defines no function named {target!r}")
    shell = magics.shell
    assert shell is not None  # a magic always runs inside a shell
    result = shell.run_cell(cell, silent=True)
    if not result.success:
        err = result.error_in_exec or result.error_before_exec
        raise WfnbUsageError(f"the cell failed: {type(err).__name__}: {err}")
    fn = shell.user_ns[target]
    magics.session.use_cases[target] = fn
    return fn  # type: ignore[no-any-return]
