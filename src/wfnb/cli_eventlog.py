"""``wfnb export`` and ``wfnb import``: the history as an event log, and back (ADR 0120).

``wfnb export --db URL -o FILE`` writes XES (``.xes``, ``.xes.gz``), OCEL 2.0 (``.json``),
CSV or Parquet, chosen by the file name or ``--format``; ``wfnb import LOG [PATH...] --db
URL --workflow NAME`` loads one into the history and the entity tables in one
transaction. Arguments are checked before the database is touched (WF400); a malformed
log is one WF401 line with its position, and nothing is written. The report line is
printed on stdout.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from wfnb.arguments import moment_type as moment
from wfnb.cli_checks import check_output, database_to_fill, existing_database
from wfnb.cli_common import named
from wfnb.exceptions import WfnbUsageError

__all__ = ["add_eventlog_commands", "cmd_export", "cmd_import"]

_FORMATS = ("xes", "ocel2", "csv", "parquet")


def add_eventlog_commands(sub: Any, paths_help: str) -> None:
    """The ``export`` and ``import`` subcommands."""
    p = sub.add_parser(
        "export",
        help="write the history as an event log (XES, OCEL 2.0, CSV, Parquet)",
        description="Write workflow_history as an event log: a case per entity, an event "
        "per row. The format follows the file name (.xes, .xes.gz, .json, .csv, .csv.gz, "
        ".parquet) unless --format says.",
    )
    p.add_argument("paths", nargs="*", default=[], help=paths_help + "; for entity columns")
    p.add_argument("--db", required=True, help="the database (SQLAlchemy URL); never created")
    p.add_argument("-o", "--output", required=True, help="the file to write")
    p.add_argument("--format", choices=_FORMATS, help="default: from the file name")
    p.add_argument(
        "--workflow", action="append", default=None, help="one workflow's rows (repeatable)"
    )
    p.add_argument("--since", type=moment, help="rows from this ISO date or datetime (UTC)")
    p.add_argument("--until", type=moment, help="rows before this ISO date or datetime (UTC)")
    p.add_argument("--tenant", help="one tenant's rows")
    p.add_argument(
        "--activity",
        choices=["status", "step"],
        default="status",
        help="what concept:name holds: the status entered (default) or the step key",
    )

    p = sub.add_parser(
        "import",
        help="load an event log (XES, OCEL 2.0, CSV, Parquet) into the history",
        description="Load an event log into workflow_history and the entity tables, in one "
        "transaction: a malformed file is one WF401 line with its position, nothing written.",
    )
    p.add_argument("log", help="the event log file")
    p.add_argument("paths", nargs="*", default=[], help=paths_help)
    p.add_argument("--db", required=True, help="the database (a new SQLite file is created)")
    p.add_argument(
        "--workflow",
        action="append",
        default=None,
        help="the workflow the cases belong to (repeatable; default: every loaded one)",
    )
    p.add_argument("--mapping", help="a LogMapping as a JSON object or a JSON file")
    p.add_argument("--format", choices=_FORMATS, help="default: from the file name")


def _check_window(args: argparse.Namespace) -> None:
    if args.since is not None and args.until is not None and args.since > args.until:
        raise WfnbUsageError(
            f"--since {args.since.isoformat()} is after --until {args.until.isoformat()}"
        )


def _pick(wfs: Any, names: list[str] | None) -> list[Any]:
    if names is None:
        return list(wfs.values())
    return [named(wfs, n) for n in names]  # WF200 naming the closest


def cmd_export(args: argparse.Namespace, workflows: Callable[[], Any]) -> int:
    """``wfnb export``: write the event log; prints what was written."""
    from wfnb.eventlog import export_log, format_of  # noqa: PLC0415

    _check_window(args)
    format_of(args.output, args.format)  # a name that says no format is WF400 up front
    check_output(args.output)
    existing_database(args.db)
    wfs = workflows() if args.paths else None
    report = export_log(
        args.db,
        args.output,
        workflow=args.workflow,
        since=args.since,
        until=args.until,
        tenant_id=args.tenant,
        format=args.format,
        activity=args.activity,
        wfs=wfs,
    )
    print(report)  # the CLI prints by design
    return 0


def cmd_import(args: argparse.Namespace, workflows: Callable[[], Any]) -> int:
    """``wfnb import``: load the event log; prints what was imported."""
    from wfnb.eventlog import LogMapping, format_of, import_log  # noqa: PLC0415

    format_of(args.log, args.format)
    mapping = LogMapping.of(args.mapping)
    wfs = workflows()
    chosen = _pick(wfs, args.workflow)
    database_to_fill(args.db, create=True)
    report = import_log(
        args.log, args.db, workflow=chosen, mapping=mapping, wfs=wfs, format=args.format
    )
    print(report)
    return 0
