"""``wfnb graph``, ``paths``, ``diff``, ``report`` and ``conformance``: the reviewers' commands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from wfnb.arguments import moment_type
from wfnb.cli_checks import check_output, check_workflow_paths, count, existing_database
from wfnb.cli_common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    PATHS_HELP,
    TENANT_HELP,
    Subparsers,
    load_workflows_at,
    named,
    one_of,
)
from wfnb.exceptions import WfnbUsageError
from wfnb.suggest import did_you_mean

__all__ = ["ANALYSIS_COMMANDS", "NOW_HELP", "add_analysis_commands", "moment"]

_SUFFIX = {"svg": ".svg", "png": ".png", "dot": ".dot", "mermaid": ".mmd"}


def _cmd_graph(args: argparse.Namespace) -> int:
    from wfnb.analysis import diagram  # noqa: PLC0415
    from wfnb.analysis.render import render  # noqa: PLC0415

    wf = named(load_workflows_at(args.paths), args.name)
    one_of(args.focus, wf.status_types, f"{wf.name} has no status")
    one_of(args.requester, wf.requester_types, f"{wf.name} has no requester type")
    output = args.output or f"{wf.name}{_SUFFIX[args.format]}"
    if output == "-" and args.format == "png":
        raise WfnbUsageError("PNG is binary: write it to a file (-o NAME.png), not to stdout")
    target = None if output == "-" else check_output(output)
    drawn = diagram(
        wf, focus=args.focus, depth=args.depth, requester_type=args.requester, tenant=args.tenant
    )
    if args.format == "png":
        data = render(drawn.dot, "png")
        assert target is not None  # refused above
        target.write_bytes(data)
    else:
        formats = {"svg": drawn.svg, "dot": lambda: drawn.dot, "mermaid": drawn.mermaid}
        text = formats[args.format]()
        if target is None:
            print(text)
            return EXIT_OK
        target.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    print(target)
    return EXIT_OK


def _cmd_paths(args: argparse.Namespace) -> int:
    from wfnb.analysis import paths  # noqa: PLC0415

    wf = named(load_workflows_at(args.paths), args.name)
    one_of(args.requester, wf.requester_types, f"{wf.name} has no requester type")
    print(paths(wf.for_tenant(args.tenant), args.requester))
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from wfnb.analysis import diff, diff_revisions, diff_tenant  # noqa: PLC0415
    from wfnb.analysis.diff import with_overlays  # noqa: PLC0415

    files, revs = args.files, args.rev or []
    db = existing_database(args.db) if args.db else None
    check_workflow_paths(files)
    if args.tenant is not None:
        if len(files) != 1 or revs:
            raise WfnbUsageError("wfnb diff --tenant: give one FILE (its folder's tenants/)")
        wf = with_overlays(files[0])
        overlaid = sorted(wf.tenant_configs)
        if args.tenant not in overlaid:
            hint = did_you_mean(args.tenant, overlaid)
            raise WfnbUsageError(
                f"wfnb diff --tenant: no overlay for tenant {args.tenant!r} of {wf.name}{hint} "
                f"(tenants with an overlay: {', '.join(overlaid) or 'none'})"
            )
        changes = diff_tenant(wf, args.tenant, db=db)
    elif len(files) == 2 and not revs:
        changes = diff(files[0], files[1], db=db)
    elif len(files) == 1 and 1 <= len(revs) <= 2:
        changes = diff_revisions(files[0], revs[0], revs[1] if len(revs) == 2 else None, db=db)
    else:
        raise WfnbUsageError(
            "wfnb diff: give OLD NEW (two files), or one FILE with --rev A [--rev B]"
        )
    print(changes)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from wfnb.analysis.report import report  # noqa: PLC0415

    db = existing_database(args.db) if args.db else None
    wfs = load_workflows_at(args.paths)
    target = check_output(args.output)
    print(report(wfs, target, db=db, now=args.now, tenant=args.tenant))
    return EXIT_OK


def _cmd_conformance(args: argparse.Namespace) -> int:
    from wfnb.analysis.conformance import conformance  # noqa: PLC0415

    wfs = load_workflows_at(args.paths)
    db = existing_database(args.db)
    result = conformance(db, wfs, now=args.now, incremental=args.incremental)
    _warn_before_history(args.db, args.now)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2, default=str))
    else:
        print(result)
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def _warn_before_history(db: str, now: datetime | str | None) -> None:
    """A warning on stderr when ``--now`` is before the first history row."""
    from wfnb import frames  # noqa: PLC0415

    if not isinstance(now, datetime):
        return
    first = frames.history(db, limit=1, newest_first=False, progress=False)
    if first.empty:
        return
    start = first["changed_at"].iloc[0].to_pydatetime()
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    if now < start:
        print(
            f"warning: --now {now.isoformat()} is before the first history row "
            f"({start.isoformat()}): timers and claims are judged before anything happened",
            file=sys.stderr,
        )


def add_analysis_commands(sub: Subparsers[Any]) -> None:
    """The reviewers' commands: graph, paths, diff, report, conformance."""
    p = sub.add_parser(
        "graph",
        help="draw a workflow into a file (SVG, PNG, DOT or Mermaid)",
        description="Draw a workflow into NAME.svg (or .png, .dot, .mmd) here, or -o PATH; "
        "-o - prints it. The file's path is printed.",
    )
    p.add_argument("name", help="the workflow's name")
    p.add_argument("paths", nargs="*", default=[], help=PATHS_HELP)
    p.add_argument("--format", choices=["svg", "png", "dot", "mermaid"], default="svg")
    p.add_argument(
        "-o", "--output", help="the file to write (default: NAME.svg here); - prints to stdout"
    )
    p.add_argument("--focus", help="draw only the statuses around this one")
    p.add_argument(
        "--depth", type=count, default=1, help="radius around --focus (0 or more, default 1)"
    )
    p.add_argument("--requester", help="draw only what this requester type can trigger")
    p.add_argument("--tenant", help=TENANT_HELP)

    p = sub.add_parser("paths", help="reachability, dead ends, cycles, paths to terminals")
    p.add_argument("name", help="the workflow's name")
    p.add_argument("paths", nargs="*", default=[], help=PATHS_HELP)
    p.add_argument("--requester", help="follow only what this requester type can trigger")
    p.add_argument("--tenant", help=TENANT_HELP)

    p = sub.add_parser("diff", help="what changed between two versions of a workflow")
    p.add_argument("files", nargs="+", metavar="FILE", help="OLD NEW, or one FILE with --rev")
    p.add_argument("--rev", action="append", help="a git revision (give one or two)")
    p.add_argument("--db", help="count the entities a migration moves (SQLAlchemy URL)")
    p.add_argument(
        "--tenant",
        help="compare FILE with the config this tenant runs (FILE's folder's "
        "tenants/TENANT/NAME.json merged in): exactly the values its overlay changes",
    )

    p = sub.add_parser("report", help="write the self-contained HTML report for reviewers")
    p.add_argument("paths", nargs="*", default=[], help=PATHS_HELP)
    p.add_argument("-o", "--output", default="report.html", help="default: report.html")
    p.add_argument("--db", help="add the conformance of this database's history")
    p.add_argument("--now", type=moment, help=NOW_HELP)
    p.add_argument("--tenant", help=TENANT_HELP)

    p = sub.add_parser("conformance", help="check recorded history against the configs")
    p.add_argument("paths", nargs="*", default=[], help=PATHS_HELP)
    p.add_argument("--db", required=True, help="the database (SQLAlchemy URL)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--now", type=moment, help=NOW_HELP)
    p.add_argument(
        "--incremental",
        action="store_true",
        help="judge only rows after the last run's checkpoint (same report; ADR 0112)",
    )


NOW_HELP = (
    "judge timers and claims at this moment: an ISO date/datetime (an offset is converted to "
    "UTC; naive = UTC), 'end' (the "
    "last history row) or 'wall' (the clock); default: 'end' for the demo, else the clock"
)


def moment(text: str) -> datetime | str:
    """``--now``: an ISO date or datetime (naive means UTC), ``end`` or ``wall``."""
    if text in {"end", "wall"}:
        return text
    return moment_type(text)


ANALYSIS_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "graph": _cmd_graph,
    "paths": _cmd_paths,
    "diff": _cmd_diff,
    "report": _cmd_report,
    "conformance": _cmd_conformance,
}
