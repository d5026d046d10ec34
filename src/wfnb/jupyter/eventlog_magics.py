"""``%wfnb export FILE`` and ``%wfnb import FILE``: event logs from a notebook (ADR 0120).

Thin: the arguments are parsed here and the work is ``wfnb.export_log`` /
``wfnb.import_log`` on the connected database and the loaded workflows; the cell shows
the report line. A bad argument is one WF400 line, a malformed log one WF401 line.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from wfnb.arguments import moment_type
from wfnb.jupyter.commands import route
from wfnb.jupyter.parser import PlainText

if TYPE_CHECKING:
    from wfnb.jupyter.magics import WfnbMagics

__all__ = ["add_eventlog_magics"]

_FORMATS = ("xes", "ocel2", "csv", "parquet")


def add_eventlog_magics(add: Any) -> None:
    """The ``export`` and ``import`` subparsers (``add`` is the parser's own helper)."""
    p = add(
        "export",
        "The format follows the file name (.xes, .xes.gz, .json, .csv, .parquet) unless "
        "--format says. The file is replaced only once complete.",
    )
    p.add_argument("file", help="the file to write")
    p.add_argument("--format", choices=_FORMATS)
    p.add_argument("--workflow", action="append", help="one workflow's rows (repeatable)")
    p.add_argument("--since", type=moment_type, help="ISO date or datetime (from; naive = UTC)")
    p.add_argument("--until", type=moment_type, help="ISO date or datetime (before)")
    p.add_argument("--tenant")
    p.add_argument("--activity", choices=["status", "step"], default="status",
                   help="concept:name: the status entered (default) or the step key")  # fmt: skip

    p = add(
        "import",
        "Into the connected database, for the loaded workflows, in one transaction: a "
        "malformed file is one WF401 line and nothing is written.",
    )
    p.add_argument("file", help="the event log")
    p.add_argument("--workflow", action="append", help="default: every loaded workflow")
    p.add_argument("--mapping", help="a LogMapping as a JSON object or a JSON file")
    p.add_argument("--format", choices=_FORMATS)


@route("export")
def _export(magics: WfnbMagics, args: argparse.Namespace) -> PlainText:
    from wfnb.eventlog import export_log, format_of  # noqa: PLC0415

    format_of(args.file, args.format)
    report = export_log(
        magics.session.history_engine(),
        args.file,
        workflow=args.workflow,
        since=args.since,
        until=args.until,
        tenant_id=args.tenant,
        format=args.format,
        activity=args.activity,
        wfs=magics.session.workflows,
    )
    return PlainText(str(report))


@route("import")
def _import(magics: WfnbMagics, args: argparse.Namespace) -> PlainText:
    from wfnb.eventlog import LogMapping, format_of, import_log  # noqa: PLC0415

    format_of(args.file, args.format)
    mapping = LogMapping.of(args.mapping)
    wfs = magics.session.require_workflows()
    chosen = [magics.session.workflow(n) for n in args.workflow or list(wfs)]
    report = import_log(
        args.file, magics.session.engine, workflow=chosen, mapping=mapping, format=args.format
    )
    return PlainText(str(report))
