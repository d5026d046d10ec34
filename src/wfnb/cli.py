"""The ``wfnb`` command line: argument parsing and a router to small command functions.

Exit codes: 0 ok, 1 problems found (or a wfnb error), 2 usage error. No input, however
bad, prints a traceback: errors are one line with their code (``WFNB_DEBUG=1`` shows the
traceback of an unexpected internal error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import NoReturn

from wfnb.exceptions import WfnbError, WfnbUsageError

__all__ = ["COMMANDS", "main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns every exit code."""

    def error(self, message: str) -> NoReturn:
        raise WfnbUsageError(f"{self.prog}: {message}")


def _cmd_validate(args: argparse.Namespace) -> int:
    from wfnb.validation import validate  # noqa: PLC0415  # keep `wfnb --help` fast

    report = validate(args.paths, db=args.db)
    if args.format == "json":
        print(json.dumps({"ok": report.ok, "problems": report.to_json()}, indent=2))
    else:
        for problem in report.problems:
            print(problem.one_line())
        summary = f"{len(report.workflows)} workflow(s), {len(report.errors)} error(s), "
        print(summary + f"{len(report.warnings)} warning(s)", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _cmd_schema(args: argparse.Namespace) -> int:
    from wfnb.spec import schema  # noqa: PLC0415

    text = json.dumps(schema(), indent=2, sort_keys=True)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:  # noqa: PTH123  # a CLI path
            fh.write(text + "\n")
    else:
        print(text)
    return EXIT_OK


Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {"validate": _cmd_validate, "schema": _cmd_schema}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = _Parser(prog="wfnb", description="Entity-is-state workflows: check, run, review.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="validate workflow files or folders")
    p.add_argument("paths", nargs="+", help="workflow JSON files or folders")
    p.add_argument("--db", help="also check a live database (SQLAlchemy URL): WF112")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = sub.add_parser("schema", help="print the JSON Schema of a workflow file")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (``python -m wfnb`` exits with it)."""
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except WfnbUsageError as exc:
        print(exc.one_line(), file=sys.stderr)
        return EXIT_USAGE
    except WfnbError as exc:
        print(exc.one_line(), file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001  # the last line of defence: never a traceback
        if os.environ.get("WFNB_DEBUG"):
            traceback.print_exc()
        print(f"WF000: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
