"""The ``%wfnb`` argument parser: one subparser per command, typed arguments, help as text.

Errors raise IPython's ``UsageError`` and ``--help`` raises :class:`HelpRequested` carrying
the help text (never ``SystemExit``, never printed by argparse itself): the magic decides
how to show it. :data:`COMMANDS` is the one list of commands with their one-line purpose;
``%wfnb help`` prints it and the README repeats it (a test keeps them equal).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any, NoReturn

from IPython.core.error import UsageError

from wfnb.arguments import moment_type, whole_type
from wfnb.suggest import did_you_mean, history_kind

__all__ = [
    "CELL_MAGICS",
    "COMMANDS",
    "HelpRequested",
    "PlainText",
    "build_parser",
    "check_window",
    "json_object",
    "moment",
    "overview",
    "positive_int",
]

COMMANDS: dict[str, tuple[str, str]] = {
    "connect": ("URL", "use an existing database (SQLAlchemy URL)"),
    "load": ("PATH...", "load and validate workflow files or folders"),
    "validate": ("[PATH...] [--db]", "validate workflows; a ValidationReport"),
    "explain": ("WORKFLOW ENTITY REQUESTER", "which step would run for an entity, and why"),
    "graph": ("WORKFLOW", "draw a workflow (a Diagram)"),
    "paths": ("WORKFLOW", "reachability, dead ends, cycles, routes to final statuses"),
    "diff": ("OLD NEW | FILE --rev A --rev B", "what changed between two workflow versions"),
    "history": ("[filters]", "workflow_history rows as a DataFrame, filtered in SQL"),
    "failures": ("[filters]", "permanent failure log rows as a DataFrame, filtered in SQL"),
    "conformance": ("[WORKFLOW]", "history against the config in force at each row"),
    "discover": ("[WORKFLOW] [--overlay]", "the directly-follows graph of what happened"),
    "variants": ("[WORKFLOW] [--limit N]", "the distinct paths entities took, most frequent first"),
    "explore": ("[WORKFLOW]", "the interactive explorer: click statuses, entities, edges"),
    "dryrun": ("WORKFLOW ENTITY REQUESTER", "run a step in a sandbox; the source is untouched"),
    "export": ("FILE [--format F]", "write the history as an event log (XES, OCEL, CSV, Parquet)"),
    "import": ("FILE [--mapping M]", "load an event log into the connected database"),
    "help": ("[COMMAND]", "this list, or one command's options"),
}
"""Every ``%wfnb`` command: its arguments in short, and its one-line purpose."""

CELL_MAGICS: dict[str, tuple[str, str]] = {
    "wfnb_usecase": ("[NAME]", "the cell's function replaces a use case in dry-runs"),
}
"""The cell magics, likewise."""


class HelpRequested(Exception):  # noqa: N818  # a signal, not an error
    """``--help`` was given: carries the help text to show instead of running a command."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class PlainText:
    """Help or a message shown as plain text in a cell (never as an escaped Python string)."""

    def __init__(self, text: str) -> None:
        self.text = text.rstrip() + "\n"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text.rstrip("\n"))


def overview() -> str:
    """What ``%wfnb`` and ``%wfnb help`` print: every magic with its one-line purpose."""
    lines = magic_lines()
    return "\n".join(
        [
            "wfnb workflow tools (line magic %wfnb, cell magic %%wfnb_usecase)",
            "",
            *lines,
            "",
            "%wfnb help COMMAND or %wfnb COMMAND --help shows a command's options.",
        ]
    )


def magic_lines() -> list[str]:
    """One line per magic: ``%wfnb NAME ARGS`` then its purpose (the README lists the same)."""
    calls = [(f"%wfnb {n} {a}", why) for n, (a, why) in COMMANDS.items()]
    calls += [(f"%%{n} {a}", why) for n, (a, why) in CELL_MAGICS.items()]
    width = max(len(call) for call, _ in calls)
    return [f"  {call.ljust(width)}  {why}" for call, why in calls]


