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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from wfnb.exceptions import UnknownWorkflowError, WfnbError, WfnbUsageError

if TYPE_CHECKING:
    from wfnb.spec import Workflow, Workflows

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


DEFAULT_FOLDER = "workflows"


def _workflows(paths: Sequence[str]) -> Workflows:
    """The workflows at ``paths`` (default: ``workflows/`` here), validated."""
    from wfnb.validation import load_workflows  # noqa: PLC0415

    if not paths:
        if not Path(DEFAULT_FOLDER).is_dir():
            raise WfnbUsageError(f"no workflow PATH given and no {DEFAULT_FOLDER}/ folder here")
        paths = [DEFAULT_FOLDER]
    return load_workflows(list(paths))


def _named(wfs: Workflows, name: str) -> Workflow:
    if name not in wfs:
        known = ", ".join(sorted(wfs)) or "none"
        raise UnknownWorkflowError(f"unknown workflow {name!r}; loaded: {known}", workflow=name)
    return wfs[name]


def _write_or_print(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(output, file=sys.stderr)
    else:
        print(text)


def _cmd_graph(args: argparse.Namespace) -> int:
    from wfnb.analysis import diagram  # noqa: PLC0415

    wf = _named(_workflows(args.paths), args.name)
    drawn = diagram(wf, focus=args.focus, depth=args.depth, requester_type=args.requester)
    formats = {"svg": drawn.svg, "dot": lambda: drawn.dot, "mermaid": drawn.mermaid}
    _write_or_print(formats[args.format](), args.output)
    return EXIT_OK


def _cmd_paths(args: argparse.Namespace) -> int:
    from wfnb.analysis import paths  # noqa: PLC0415

    print(paths(_named(_workflows(args.paths), args.name), args.requester))
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from wfnb.analysis import diff, diff_revisions  # noqa: PLC0415

    files, revs = args.files, args.rev or []
    if len(files) == 2 and not revs:
        changes = diff(files[0], files[1], db=args.db)
    elif len(files) == 1 and 1 <= len(revs) <= 2:
        changes = diff_revisions(files[0], revs[0], revs[1] if len(revs) == 2 else None, db=args.db)
    else:
        raise WfnbUsageError(
            "wfnb diff: give OLD NEW (two files), or one FILE with --rev A [--rev B]"
        )
    print(changes)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from wfnb.analysis.report import report  # noqa: PLC0415

    print(report(_workflows(args.paths), args.output, db=args.db, now=args.now))
    return EXIT_OK


def _cmd_conformance(args: argparse.Namespace) -> int:
    from wfnb.analysis.conformance import conformance  # noqa: PLC0415

    result = conformance(args.db, _workflows(args.paths), now=args.now)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2, default=str))
    else:
        print(result)
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def _cmd_worker(args: argparse.Namespace) -> int:
    from wfnb.timers import worker_main  # noqa: PLC0415  # procrastinate only when used

    paths = list(args.paths) or ([DEFAULT_FOLDER] if Path(DEFAULT_FOLDER).is_dir() else [])
    if not paths:
        raise WfnbUsageError(f"no workflow PATH given and no {DEFAULT_FOLDER}/ folder here")
    argv = ["--db", args.db, "--poll-interval", str(args.poll_interval)]
    argv += [a for p in paths for a in ("--workflows", p)]
    argv += ["--recovery-interval", str(args.recovery_interval)]
    argv += ["--stalled-after", str(args.stalled_after)]
    argv += ["--recovery-cron", args.recovery_cron] if args.recovery_cron is not None else []
    argv += ["--janitors", args.janitors] if args.janitors else []
    argv += ["--once"] if args.once else []
    argv += ["--install"] if args.install else []
    argv += ["--allow-undeclared-statuses"] if args.allow_undeclared_statuses else []
    argv += ["--log-format", args.log_format]
    return worker_main.main(argv)


def _cmd_demo(args: argparse.Namespace) -> int:
    from wfnb.simulation import build_demo  # noqa: PLC0415

    report = build_demo(
        args.db, seed=args.seed, months=args.months, users=args.users, progress=not args.quiet
    )
    print(repr(report))
    print(report.simulation)
    return EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    import sqlalchemy as sa  # noqa: PLC0415

    from wfnb import testing  # noqa: PLC0415
    from wfnb.simulation import simulate  # noqa: PLC0415
    from wfnb.timers.worker_main import load_factory  # noqa: PLC0415

    wfs = _workflows(args.paths)
    engine = sa.create_engine(args.db)
    try:
        if args.schema:
            load_factory(args.schema)(engine)  # type: ignore[arg-type]
        if args.create_tables:
            existing = set(sa.inspect(engine).get_table_names())
            for wf in wfs.values():
                if wf.entity.table not in existing:
                    testing.create_entity_table(engine, wf)
    finally:
        engine.dispose()
    report = simulate(
        args.db,
        wfs,
        args.scenario,
        entities=args.entities,
        until=timedelta(days=args.days),
        seed=args.seed,
        progress=not args.quiet,
    )
    print(report)
    return EXIT_OK


Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {
    "validate": _cmd_validate,
    "schema": _cmd_schema,
    "graph": _cmd_graph,
    "paths": _cmd_paths,
    "diff": _cmd_diff,
    "report": _cmd_report,
    "conformance": _cmd_conformance,
    "worker": _cmd_worker,
    "demo": _cmd_demo,
    "simulate": _cmd_simulate,
}

