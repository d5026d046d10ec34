"""The ``%wfnb`` argument parser: one subparser per command, typed arguments, no SystemExit."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from IPython.core.magic_arguments import MagicArgumentParser

__all__ = ["build_parser", "json_object", "moment"]


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

    p = sub.add_parser("explain", help="which step would run for an entity, and why (no writes)")
    p.add_argument("workflow")
    p.add_argument("entity")
    p.add_argument("requester")
    p.add_argument("--step")
    p.add_argument("--tenant")

    p = sub.add_parser("graph", help="draw a workflow (a Diagram)")
    p.add_argument("workflow")
    p.add_argument("--focus", help="only the statuses around this one")
    p.add_argument("--depth", type=int, default=1)
    p.add_argument("--requester", help="the graph this requester type sees")
    p.add_argument("--heat", action="store_true", help="overlay counts from history")

    p = sub.add_parser("paths", help="reachability, dead ends, cycles, paths to terminals")
    p.add_argument("workflow")
    p.add_argument("--requester", help="what this requester type alone can reach")

    p = sub.add_parser("diff", help="what changed between two workflow versions")
    p.add_argument("old", help="a workflow file (or the file, with --rev twice)")
    p.add_argument("new", nargs="?", help="the newer workflow file")
    p.add_argument("--rev", action="append", default=[], help="git revision (give two)")
    p.add_argument("--db", action="store_true", help="count entities to migrate")
    _add_data_commands(sub)
    return parser


def _add_data_commands(sub: Any) -> None:
    """The analyst's and engineer's commands: history, failures, conformance, dryrun."""
    for name, what in (("history", "workflow_history"), ("failures", "the failure log")):
        p = sub.add_parser(name, help=f"rows of {what} as a DataFrame (filters run in SQL)")
        p.add_argument("--workflow")
        p.add_argument("--entity")
        p.add_argument("--tenant")
        p.add_argument("--since", type=moment, help="ISO date or datetime")
        p.add_argument("--until", type=moment, help="ISO date or datetime")
        p.add_argument("--step")
        p.add_argument("--limit", type=int, help="at most N rows, the newest (default: row_limit)")
        p.add_argument("--all", action="store_true", help="every row, whatever row_limit says")
        p.add_argument("--user", help="only rows of this user_id")
        if name == "history":
            p.add_argument("--kind")
            p.add_argument("--status", help="rows that entered this status")
        else:
            p.add_argument("--code", help="the use case's error code")

    p = sub.add_parser("conformance", help="history against the config in force at each row")
    p.add_argument("workflow", nargs="?", help="only this workflow's deviations")
    p.add_argument("--now", type=moment, help="judge overdue timers at this moment")

    p = sub.add_parser("dryrun", help="run a step in a sandbox; the source is never written")
    p.add_argument("workflow")
    p.add_argument("entity")
    p.add_argument("requester")
    p.add_argument("--step", help="a step key, or a JSON object for a step not yet in the config")
    p.add_argument("--data", type=json_object, help="the payload, a JSON object")
    p.add_argument("--tenant")


def moment(text: str) -> datetime:
    """An ISO date or datetime argument, as an aware datetime (naive means UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or datetime: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def json_object(text: str) -> dict[str, Any]:
    """A JSON object argument (a payload or a step given inline)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc.msg}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"not a JSON object: {text!r}")
    return value
