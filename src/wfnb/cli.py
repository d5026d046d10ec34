"""The ``wfnb`` command line: argument parsing and a router to small command functions.

Exit codes: 0 ok, 1 problems found (or a wfnb error), 2 usage error. No input, however
bad, prints a traceback: errors are one line with their code (``WFNB_DEBUG=1`` shows the
traceback of an unexpected internal error), and a bad input creates nothing (inputs are
checked first, see :mod:`wfnb.cli_checks`). ``wfnb CMD --help`` prints a command's help.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from wfnb.cli_analysis import ANALYSIS_COMMANDS, add_analysis_commands
from wfnb.cli_checks import (
    check_output,
    check_workflow_paths,
    empty_folders,
    existing_database,
    family_line,
    one_line,
)
from wfnb.cli_common import (
    DEFAULT_FOLDER,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    PATHS_HELP,
    known_workflows,
    load_workflows_at,
)
from wfnb.cli_dashboard import add_dashboard_command, cmd_dashboard
from wfnb.cli_discover import add_discovery_commands, cmd_discover, cmd_variants
from wfnb.cli_eventlog import add_eventlog_commands, cmd_export, cmd_import
from wfnb.cli_logs import add_log_commands, cmd_failures, cmd_history
from wfnb.cli_outbox import add_outbox_command, cmd_outbox
from wfnb.cli_runtime import RUNTIME_COMMANDS, add_runtime_commands
from wfnb.exceptions import WfnbError, WfnbUsageError
from wfnb.suggest import did_you_mean

if TYPE_CHECKING:
    pass

__all__ = ["COMMANDS", "main"]


class _HelpShown(Exception):  # noqa: N818  # a signal, not an error
    """``--help`` was given; carries the text main() prints (exit 0)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns every exit code."""

    def error(self, message: str) -> NoReturn:
        raise WfnbUsageError(f"{self.prog}: {message}")

    def print_help(self, file: object = None) -> NoReturn:
        raise _HelpShown(self.format_help())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise WfnbUsageError(message or f"{self.prog}: exit {status}")


def _cmd_validate(args: argparse.Namespace) -> int:
    from wfnb.validation import validate  # noqa: PLC0415  # keep `wfnb --help` fast

    check_workflow_paths(args.paths)
    db = existing_database(args.db) if args.db else None
    report = validate(args.paths, db=db)
    empty = empty_folders(args.paths)  # a folder without workflows is a problem, not "ok"
    problems = [*empty, *report.problems]
    ok = report.ok and not empty
    if args.format == "json":
        listed = [p.as_dict() for p in empty] + list(report.to_json())
        print(json.dumps({"ok": ok, "problems": listed}, indent=2))
    else:
        for problem in problems:
            print(problem.one_line())
        errors = len(report.errors) + len(empty)
        summary = f"{len(report.workflows)} workflow(s), {errors} error(s), "
        print(summary + f"{len(report.warnings)} warning(s)", file=sys.stderr)
    return EXIT_OK if ok else EXIT_PROBLEMS


def _cmd_schema(args: argparse.Namespace) -> int:
    from wfnb.spec import schema  # noqa: PLC0415

    text = json.dumps(schema(), indent=2, sort_keys=True)
    if args.output:
        check_output(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return EXIT_OK


Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {
    "validate": _cmd_validate,
    "schema": _cmd_schema,
    **ANALYSIS_COMMANDS,
    **RUNTIME_COMMANDS,
    "history": lambda args: cmd_history(args, lambda: known_workflows(args.paths)),
    "failures": lambda args: cmd_failures(args, lambda: known_workflows(args.paths)),
    "outbox": cmd_outbox,
    "discover": lambda args: cmd_discover(args, lambda: known_workflows(args.paths)),
    "variants": cmd_variants,
    "export": lambda args: cmd_export(args, lambda: load_workflows_at(args.paths)),
    "import": lambda args: cmd_import(args, lambda: load_workflows_at(args.paths)),
    "dashboard": lambda args: cmd_dashboard(args, [DEFAULT_FOLDER]),
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = _Parser(prog="wfnb", description="Entity-is-state workflows: check, run, review.")
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )

    p = sub.add_parser("validate", help="validate workflow files or folders")
    p.add_argument("paths", nargs="+", help="workflow JSON files or folders")
    p.add_argument("--db", help="also check a live database (SQLAlchemy URL): WF112")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = sub.add_parser("schema", help="print the JSON Schema of a workflow file")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    add_analysis_commands(sub)

    add_runtime_commands(sub)
    add_outbox_command(sub)
    add_log_commands(sub, PATHS_HELP)
    add_discovery_commands(sub, PATHS_HELP)
    add_eventlog_commands(sub, PATHS_HELP)
    add_dashboard_command(sub, PATHS_HELP)
    return parser


def _check_command(argv: Sequence[str], commands: Sequence[str]) -> None:
    """An unknown first word is a usage error naming the closest commands."""
    if argv and not argv[0].startswith("-") and argv[0] not in commands:
        hint = did_you_mean(argv[0], commands)
        raise WfnbUsageError(f"wfnb: unknown command {argv[0]!r}{hint} (wfnb --help lists them)")


EXIT_PIPE = 141
"""Exit code when stdout's reader went away (as a shell reports SIGPIPE)."""


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (captured in tests): nothing will be flushed to a pipe


def _tolerant_streams() -> None:
    """Print any path (non-UTF-8 bytes included) instead of failing on it."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911  # one exit per outcome
    """Run the command line; returns the exit code (``python -m wfnb`` exits with it)."""
    _tolerant_streams()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        _check_command(argv, list(COMMANDS))
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except _HelpShown as shown:
        print(str(shown), end="")
        return EXIT_OK
    except WfnbUsageError as exc:
        print(exc.one_line(), file=sys.stderr)
        return EXIT_USAGE
    except WfnbError as exc:
        print(exc.one_line(), file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `wfnb history ... | head`: the reader left, nothing to say
        _silence_stdout()
        return EXIT_PIPE
    except Exception as exc:  # noqa: BLE001  # the last line of defence: never a traceback
        if os.environ.get("WFNB_DEBUG"):
            traceback.print_exc()
        coded = family_line(exc)
        if coded is not None:
            print(coded, file=sys.stderr)
            return EXIT_USAGE if coded.startswith("WF400") else EXIT_PROBLEMS
        print(f"WF000: internal error: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return EXIT_PROBLEMS