_PATHS_HELP = f"workflow JSON files or folders (default: {DEFAULT_FOLDER}/)"


def _add_analysis(sub: argparse._SubParsersAction[_Parser]) -> None:
    """The reviewers' commands: graph, paths, diff, report, conformance."""
    p = sub.add_parser("graph", help="draw a workflow (SVG, DOT or Mermaid)")
    p.add_argument("name", help="the workflow's name")
    p.add_argument("paths", nargs="*", help=_PATHS_HELP)
    p.add_argument("--format", choices=["svg", "dot", "mermaid"], default="svg")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.add_argument("--focus", help="draw only the statuses around this one")
    p.add_argument("--depth", type=int, default=1, help="radius around --focus (default 1)")
    p.add_argument("--requester", help="draw only what this requester type can trigger")

    p = sub.add_parser("paths", help="reachability, dead ends, cycles, paths to terminals")
    p.add_argument("name", help="the workflow's name")
    p.add_argument("paths", nargs="*", help=_PATHS_HELP)
    p.add_argument("--requester", help="follow only what this requester type can trigger")

    p = sub.add_parser("diff", help="what changed between two versions of a workflow")
    p.add_argument("files", nargs="+", metavar="FILE", help="OLD NEW, or one FILE with --rev")
    p.add_argument("--rev", action="append", help="a git revision (give one or two)")
    p.add_argument("--db", help="count the entities a migration moves (SQLAlchemy URL)")

    p = sub.add_parser("report", help="write the self-contained HTML report for reviewers")
    p.add_argument("paths", nargs="*", help=_PATHS_HELP)
    p.add_argument("-o", "--output", default="report.html", help="default: report.html")
    p.add_argument("--db", help="add the conformance of this database's history")
    p.add_argument("--now", type=_moment, help=_NOW_HELP)

    p = sub.add_parser("conformance", help="check recorded history against the configs")
    p.add_argument("paths", nargs="*", help=_PATHS_HELP)
    p.add_argument("--db", required=True, help="the database (SQLAlchemy URL)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--now", type=_moment, help=_NOW_HELP)


_NOW_HELP = (
    "judge timers and claims at this moment: an ISO date/datetime (naive = UTC), 'end' (the "
    "last history row) or 'wall' (the clock); default: 'end' for the demo, else the clock"
)


def _moment(text: str) -> datetime | str:
    """``--now``: an ISO date or datetime (naive means UTC), ``end`` or ``wall``."""
    if text in {"end", "wall"}:
        return text
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or datetime: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
    _add_analysis(sub)

    p = sub.add_parser("worker", help="run due timers and claim recovery (PostgreSQL)")
    p.add_argument("paths", nargs="*", help=_PATHS_HELP)
    p.add_argument("--db", required=True, help="the PostgreSQL database (SQLAlchemy URL)")
    p.add_argument("--janitors", help="module:function returning {owning_module: janitor}")
    p.add_argument(
        "--recovery-interval",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="seconds between recovery passes (stalled jobs, lost timers); 0 disables",
    )
    p.add_argument(
        "--stalled-after",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a worker silent this long is dead and its jobs are retried (same on every worker)",
    )
    p.add_argument("--recovery-cron", help="the recovery pass on a cron instead; '' disables it")
    p.add_argument("--poll-interval", type=float, default=5.0, help="seconds")
    p.add_argument("--install", action="store_true", help="install the queue's schema first")
    p.add_argument(
        "--allow-undeclared-statuses",
        action="store_true",
        help="start although entities sit at statuses their workflow does not declare "
        "(WF112); each is logged as a WARNING",
    )
    p.add_argument("--once", action="store_true", help="stop when no job is due")
    p.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="json: one JSON object per line on stdout; text: lines on stderr",
    )
    _add_simulation(sub)
    return parser


def _add_simulation(sub: argparse._SubParsersAction[_Parser]) -> None:
    """The demo dataset and the simulation harness."""
    p = sub.add_parser("demo", help="build the energy-community demo dataset (~6 months)")
    p.add_argument("--db", default="sqlite:///demo.db", help="an empty database (URL)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--months", type=int, default=6)
    p.add_argument("--users", type=int, default=3000)
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("simulate", help="drive entities through workflows on a virtual clock")
    p.add_argument("paths", nargs="*", help=_PATHS_HELP)
    p.add_argument("--db", required=True, help="the database to fill (URL)")
    p.add_argument("--scenario", required=True, help="the scenario (a JSON file)")
    p.add_argument("--schema", help="module:function(engine) creating the entity tables")
    p.add_argument(
        "--create-tables", action="store_true", help="create minimal entity tables that are missing"
    )
    p.add_argument("--entities", type=int, help="arrivals per workflow")
    p.add_argument("--days", type=float, default=30.0, help="virtual days to simulate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


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