class _Parser(argparse.ArgumentParser):
    """argparse that raises ``UsageError`` and hands ``--help`` text back as an exception."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(**kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")

    def print_help(self, file: Any = None) -> NoReturn:
        raise HelpRequested(self.format_help())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or f"{self.prog}: exit {status}")


def build_parser() -> argparse.ArgumentParser:
    """One parser, a subparser per command; errors raise UsageError (never SystemExit)."""
    parser = _Parser(prog="%wfnb", description="wfnb workflow tools")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def add(name: str, description: str = "") -> argparse.ArgumentParser:
        why = COMMANDS[name][1]
        text = why[0].upper() + why[1:] + "." + (f"\n\n{description}" if description else "")
        return sub.add_parser(name, help=why, description=text)

    p = add("help", "%wfnb help COMMAND shows that command's options.")
    p.add_argument("topic", nargs="?", metavar="COMMAND", help="a command's name")

    p = add("connect", "The database must exist: nothing is created.")
    p.add_argument("url", help="e.g. sqlite:///demo.db or postgresql://user@host/db")

    p = add("load")
    p.add_argument("paths", nargs="+", metavar="PATH", help="workflow JSON files or folders")

    p = add("validate")
    p.add_argument("paths", nargs="*", metavar="PATH", help="default: the loaded paths")
    p.add_argument("--db", action="store_true", help="also check the connected database")

    p = add("explain", "No writes: the entity is read, nothing else.")
    p.add_argument("workflow")
    p.add_argument("entity", help="the entity's id")
    p.add_argument("requester", help="the requester type")
    p.add_argument("--step", help="ask about this step only")
    p.add_argument("--tenant", help="read as this tenant")

    p = add("graph")
    p.add_argument("workflow")
    p.add_argument("--focus", help="only the statuses around this one")
    p.add_argument(
        "--depth", type=whole_type(0), default=1, help="radius around --focus (default 1)"
    )
    p.add_argument("--requester", help="the graph this requester type sees")
    p.add_argument("--heat", action="store_true", help="overlay counts from history")
    p.add_argument("--since", type=moment, help="--heat: history from this ISO date/datetime")
    p.add_argument("--until", type=moment, help="--heat: history before this ISO date/datetime")
    p.add_argument(
        "--tenant",
        help="as this tenant runs it (its overlay merged in); with --heat, its history only",
    )

    p = add("paths")
    p.add_argument("workflow")
    p.add_argument("--requester", help="what this requester type alone can reach")
    p.add_argument("--tenant", help="as this tenant runs it (its overlay merged in)")

    p = add("diff")
    p.add_argument("old", help="a workflow file (or the file, with --rev twice)")
    p.add_argument("new", nargs="?", help="the newer workflow file")
    p.add_argument("--rev", action="append", default=[], help="git revision (give two)")
    p.add_argument("--db", action="store_true", help="count entities to migrate")
    p.add_argument(
        "--tenant", help="OLD (a loaded workflow or a file) against the config this tenant runs"
    )
    _add_data_commands(add)
    from wfnb.jupyter.discovery import add_discovery_commands  # noqa: PLC0415  # its routes too

    add_discovery_commands(add)
    from wfnb.jupyter.explore.magic import add_explore_command  # noqa: PLC0415  # its route too

    add_explore_command(add)
    return parser


def _add_data_commands(add: Any) -> None:
    """The analyst's and engineer's commands: history, failures, conformance, dryrun."""
    for name in ("history", "failures"):
        p = add(
            name,
            "Newest first. --limit N (default: the row_limit option; 0 means every row) or --all.",
        )
        p.add_argument("--workflow")
        p.add_argument("--entity", help="one entity's id")
        p.add_argument("--tenant")
        p.add_argument("--user", help="rows written by this user id")
        p.add_argument("--since", type=moment, help="ISO date or datetime (from; naive = UTC)")
        p.add_argument("--until", type=moment, help="ISO date or datetime (before; naive = UTC)")
        p.add_argument("--step", help="a step key")
        group = p.add_mutually_exclusive_group()
        group.add_argument(
            "--limit", type=positive_int, help="default: the row_limit option; 0: every row"
        )
        group.add_argument("--all", action="store_true", help="every matching row")
        if name == "history":
            p.add_argument(
                "--kind", type=history_kind, help="initiated, rejected, observed, timer, ..."
            )
            p.add_argument("--status", help="rows that entered this status")
        else:
            p.add_argument("--code", help="the use case's error code")

    p = add("conformance")
    p.add_argument("workflow", nargs="?", help="only this workflow's deviations")
    p.add_argument("--now", type=moment, help="judge overdue timers at this moment")
    p.add_argument(
        "--incremental",
        action="store_true",
        help="judge only rows after the last run's checkpoint (same report; ADR 0112)",
    )

    p = add("dryrun", "Runs the step in a sandbox copy; the source database is never written.")
    p.add_argument("workflow")
    p.add_argument("entity", help="the entity's id")
    p.add_argument("requester", help="the requester type")
    p.add_argument("--step", help="a step key, or a JSON object for a step not yet in the config")
    p.add_argument("--data", type=json_object, help="the payload, a JSON object")
    p.add_argument("--tenant")
    p.add_argument(
        "--tables",
        type=_table_names,
        default=(),
        metavar="T1,T2",
        help="module tables to copy into the sandbox whole (found by themselves if omitted)",
    )
    p.add_argument("--now", type=moment, help="run the step at this moment (default: now)")
    from wfnb.jupyter.eventlog_magics import add_eventlog_magics  # noqa: PLC0415  # a cycle

    add_eventlog_magics(add)


def _table_names(text: str) -> tuple[str, ...]:
    """``--tables a,b``: the comma-separated table names, blanks dropped."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError("name at least one table: --tables T1,T2")
    return names


def command_help(parser: argparse.ArgumentParser, name: str | None) -> str:
    """The overview (no name) or one command's help; an unknown name is a usage error."""
    if name is None:
        return overview()
    check_command(name)
    try:
        parser.parse_args([name, "--help"])
    except HelpRequested as shown:
        return shown.text
    raise AssertionError  # pragma: no cover - --help always raises HelpRequested


def check_command(name: str) -> None:
    """A usage error naming the closest commands when ``name`` is not one."""
    if name not in COMMANDS:
        hint = did_you_mean(name, COMMANDS)
        raise UsageError(f"unknown command {name!r}{hint} (%wfnb help lists the commands)")


def check_window(args: argparse.Namespace) -> None:
    """``--since`` must not be after ``--until``."""
    since, until = getattr(args, "since", None), getattr(args, "until", None)
    if since is not None and until is not None and since > until:
        raise UsageError(
            f"--since {since.isoformat()} is after --until {until.isoformat()}: no row can match"
        )


def positive_int(text: str) -> int:
    """A count of rows: a whole number from 0 to ``MAX_WHOLE`` (0: every row, as --all)."""
    return whole_type(0, hint=" (0 or --all for every row)")(text)


def moment(text: str) -> datetime:
    """An ISO date or datetime argument, as an aware UTC datetime (naive means UTC).

    Strict: ``T`` or a space between date and time, an offset needs a time and is
    converted to UTC (the CLI parses the same way, :mod:`wfnb.arguments`).
    """
    return moment_type(text)


def json_object(text: str) -> dict[str, Any]:
    """A JSON object argument (a payload or a step given inline)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc.msg}): {text!r}") from None
    except RecursionError:
        raise argparse.ArgumentTypeError("JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"not a JSON object: {text!r}")
    return value
